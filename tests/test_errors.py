"""Bad input raises a clear exception of the right class and changes nothing."""

import ctypes

import numpy as np
import pytest

import oxvec
from oxvec import _capi
from oxvec._library import lib
from oxvec._call import state


@pytest.fixture
def index(rng):
    idx = oxvec.Flat(4)
    idx.add(rng.standard_normal((10, 4)).astype(np.float32))
    return idx


def test_wrong_dimension_says_what_to_pass(index):
    with pytest.raises(oxvec.DimensionError, match=r"5 columns .* dim 4"):
        index.add(np.zeros((2, 5), np.float32))
    with pytest.raises(oxvec.DimensionError, match="must have 4 values"):
        index.search(np.zeros(3, np.float32))
    with pytest.raises(oxvec.DimensionError, match="1-D .* or 2-D"):
        index.search(np.zeros((2, 2, 4), np.float32))
    assert isinstance(oxvec.DimensionError("x"), ValueError)
    assert len(index) == 10


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_rejected_with_position(index, bad):
    x = np.ones((3, 4), np.float32)
    x[2, 1] = bad
    with pytest.raises(oxvec.InvalidArgumentError, match="row 2 .* position 1"):
        index.add(x)
    with pytest.raises(oxvec.InvalidArgumentError, match="row 2"):
        index.search(x)
    assert len(index) == 10


def test_values_beyond_float32_range_are_rejected(index):
    with pytest.raises(oxvec.InvalidArgumentError, match="infinity"):
        index.add(np.array([[1e39, 0, 0, 0]], np.float64))  # overflows float32


@pytest.mark.parametrize(
    "x, exc, match",
    [
        (np.array([["a", "b", "c", "d"]]), TypeError, "must be numbers"),
        (np.ones((1, 4), np.complex64), TypeError, "must be numbers"),
        ([[1, 2, 3, 4], [1, 2]], oxvec.InvalidArgumentError, "same length"),
        (np.array([[None, 1, 2, 3]], dtype=object), TypeError, "must be numbers"),
    ],
)
def test_unconvertible_input_is_a_clear_error(index, x, exc, match):
    with pytest.raises(exc, match=match):
        index.add(x)
    assert len(index) == 10


@pytest.mark.parametrize("k", [0, -3])
def test_k_must_be_positive(index, k):
    with pytest.raises(oxvec.InvalidArgumentError, match="k must be >= 1"):
        index.search(np.zeros(4, np.float32), k=k)


@pytest.mark.parametrize("k", [2.5, "3", True])
def test_k_must_be_an_int(index, k):
    with pytest.raises(TypeError, match="k must be an int"):
        index.search(np.zeros(4, np.float32), k=k)


def test_numpy_integer_k_is_fine(index):
    ids, _ = index.search(np.zeros(4, np.float32), k=np.int64(3))
    assert ids.shape == (3,)


def test_duplicate_ids_are_rejected(index):
    with pytest.raises(oxvec.DuplicateIdError, match="already in the index"):
        index.add(np.zeros((1, 4)), ids=[3])
    with pytest.raises(oxvec.DuplicateIdError, match="more than once"):
        index.add(np.zeros((2, 4)), ids=[50, 50])
    assert len(index) == 10


def test_negative_and_non_integer_ids_are_rejected(index):
    with pytest.raises(oxvec.InvalidArgumentError, match="negative"):
        index.add(np.zeros((1, 4)), ids=[-1])
    with pytest.raises(TypeError, match="must be integers"):
        index.add(np.zeros((1, 4)), ids=[1.5])
    with pytest.raises(oxvec.InvalidArgumentError, match="one id per vector"):
        index.add(np.zeros((2, 4)), ids=[1])
    assert len(index) == 10


def test_searching_an_empty_index_returns_no_columns_instead_of_raising():
    ids, dist = oxvec.Flat(2).search(np.zeros((2, 2)), k=3)
    assert ids.shape == dist.shape == (2, 0)


def test_cosine_rejects_zero_vectors():
    index = oxvec.Flat(3, metric="cosine")
    with pytest.raises(oxvec.InvalidArgumentError, match="zero vector"):
        index.add(np.zeros((1, 3)))


def test_bad_specs_name_the_problem():
    with pytest.raises(oxvec.InvalidArgumentError, match='unknown metric "manhatan"'):
        oxvec.Flat(3, metric="manhatan")
    with pytest.raises(oxvec.InvalidArgumentError, match="dim must be"):
        oxvec.Flat(0)


def test_use_after_close_raises_closed_error(index):
    index.close()
    index.close()  # closing twice is harmless
    for call in (lambda: index.search(np.zeros(4)), lambda: index.add(np.zeros(4)), lambda: len(index)):
        with pytest.raises(oxvec.ClosedError, match="closed"):
            call()


def test_context_manager_closes():
    with oxvec.Flat(2) as index:
        index.add(np.ones(2))
    assert index.closed
    with pytest.raises(oxvec.ClosedError):
        index.search(np.ones(2))


def test_freed_or_made_up_handle_is_an_error_not_a_crash(index):
    st = state
    handle = index._handle
    index.close()
    n = ctypes.c_int64()
    rc = lib.oxv_index_len(handle, ctypes.addressof(n), st.err_addr)
    assert rc == _capi.OXV_E_HANDLE
    assert b"not a live oxvec handle" in st.err.message
    assert lib.oxv_index_free(123456789, st.err_addr) == _capi.OXV_E_HANDLE


@pytest.mark.parametrize("in_worker", [0, 1])
def test_a_go_panic_becomes_internal_error(in_worker):
    st = state
    rc = lib.oxv_debug_panic(in_worker, st.err_addr)
    err = oxvec._errors.from_status(rc, st.err.message.decode())
    assert isinstance(err, oxvec.InternalError)
    assert "deliberate panic" in str(err)
    # and the process still works
    assert oxvec.Flat(2).search(np.zeros(2), k=1)[0].tolist() == []


def test_truncated_or_corrupted_files_are_clear_errors(tmp_path, index):
    path = tmp_path / "i.oxv"
    index.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(oxvec.CorruptFileError, match="truncated"):
        oxvec.load(path)
    flipped = bytearray(data)
    flipped[200] ^= 0xFF  # inside the vectors section
    path.write_bytes(bytes(flipped))
    with pytest.raises(oxvec.CorruptFileError, match="checksum"):
        oxvec.load(path)
    path.write_bytes(b"not an index at all" * 10)
    with pytest.raises(oxvec.CorruptFileError, match="not an oxvec index"):
        oxvec.load(path)
    with pytest.raises(FileNotFoundError):
        oxvec.load(tmp_path / "missing.oxv")


def test_save_into_missing_directory_is_storage_error(tmp_path, index):
    with pytest.raises(oxvec.NotFoundError):
        index.save(tmp_path / "no" / "such" / "dir" / "i.oxv")


def test_memory_limit_refuses_huge_adds(index):
    previous = oxvec.set_memory_limit(64 << 20)
    try:
        big = np.zeros((6_000_000, 4), np.float32)  # 96 MiB
        with pytest.raises(oxvec.MemoryLimitError, match="memory limit"):
            index.add(big)
        assert len(index) == 10
    finally:
        oxvec.set_memory_limit(previous)


def test_every_error_class_is_an_oxvec_error():
    for code, cls in oxvec._errors._BY_CODE.items():
        assert issubclass(cls, oxvec.Error) and code < 0
