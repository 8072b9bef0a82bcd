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

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the GPU path is Linux-only (libcuda.so.1, /proc/self/maps)")
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
        lambda: oxvec.gpu.assign(x, q, device=device),
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
    ref = ((x[:, None] - q[None]) ** 2).sum(-1)
    idx, dist = oxvec.gpu.assign(x, q, device="auto")
    np.testing.assert_array_equal(idx, ref.argmin(1))
    np.testing.assert_allclose(dist, ref.min(1), rtol=1e-4, atol=1e-5)
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


FAKE_DRIVER_SCRIPT = r"""
import numpy as np, oxvec
assert oxvec.gpu.available(), oxvec.gpu.reason()
(dev,) = oxvec.gpu.devices()
assert dev["name"] == "oxvec emulated device" and dev["arch"] == "sm_80", dev
rng = np.random.default_rng(5)
x = rng.standard_normal((400, 12)).astype(np.float32)
q = rng.standard_normal((9, 12)).astype(np.float32)
for metric, a, b in (("l2", x, q), ("cosine", x, q), ("jensenshannon", np.abs(x), np.abs(q)), ("minkowski", x, q)):
    kw = {"p": 3} if metric == "minkowski" else {}
    np.testing.assert_allclose(oxvec.pairwise(b, a, metric, device="cuda", **kw), oxvec.pairwise(b, a, metric, **kw), rtol=1e-4, atol=1e-5)
    gi, gd = oxvec.knn(a, b, 7, metric, device="cuda:0", **kw)
    ci, cd = oxvec.knn(a, b, 7, metric, **kw)
    np.testing.assert_array_equal(gi, ci)
    np.testing.assert_allclose(gd, cd, rtol=1e-4, atol=1e-5)
f, g = oxvec.Flat(12, "cosine"), oxvec.Flat(12, "cosine", device="cuda")
ids = np.arange(400, dtype=np.int64) * 7 + 3
f.add(x, ids); g.add(x, ids)
(fi, fd), (gi, gd) = f.search(q, 5), g.search(q, 5)
np.testing.assert_array_equal(fi, gi); np.testing.assert_allclose(fd, gd, rtol=1e-4, atol=1e-5)
one = g.search(q[0], 3)
assert one[0].shape == (3,) and one[0][0] == fi[0, 0]
try:
    g.search(q, 5, filter=ids[:50])
    raise SystemExit("a filtered search on cuda must raise")
except oxvec.UnsupportedError as e:
    assert "filtered" in str(e)
try:
    oxvec.knn(x > 0, q > 0, 3, "hamming_bits", device="cuda")
    raise SystemExit("hamming_bits on cuda must raise")
except oxvec.UnsupportedError:
    pass
np.testing.assert_array_equal(oxvec.knn(x > 0, q > 0, 3, "hamming_bits", device="auto")[0], oxvec.knn(x > 0, q > 0, 3, "hamming_bits")[0])
ivf = oxvec.IVFFlat(12, nlist=8, nprobe=8)
ivf.train(x, device="cuda")
ivf.add(x)
np.testing.assert_array_equal(ivf.search(q, 5)[0], oxvec.knn(x, q, 5)[0])
pq = oxvec.PQ(12, m=4, nbits=4)
pq.train(x, device="cuda")
c = x[:37].copy()
gi, gd = oxvec.gpu.assign(x, c, device="cuda")
ci, cd = oxvec.gpu.assign(x, c, device="cpu")
np.testing.assert_array_equal(gi, ci); np.testing.assert_allclose(gd, cd, rtol=1e-4, atol=1e-5)
print("ok")
"""


@pytest.fixture(scope="module")
def fake_driver(tmp_path_factory):
    """A stand-in libcuda.so.1 that runs the kernels on the CPU under the
    CUDA emulation (kernels/gpu/emulate/fake_cuda.cpp)."""
    import shutil

    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None:
        pytest.skip(f"no C++ compiler ({cxx}) to build the fake driver")
    root = os.path.join(os.path.dirname(__file__), "..", "kernels", "gpu", "emulate")
    out = tmp_path_factory.mktemp("fakecuda") / "libcuda.so.1"
    subprocess.run([cxx, "-std=c++17", "-O1", "-shared", "-fPIC", "-o", str(out), os.path.join(root, "fake_cuda.cpp")], check=True)
    return str(out)


@pytest.mark.skipif(not HAS_NVRTC, reason="nvidia-cuda-nvrtc-cu12 not installed (pip install -e .[test])")
def test_device_cuda_end_to_end_through_a_fake_driver(fake_driver, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OXVEC_LIBCUDA": fake_driver,
           "OXVEC_GPU_CACHE": str(tmp_path / "cache")}
    run = subprocess.run([sys.executable, "-c", FAKE_DRIVER_SCRIPT], capture_output=True, text=True, env=env)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stdout + run.stderr
    # the module cache now holds the PTX for the device's architecture and driver
    import re

    names = os.listdir(tmp_path / "cache")
    assert any(re.fullmatch(r"kernels-[0-9a-f]{16}-sm_80-nvrtc\d+\.\d+-drv12080\.ptx", n) for n in names), names


GPU_CHECK = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "gpu_check.py")


@no_gpu
def test_gpu_check_without_a_gpu_says_why_and_writes_nothing(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OXVEC_BENCH_OUT": str(tmp_path)}
    run = subprocess.run([sys.executable, GPU_CHECK], capture_output=True, text=True, env=env)
    assert run.returncode == 2 and "no usable GPU" in run.stderr and "libcuda.so.1" in run.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not HAS_NVRTC, reason="nvidia-cuda-nvrtc-cu12 not installed (pip install -e .[test])")
def test_gpu_check_runs_through_the_fake_driver(fake_driver, tmp_path):
    """The script a GPU session will run, tried on tiny inputs through the
    fake driver, so that session is not spent on a bug of the script."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OXVEC_LIBCUDA": fake_driver,
           "OXVEC_GPU_CACHE": str(tmp_path / "cache"), "OXVEC_BENCH_OUT": str(tmp_path / "out"),
           "OXVEC_FAKE_CUDA_MEM": "4000000"}
    run = subprocess.run([sys.executable, GPU_CHECK, "--smoke", "--reps", "1"], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    md = (tmp_path / "out" / "RESULTS.md").read_text()
    assert "<!-- BEGIN gpu_check -->" in md and "oxvec emulated device" in md and "**no**" not in md
    assert (tmp_path / "out" / "results" / "gpu_check.json").exists()
