"""GPU status and kernel compilation (docs/gpu.md).

oxvec's CUDA kernels ship as source inside the engine and are compiled at
run time by NVRTC (``pip install oxvec[gpu]``, i.e. nvidia-cuda-nvrtc-cu12)
for the GPU at hand, then launched through the NVIDIA driver's
libcuda.so.1. Nothing of CUDA is loaded by ``import oxvec``: the first call
of a function here, or of a ``device="cuda"`` / ``"auto"`` computation,
loads what it needs.

Status: the kernels are tested on the CPU (compiled as C++ under an
emulation of CUDA's built-ins) and compile to PTX for sm_70/80/90; the
device path itself is unverified on hardware.
"""

from __future__ import annotations

import importlib.util
import os
import re

from ._call import json_out
from ._errors import UnsupportedError
from ._library import lib

__all__ = ["available", "reason", "devices", "compile_kernels", "assign"]

_dirs_set = False
_status: dict | None = None
_DEVICE = re.compile(r"^(cpu|auto|cuda|cuda:\d+)$")


def _nvrtc_dirs() -> list[str]:
    """The lib folders of the NVIDIA wheels (nvidia-cuda-nvrtc-cu12, or the
    CUDA 13 layout), found without importing anything of them."""
    try:
        spec = importlib.util.find_spec("nvidia")
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    out = []
    for root in spec.submodule_search_locations:
        for sub in (("cuda_nvrtc", "lib"), ("cu13", "lib")):
            d = os.path.join(root, *sub)
            if os.path.isdir(d):
                out.append(d)
    return out


def _prepare() -> None:
    """Tells the engine where pip put NVRTC, once."""
    global _dirs_set
    if not _dirs_set:
        from ._call import check, state

        st = state
        check(lib.oxv_gpu_search_dirs(":".join(_nvrtc_dirs()).encode(), st.err_addr), st)
        _dirs_set = True


def _state() -> dict:
    global _status
    if _status is None:
        _prepare()
        _status = json_out(lib.oxv_gpu_status, size=4096)
    return _status


def available() -> bool:
    """True when a computation can run on a GPU: the NVIDIA driver loads,
    it sees a CUDA device, and NVRTC is installed."""
    return bool(_state()["available"])


def reason() -> str:
    """Why :func:`available` is False (what is missing and what to do), or
    "" when it is True."""
    return _state()["reason"]


def devices() -> list[dict]:
    """The CUDA devices: dicts of ordinal, name, arch ("sm_90"),
    multiprocessors, memory_bytes, driver_version. [] without a driver."""
    return [dict(d) for d in _state()["devices"]]


def compile_kernels(arch: str = "sm_80") -> dict[str, int]:
    """Compiles every kernel to PTX for arch ("sm_70", "sm_80", "sm_90", ...)
    with NVRTC - no GPU or driver needed - through the module cache
    ($OXVEC_GPU_CACHE, else ~/.cache/oxvec/gpu), and returns each kernel's
    PTX size in bytes. Raises UnsupportedError when NVRTC is missing (pip
    install nvidia-cuda-nvrtc-cu12)."""
    if not isinstance(arch, str):
        raise TypeError(f"arch must be a string such as 'sm_80', got {type(arch).__name__}")
    _prepare()
    info = json_out(lib.oxv_gpu_compile, arch.encode(), size=2048)
    return {k["name"]: int(k["ptx_bytes"]) for k in info["kernels"]}


def assign(x, centroids, *, device: str = "auto"):
    """k-means' assignment step: each row of x's nearest centroid by squared
    euclidean distance (ties: the lower centroid) on device ("cpu", "auto",
    "cuda", "cuda:N"). x: (n, d) float32, centroids: (k, d) float32.
    Returns (assignments int64 (n,), squared distances float32 (n,))."""
    import numpy as np

    from . import _convert as cv
    from ._call import check, run_cancellable, state

    dev = device_name(device)
    c = np.ascontiguousarray(centroids, dtype=np.float32)
    if c.ndim != 2 or c.shape[0] == 0:
        raise cv.DimensionError(f"centroids must be 2-D (k, d) with k >= 1, got shape {c.shape}")
    a, n, _ = cv.vectors(x, c.shape[1], "x")
    idx, dist = np.empty(n, np.int64), np.empty(n, np.float32)
    if n == 0:
        return idx, dist
    runs_on_gpu(dev)  # tells the engine where NVRTC is
    xa, ca, ia, da = cv.address(a), cv.address(c), cv.address(idx), cv.address(dist)

    def call(cancel: int) -> None:
        st = state
        check(lib.oxv_gpu_assign(dev.encode(), xa, n, ca, c.shape[0], c.shape[1], ia, da, cancel, st.err_addr), st)

    run_cancellable(call, n * c.size > 50_000_000, (a, c, idx, dist))
    return idx, dist


def device_name(device) -> str:
    """device checked and lower-cased: "cpu", "auto", "cuda" or "cuda:N"."""
    if not isinstance(device, str):
        raise TypeError(f"device must be a string: 'cpu', 'auto', 'cuda' or 'cuda:N', got {type(device).__name__}")
    d = device.strip().lower()
    if not _DEVICE.match(d):
        raise ValueError(f"device {device!r}: use 'cpu', 'auto', 'cuda' or 'cuda:N'")
    return d


def runs_on_gpu(device: str) -> bool:
    """Whether a checked device name sends work to the engine's GPU path:
    "cpu" never; "auto" when a GPU is available; "cuda" always (the engine
    then raises UnsupportedError saying what is missing)."""
    if device == "cpu":
        return False
    _prepare()
    if device == "auto":
        return available()
    return True


def require(device: str) -> None:
    """Raises UnsupportedError now, naming what is missing, when a GPU was
    named and none is usable (for constructors, which fail early)."""
    if device.startswith("cuda") and not available():
        raise UnsupportedError(f"device={device!r}: {reason()}; use device='cpu' or 'auto'")
