"""One vocabulary across the layers (python/oxvec/_vocabulary.py): each
index type's Python class <-> spec type <-> Go package and type, each
parameter's keyword <-> spec key (and the old names still accepted), each
exception <-> status code <-> Go error class. Checked against the classes,
the header, the running engine and the Go source."""

import ctypes
import inspect
import json
import re

import numpy as np
import pytest

import oxvec
from oxvec import _capi, _errors
from oxvec._call import state
from oxvec._library import lib
from oxvec._vocabulary import ALIASES, ERRORS, HINTS, INDEX_TYPES, KNOBS, PARAMETERS, SPEC_KEYS, TYPE_KNOBS
from conftest import ROOT

DIM = 8
BY_TYPE = {spec_type: (cls_name, package, go_type) for cls_name, spec_type, package, go_type in INDEX_TYPES}
# the smallest working index of each type
MAKE = {
    "flat": {}, "hnsw": {}, "ivf_flat": {"nlist": 2}, "ivf_pq": {"nlist": 2, "m": 2, "nbits": 4},
    "pq": {"m": 2, "nbits": 4}, "sq": {}, "binary": {}, "opq": {"m": 2, "inner": {"type": "pq", "m": 2, "nbits": 4}},
    "lsh": {},
    "diskann": {"r": 4, "l_build": 8, "pq_bytes": 2},
}


def go_source(package: str) -> str:
    """The non-test Go source of core/<package>."""
    files = sorted((ROOT / "core" / package).glob("*.go"))
    return "\n".join(f.read_text() for f in files if not f.name.endswith("_test.go"))


def go_spec_keys(package: str) -> dict:
    """json key -> Go type of the fields of the package's Spec struct."""
    body = re.search(r"^type Spec struct \{\n(.*?)^\}", go_source(package), re.S | re.M)
    assert body, f"core/{package} has no Spec struct"
    return dict((key, typ) for typ, key in re.findall(r"^\s*\w+\s+(\S+)\s+`json:\"(\w+)", body.group(1), re.M))


def keywords(cls) -> list:
    """Constructor keywords beside dim, metric and the **metric parameters."""
    sig = inspect.signature(cls.__init__)
    return [p.name for p in sig.parameters.values()
            if p.name not in ("self", "dim", "metric") and p.kind is not p.VAR_KEYWORD]


def engine_error(spec: dict) -> str:
    st = state
    h = _capi.oxv_handle()
    rc = lib.oxv_index_new(json.dumps(spec).encode(), ctypes.addressof(h), st.err_addr)
    assert rc == _capi.OXV_E_INVALID, spec
    return st.err.message.decode()


def test_each_index_class_has_one_spec_type_and_go_package():
    exported = {n for n in oxvec.__all__ if isinstance(getattr(oxvec, n), type)
                and issubclass(getattr(oxvec, n), oxvec.Index) and getattr(oxvec, n) is not oxvec.Index}
    assert exported == {row[0] for row in INDEX_TYPES}
    assert len({row[1] for row in INDEX_TYPES}) == len({row[2] for row in INDEX_TYPES}) == len(INDEX_TYPES)
    registry = (ROOT / "core" / "indexes").glob("*.go")
    imported = set(re.findall(r'"github.com/oxvec/oxvec/core/(\w+)"', "\n".join(f.read_text() for f in registry)))
    for cls_name, spec_type, package, go_type in INDEX_TYPES:
        cls = getattr(oxvec, cls_name)
        assert cls.type_name == spec_type and oxvec.Index._types[spec_type] is cls
        src = go_source(package)
        assert re.search(rf'^const TypeName = "{spec_type}"$', src, re.M), (package, spec_type)
        assert re.search(rf"^type {go_type} struct", src, re.M), (package, go_type)
        assert package in imported, f"core/indexes does not register core/{package}"


def test_the_engine_knows_exactly_these_spec_types():
    message = engine_error({"type": "no_such_type", "dim": DIM})
    known = re.search(r"known: ([\w, ]+)", message).group(1).split(", ")
    assert sorted(known) == sorted(BY_TYPE)


@pytest.mark.parametrize("spec_type", sorted(BY_TYPE))
def test_keywords_are_the_spec_keys_of_the_go_spec(spec_type, monkeypatch):
    cls_name, package, _ = BY_TYPE[spec_type]
    cls = getattr(oxvec, cls_name)
    assert keywords(cls) == list(PARAMETERS[spec_type])
    renamed = SPEC_KEYS.get(spec_type, {})
    spec_keys = {renamed.get(k, k) for k in PARAMETERS[spec_type]}
    # the Go spec reads exactly these keys, and the old names
    assert set(go_spec_keys(package)) == spec_keys | set(ALIASES.get(spec_type, {}))
    # and Python sends them (the canonical names) when it builds an index
    sent = []
    real = lib.oxv_index_new

    def spy(spec, *rest):
        sent.append(json.loads(spec))
        return real(spec, *rest)

    monkeypatch.setattr(lib, "oxv_index_new", spy)
    cls(DIM, **MAKE[spec_type]).close()
    assert set(sent[0]) == {"type", "dim", "metric"} | spec_keys and sent[0]["type"] == spec_type


def test_the_engine_refuses_a_key_no_type_reads():
    for spec_type in BY_TYPE:
        assert "unknown field" in engine_error({"type": spec_type, "dim": DIM, "no_such_key": 1})


def test_old_names_stay_accepted_and_mean_the_canonical_ones(rng):
    assert ALIASES == {"sq": {"bits": "nbits"}, "lsh": {"probes": "nprobe"}}
    x = rng.standard_normal((200, DIM)).astype(np.float32)
    got = []
    for index in (oxvec.ScalarQuantizer(DIM, nbits=4), oxvec.ScalarQuantizer(DIM, bits=4),
                  oxvec.ScalarQuantizer(DIM, "l2", 4)):
        index.train(x)
        index.add(x)
        got.append(index.search(x[:5], 3))
    for ids, dist in got[1:]:
        np.testing.assert_array_equal(ids, got[0][0])
        np.testing.assert_array_equal(dist, got[0][1])
    assert oxvec.ScalarQuantizer(DIM, nbits=4).memory_bytes == oxvec.ScalarQuantizer(DIM, bits=4).memory_bytes
    with pytest.raises(TypeError, match="give nbits or its old name bits, not both"):
        oxvec.ScalarQuantizer(DIM, nbits=4, bits=8)
    # the engine reads both spellings (stores made with "bits" reopen), and not two values
    for key in ("nbits", "bits"):
        st = state
        h = _capi.oxv_handle()
        assert lib.oxv_index_new(json.dumps({"type": "sq", "dim": DIM, key: 4}).encode(), ctypes.addressof(h), st.err_addr) == 0
        lib.oxv_index_free(h.value, st.err_addr)
    assert "not both" in engine_error({"type": "sq", "dim": DIM, "nbits": 4, "bits": 8})


def test_hints_point_at_real_keywords_and_are_never_accepted():
    every = {"dim", "metric"}.union(*(keywords(getattr(oxvec, row[0])) for row in INDEX_TYPES))
    for name, meant in HINTS.items():
        assert meant in every, (name, meant)
        assert all(name not in keywords(getattr(oxvec, row[0])) for row in INDEX_TYPES), name
    for spec_type, aliases in ALIASES.items():
        for old, new in aliases.items():
            assert new in PARAMETERS[spec_type] and old not in PARAMETERS[spec_type]


@pytest.mark.parametrize("spec_type", sorted(BY_TYPE))
def test_search_knobs_have_one_name_in_search_info_and_constructor(spec_type):
    cls = getattr(oxvec, BY_TYPE[spec_type][0])
    index = cls(DIM, **MAKE[spec_type])
    params = set(index.info().get("params") or {})
    search_kw = set(inspect.signature(cls.search).parameters) & set(KNOBS)
    if spec_type == "opq":  # its knob is its inner index's: nprobe over an IVF type, none over pq
        assert params <= search_kw == {"nprobe"}
        return
    if spec_type in TYPE_KNOBS:  # search keywords of its own (diskann's l)
        names = TYPE_KNOBS[spec_type]
        assert set(names) <= set(inspect.signature(cls.search).parameters)
        assert params == {knob for knob, _ in names.values()}
        assert all(ctor in PARAMETERS[spec_type] for _, ctor in names.values())
        return
    assert params == search_kw, (params, search_kw)
    for knob in params:
        assert KNOBS[knob] in PARAMETERS[spec_type] and getattr(index, knob) >= 1


def test_seeds_mean_the_same_in_every_package():
    typed = {spec_type: go_spec_keys(BY_TYPE[spec_type][1]).get("seed") for spec_type in BY_TYPE}
    seeded = {t for t, typ in typed.items() if typ}
    assert seeded == {t for t in BY_TYPE if "seed" in PARAMETERS[t]}
    assert {typed[t] for t in seeded} <= {"int64", "uint64"}
    for spec_type in seeded:  # the range both Go types read alike
        cls = getattr(oxvec, BY_TYPE[spec_type][0])
        for seed in (0, 2**63 - 1):
            cls(DIM, seed=seed, **MAKE[spec_type]).close()


def go_error_classes() -> set:
    return {f"errs.{n}" for n in re.findall(r"^\s*(\w+) = errors\.New\(", go_source("errs"), re.M)}


def test_each_exception_has_one_status_code_and_one_go_class():
    names, statuses, go_classes = (list(col) for col in zip(*ERRORS))
    assert len(set(names)) == len(set(statuses)) == len(set(go_classes)) == len(ERRORS)
    header = (ROOT / "capi" / "oxvec.h").read_text()
    assert set(statuses) == set(re.findall(r"#define (OXV_E_\w+) -\d+", header))
    coded = {n for n in oxvec.__all__ if isinstance(getattr(oxvec, n), type)
             and issubclass(getattr(oxvec, n), oxvec.Error) and getattr(oxvec, n).code}
    assert coded == set(names)
    for name, status, _ in ERRORS:
        cls = getattr(oxvec, name)
        assert cls.code == getattr(_capi, status) and _errors._BY_CODE[cls.code] is cls
    assert len(_errors._BY_CODE) == len(ERRORS)
    # the C ABI's table: Go class -> status, one row each
    capi = "\n".join(f.read_text() for f in sorted((ROOT / "capi").glob("*.go")) if not f.name.endswith("_test.go"))
    rows = re.findall(r"\{\s*(errs\.\w+|errHandle)\s*,\s*C\.(OXV_E_\w+)\s*\}", capi)
    assert sorted(rows) == sorted((go, status) for _, status, go in ERRORS)
    assert go_error_classes() == {go for go in go_classes if go.startswith("errs.")}
