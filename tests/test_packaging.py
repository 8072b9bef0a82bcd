"""`python -m build --wheel` gives a py3-none-<platform> wheel that installs
into a fresh virtual environment and works there."""

import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("go") is None, reason="building the engine needs Go")


def test_wheel_builds_installs_and_searches_in_a_fresh_venv(tmp_path):
    src = tmp_path / "src"
    # build from a copy: setuptools writes build/ and *.egg-info next to setup.py
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".venv", "build", "dist", ".git", "benchmarks", "*.so", "__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=src, check=True, capture_output=True,
    )
    (wheel,) = dist.glob("*.whl")
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert wheel.name.endswith(f"-py3-none-{platform}.whl"), wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "oxvec/liboxvec.so" in names and "oxvec/_capi.py" in names

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)], check=True)
    script = (
        "import numpy as np, oxvec, os; "
        "assert 'site-packages' in oxvec.__file__, oxvec.__file__; "
        "i = oxvec.Flat(3); i.add(np.eye(3, dtype=np.float32)); "
        "print(i.search(np.array([0, 1, 0.1], np.float32), k=1)[0][0])"
    )
    out = subprocess.run([py, "-c", script], cwd=tmp_path, check=True, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "1"
