"""Builds the engine (Go, c-shared) into the package, then packages it.

The shared library is not a CPython extension: it is loaded with ctypes.
Beside it the package has one small extension, oxvec._fastcall
(python/oxvec/_fastcall.c: the hot path of Index.search), built against
CPython's limited API of 3.9, so the wheel is tagged cp39-abi3-<platform>
and one wheel serves every CPython from 3.9 on. The extension is optional:
where it cannot be built (no Python headers), oxvec calls the engine
through ctypes alone.

The engine is built with the Go toolchain on PATH and whatever C compiler
cgo finds (CC). `make wheel` sets CC to Zig (tools/zigcc) targeting glibc
2.17 and, for the second wheel, GOARCH=arm64: the wheel's platform tag
follows GOARCH, and auditwheel then retags it manylinux_2_17.
"""

import os
import platform
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

try:
    from setuptools.command.bdist_wheel import bdist_wheel  # setuptools >= 70.1
except ImportError:
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = {"darwin": "liboxvec.dylib", "win32": "oxvec.dll"}.get(sys.platform, "liboxvec.so")
# the oldest CPython the extension's limited API serves (requires-python)
LIMITED_API = 0x03090000
LIMITED_API_TAG = "cp39"
# GOARCH -> the machine name in Linux wheel tags
LINUX_MACHINE = {"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "ppc64le": "ppc64le", "s390x": "s390x"}


def build_engine(dest_dir: str, strip: bool) -> None:
    go = shutil.which("go")
    if go is None:
        sys.exit("oxvec needs the Go toolchain (https://go.dev/dl) to build its engine: `go` is not on PATH")
    os.makedirs(dest_dir, exist_ok=True)
    out = os.path.join(dest_dir, LIB)
    env = dict(os.environ, CGO_ENABLED="1")
    cmd = [go, "build", "-trimpath", "-buildmode=c-shared"]
    if strip:  # no DWARF or symbol table; panics still name their functions
        cmd.append("-ldflags=-s -w")
    subprocess.check_call(cmd + ["-o", out, "./capi"], cwd=HERE, env=env)
    header = os.path.splitext(out)[0] + ".h"  # cgo's generated header; ours is capi/oxvec.h
    if os.path.exists(header):
        os.remove(header)


class BuildPyWithEngine(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            # pip install -e .: the package is imported from python/, so the
            # engine goes there, built as `make lib` builds it
            build_engine(os.path.join(HERE, "python", "oxvec"), strip=False)
        else:
            build_engine(os.path.join(self.build_lib, "oxvec"), strip=True)


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        goarch = os.environ.get("GOARCH")
        host = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine())
        if sys.platform.startswith("linux") and goarch and goarch != host and self.plat_name is None:
            self.plat_name = "linux_" + LINUX_MACHINE.get(goarch, goarch)  # a cross-built engine
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return LIMITED_API_TAG, "abi3", plat


class BinaryDistribution(Distribution):
    def has_ext_modules(self):
        return True


FASTCALL = Extension(
    "oxvec._fastcall",
    sources=["python/oxvec/_fastcall.c"],
    include_dirs=["capi"],  # oxvec.h's types; nothing links to the engine
    define_macros=[("Py_LIMITED_API", hex(LIMITED_API))],
    py_limited_api=True,
    optional=True,  # without it, ctypes (python/oxvec/_fast.py)
)

setup(
    ext_modules=[FASTCALL],
    exclude_package_data={"oxvec": ["*.c"]},  # the extension's source goes to the sdist, not the wheel
    cmdclass={"build_py": BuildPyWithEngine, "bdist_wheel": PlatformWheel},
    distclass=BinaryDistribution,
)
