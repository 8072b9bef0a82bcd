"""Builds the engine (Go, c-shared) into the package, then packages it.

The shared library is not a CPython extension: it is loaded with ctypes, so
the wheel is tagged py3-none-<platform> and one wheel serves every Python 3.
"""

import os
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

try:
    from wheel.bdist_wheel import bdist_wheel
except ImportError:  # wheel >= 0.44 moved it
    from setuptools.command.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = {"darwin": "liboxvec.dylib", "win32": "oxvec.dll"}.get(sys.platform, "liboxvec.so")


def build_engine(dest_dir: str) -> None:
    go = shutil.which("go")
    if go is None:
        sys.exit("oxvec needs the Go toolchain (https://go.dev/dl) to build its engine: `go` is not on PATH")
    os.makedirs(dest_dir, exist_ok=True)
    out = os.path.join(dest_dir, LIB)
    env = dict(os.environ, CGO_ENABLED="1")
    subprocess.check_call(
        [go, "build", "-trimpath", "-buildmode=c-shared", "-o", out, "./capi"], cwd=HERE, env=env
    )
    header = os.path.splitext(out)[0] + ".h"  # cgo's generated header; ours is capi/oxvec.h
    if os.path.exists(header):
        os.remove(header)


class BuildPyWithEngine(build_py):
    def run(self):
        super().run()
        build_engine(os.path.join(self.build_lib, "oxvec"))


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


setup(
    cmdclass={"build_py": BuildPyWithEngine, "bdist_wheel": PlatformWheel},
    distclass=BinaryDistribution,
)
