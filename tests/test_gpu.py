"""oxvec.gpu on a machine without a GPU: what it reports, that "cuda" fails
clearly and "auto" runs on the CPU, that NVRTC compiles every kernel, and
that nothing of CUDA is loaded before it is asked for. The kernels' results
are tested in Go (kernels/gpu/emulate_test.go: the CUDA source run on the
CPU under an emulation of CUDA's built-ins); the device itself only by
benchmarks/gpu_check.py on a machine with a GPU."""

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

import oxvec

NO_DRIVER = not any(os.path.exists(p) for p in ("/dev/nvidiactl", "/proc/driver/nvidia/version"))
no_gpu = pytest.mark.skipif(not NO_DRIVER, reason="this machine has an NVIDIA driver: benchmarks/gpu_check.py covers it")
HAS_NVRTC = importlib.util.find_spec("nvidia") is not None and any(
    os.path.isdir(os.path.join(p, "cuda_nvrtc", "lib")) for p in importlib.util.find_spec("nvidia").submodule_search_locations)


def loaded_cuda_libraries(code: str) -> str:
    """The CUDA libraries mapped into a fresh interpreter after code runs."""
    script = code + "\nimport re\nprint(sorted(set(re.findall(r'lib(?:cuda|nvrtc)[\\w.-]*', open('/proc/self/maps').read()))))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    return out.stdout.strip().splitlines()[-1]


def test_import_and_cpu_work_load_no_cuda_library():
    assert loaded_cuda_libraries(
        "import numpy as np, oxvec\n"
        "x = np.random.rand(20, 8).astype(np.float32)\n"
        "oxvec.knn(x, x, 3); oxvec.pairwise(x, metric='cosine'); f = oxvec.Flat(8); f.add(x); f.search(x, 2)") == "[]"


@pytest.mark.skipif(not HAS_NVRTC, reason="nvidia-cuda-nvrtc-cu12 not installed (pip install -e .[test])")
def test_compile_kernels_loads_nvrtc_only_when_called():
    assert "libnvrtc" in loaded_cuda_libraries("import oxvec\noxvec.gpu.compile_kernels('sm_80')")


@pytest.mark.skipif(not HAS_NVRTC, reason="nvidia-cuda-nvrtc-cu12 not installed (pip install -e .[test])")
@pytest.mark.parametrize("arch", ["sm_70", "sm_80", "sm_90"])
def test_compile_kernels_gives_every_kernel_ptx_without_a_gpu(arch, tmp_path, monkeypatch):
    sizes = oxvec.gpu.compile_kernels(arch)
    assert set(sizes) == {"oxv_pairwise", "oxv_topk", "oxv_assign"}
    assert all(1000 < n < 1_000_000 for n in sizes.values()), sizes


def test_compile_kernels_rejects_a_bad_architecture():
    with pytest.raises((oxvec.InvalidArgumentError, oxvec.UnsupportedError)):
        oxvec.gpu.compile_kernels("volta")
    with pytest.raises(TypeError):
        oxvec.gpu.compile_kernels(80)


@no_gpu
def test_without_a_driver_available_is_false_and_reason_names_libcuda():
    assert oxvec.gpu.available() is False
    assert "libcuda.so.1" in oxvec.gpu.reason() and "driver" in oxvec.gpu.reason()
    assert oxvec.gpu.devices() == []


@pytest.fixture
def data():
    rng = np.random.default_rng(19)
    return rng.standard_normal((300, 16)).astype(np.float32), rng.standard_normal((7, 16)).astype(np.float32)


@no_gpu
@pytest.mark.parametrize("device", ["cuda", "cuda:0", "CUDA:1"])
def test_cuda_without_a_gpu_raises_unsupported_naming_what_is_missing(device, data):
    x, q = data
    calls = [
        lambda: oxvec.knn(x, q, 5, device=device),
        lambda: oxvec.pairwise(q, x, "cosine", device=device),
        lambda: oxvec.Flat(16, device=device),
        lambda: oxvec.IVFFlat(16, nlist=4).train(x, device=device),
        lambda: oxvec.PQ(16, m=4, nbits=4).train(x, device=device),
        lambda: oxvec.IVFPQ(16, nlist=4, m=4, nbits=4).train(x, device=device),
    ]
    for call in calls:
        with pytest.raises(oxvec.UnsupportedError, match="libcuda.so.1"):
            call()


@no_gpu
def test_auto_runs_on_the_cpu_with_the_cpu_results(data):
    x, q = data
    for metric in ("l2", "cosine", "jensenshannon", "hamming_bits", "haversine"):
        if metric == "hamming_bits":
            xb, qb = (x > 0), (q > 0)
            want, got = oxvec.knn(xb, qb, 4, metric), oxvec.knn(xb, qb, 4, metric, device="auto")
        else:
            xm = np.abs(x) if metric == "jensenshannon" else x
            qm = np.abs(q) if metric == "jensenshannon" else q
            if metric == "haversine":
                xm, qm = np.clip(x[:, :2], -1.5, 1.5), np.clip(q[:, :2], -1.5, 1.5)
            np.testing.assert_array_equal(oxvec.pairwise(qm, xm, metric), oxvec.pairwise(qm, xm, metric, device="auto"))
            want, got = oxvec.knn(xm, qm, 4, metric), oxvec.knn(xm, qm, 4, metric, device="auto")
        np.testing.assert_array_equal(want[0], got[0])
        np.testing.assert_array_equal(want[1], got[1])
    f, g = oxvec.Flat(16, "cosine"), oxvec.Flat(16, "cosine", device="auto")
    assert g.device == "auto"
    f.add(x)
    g.add(x)
    for a, b in zip(f.search(q, 5), g.search(q, 5)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(f.search(q, 5, filter=np.arange(50)), g.search(q, 5, filter=np.arange(50))):
        np.testing.assert_array_equal(a, b)
    i, j = oxvec.IVFFlat(16, nlist=4), oxvec.IVFFlat(16, nlist=4)
    i.train(x)
    j.train(x, device="auto")
    i.add(x)
    j.add(x)
    for a, b in zip(i.search(q, 5), j.search(q, 5)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("device, exc", [("gpu", ValueError), ("cuda:", ValueError), ("cuda:-1", ValueError),
                                         (0, TypeError), (None, TypeError)])
def test_malformed_device_names_are_refused(device, exc, data):
    x, q = data
    with pytest.raises(exc):
        oxvec.knn(x, q, 3, device=device)
    with pytest.raises(exc):
        oxvec.pairwise(q, x, device=device)
    with pytest.raises(exc):
        oxvec.Flat(16, device=device)
