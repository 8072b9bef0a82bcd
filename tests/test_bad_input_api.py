"""Issue 13, classes 4, 6 and 7: input that used to be coerced silently,
limits without a clear error, and the traps users of faiss and hnswlib
fall into. Each test walks its whole class: every index type where it
applies, every field of a store record."""

import json

import numpy as np
import pytest

import oxvec
import oxvec.embed
from oxvec import _store

DIM = 8

# every index type, trained on the data of `filled`; exact: get_vectors
# gives the stored vectors back unchanged ("rotated": up to rounding)
TYPES = {
    "flat": (lambda: oxvec.Flat(DIM), True),
    "hnsw": (lambda: oxvec.HNSW(DIM, m=8), True),
    "hnsw_int8": (lambda: oxvec.HNSW(DIM, m=8, quantize="int8"), True),
    "ivf_flat": (lambda: oxvec.IVFFlat(DIM, nlist=4), True),
    "ivf_pq": (lambda: oxvec.IVFPQ(DIM, nlist=4, m=4, nbits=4), False),
    "ivf_pq_refine": (lambda: oxvec.IVFPQ(DIM, nlist=4, m=4, nbits=4, refine=2), True),
    "pq": (lambda: oxvec.PQ(DIM, m=4, nbits=4), False),
    "sq": (lambda: oxvec.ScalarQuantizer(DIM), False),
    "sq4": (lambda: oxvec.ScalarQuantizer(DIM, bits=4), False),
    "binary": (lambda: oxvec.Binary(DIM), True),
    "opq_pq": (lambda: oxvec.OPQ(DIM, m=4, iters=2, inner={"type": "pq", "m": 4, "nbits": 4}), False),
    "opq_ivf": (lambda: oxvec.OPQ(DIM, m=4, iters=2, inner={"type": "ivf_flat", "nlist": 4}), "rotated"),
    "lsh": (lambda: oxvec.LSH(DIM, tables=4, bits=4), True),
}
# the search knobs each type honours
KNOBS = {"hnsw": "ef", "hnsw_int8": "ef", "ivf_flat": "nprobe", "ivf_pq": "nprobe", "ivf_pq_refine": "nprobe",
         "opq_ivf": "nprobe", "lsh": "nprobe"}
IDS = np.arange(300, dtype=np.int64) * 2 + 10  # not 0..n-1, so the id maps are in use


def data(seed=7, n=300):
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


def filled(name):
    index = TYPES[name][0]()
    x = data()
    index.train(x)
    index.add(x, ids=IDS)
    return index, x


@pytest.fixture(params=sorted(TYPES))
def any_index(request):
    index, x = filled(request.param)
    yield request.param, index, x
    index.close()


# --- class 4: silent coercions ---------------------------------------------

@pytest.mark.parametrize("bad", [[[10, 12], [14]], [[10, 12], [14, 16]], np.array([[10], [12]]), [[10]]])
def test_nested_ids_are_errors_not_flattened(any_index, bad):
    name, index, x = any_index
    with pytest.raises(oxvec.InvalidArgumentError):
        index.add(x[:2], ids=bad)
    with pytest.raises(oxvec.InvalidArgumentError):
        index.remove(bad)
    with pytest.raises(oxvec.InvalidArgumentError):
        index.get_vectors(bad)
    with pytest.raises(oxvec.InvalidArgumentError):
        index.search(x[0], 3, filter=bad)
    assert len(index) == 300


@pytest.mark.parametrize("bad", [[2**63], [2**70], [-(2**64)], np.array([2**64 - 1], np.uint64)])
def test_ids_beyond_int64_are_errors(bad):
    index = oxvec.Flat(DIM)
    with pytest.raises(oxvec.InvalidArgumentError, match="int64"):
        index.add(data(n=1), ids=bad)
    assert len(index) == 0


def test_a_knob_the_type_lacks_is_an_error_naming_type_and_knobs(any_index):
    name, index, x = any_index
    for knob, (ef, nprobe) in {"ef": (50, 0), "nprobe": (0, 2)}.items():
        if KNOBS.get(name) == knob:
            index._search(x[:2], 3, ef, nprobe, None)  # honoured
            continue
        with pytest.raises(oxvec.InvalidArgumentError, match=f'no search knob "{knob}"') as e:
            index._search(x[:2], 3, ef, nprobe, None)  # what the C ABI's request carries
        assert index.info()["type"] in str(e.value)
        assert (KNOBS.get(name) or "none") in str(e.value)


def test_opq_passes_nprobe_to_an_inner_ivf_index_only():
    for name in ("opq_pq", "opq_ivf"):
        index, x = filled(name)
        if name == "opq_ivf":
            assert index.search(x[:2], 3, nprobe=4)[0].shape == (2, 3)
        else:
            with pytest.raises(oxvec.InvalidArgumentError, match="nprobe"):
                index.search(x[:2], 3, nprobe=4)


def test_a_store_refuses_ef_unless_its_index_has_one(tmp_path):
    v = data(n=5)
    for kind, ok in (("flat", False), ("hnsw", True)):
        with oxvec.VectorStore(tmp_path / kind, dim=DIM, index=kind) as s:
            s.add([str(i) for i in range(5)], v)
            if ok:
                assert len(s.search(v[0], 3, ef=20)["ids"][0]) == 3
            else:
                with pytest.raises(oxvec.InvalidArgumentError, match="ef"):
                    s.search(v[0], 3, ef=20)


@pytest.fixture
def store(tmp_path):
    s = oxvec.VectorStore(tmp_path / "s", dim=DIM)
    s.add(["a"], data(n=1), metadatas=[{"n": 1}])
    yield s
    s.close()


def writes(s, meta=None, ids=("b",), docs=None):
    """Every write of a record with these fields."""
    v = data(n=len(ids))
    kw = {"metadatas": [meta] if meta is not None else None, "documents": docs}
    yield lambda: s.add(list(ids), v, **kw)
    yield lambda: s.upsert(list(ids), v, **kw)
    yield lambda: s.update(["a"], v[:1], **kw)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**70, 10**5000, np.uint64(2**64 - 1), [1, 2**64], (2**63,)],
                         ids=["2^63", "-2^63-1", "2^70", "10^5000", "uint64", "in a list", "in a tuple"])
def test_metadata_integers_beyond_int64_are_errors(store, value):
    for write in writes(store, {"big": value}):
        with pytest.raises(oxvec.InvalidArgumentError, match="int64"):
            write()
    listed = isinstance(value, (list, tuple))
    filters = [{"big": {"$in": value}}] if listed else [{"big": value}, {"big": {"$gt": value}}, {"big": {"$in": [value]}}]
    for f in filters:
        with pytest.raises(oxvec.InvalidArgumentError, match="int64"):
            store.get(filter=f)
    assert store.count() == 1 and store.get(["a"])["metadatas"] == [{"n": 1}]


def test_metadata_integers_at_the_edges_of_int64_round_trip(store):
    meta = {"max": 2**63 - 1, "min": -(2**63), "odd": 2**53 + 1, "f": 1e30, "whole": 3.0, "u": np.uint64(2**63 - 1)}
    store.add(["e"], data(n=1), metadatas=[meta])
    back = store.get(["e"])["metadatas"][0]
    assert back == {**meta, "u": 2**63 - 1}
    assert type(back["max"]) is int and type(back["whole"]) is float
    assert store.get(filter={"odd": 2**53 + 1})["ids"] == ["e"]
    assert store.get(filter={"max": {"$gte": 2**63 - 1}})["ids"] == ["e"]


def test_the_engine_refuses_integers_beyond_int64_too(store):
    # what a C caller (or a Python check that missed one) sends
    payload = json.dumps({"ids": ["z"], "metadatas": [{"n": 2**64}]}).encode()
    a = data(n=1)
    with pytest.raises(oxvec.InvalidArgumentError, match="outside int64"):
        _store.check(_store.lib.oxv_store_write(store._live(), _store._capi.OXV_STORE_ADD, payload,
                                                  _store.cv.address(a), 1, DIM, 0, _store.state.err_addr), _store.state)


@pytest.mark.parametrize("key", [1, 1.5, True, None, ("a",)])
def test_non_str_keys_are_type_errors(store, key):
    for write in writes(store, {key: "x"}):
        with pytest.raises(TypeError, match="keys must be str"):
            write()
    for f in ({key: "x"}, {"n": {key: 1}}, {"$and": [{"n": 1}, {key: 1}]}, {"$not": {key: 1}}):
        with pytest.raises(TypeError, match="keys must be str"):
            store.get(filter=f)
        with pytest.raises(TypeError, match="keys must be str"):
            store.search(data(n=1), 1, filter=f)
        with pytest.raises(TypeError, match="keys must be str"):
            store.delete(filter=f)
    assert store.count() == 1


@pytest.mark.parametrize("value", [[[1]], [{"a": 1}], {"a": 1}, [(1, 2)]])
def test_nested_metadata_values_are_errors(store, value):
    for write in writes(store, {"k": value}):
        with pytest.raises(oxvec.InvalidArgumentError, match=r"metadatas\[0\]\['k'\]"):
            write()


LONE = "x\ud800y"


def test_lone_surrogates_are_errors_naming_the_field(store):
    cases = {
        "ids[0]": lambda: store.add([LONE], data(n=1)),
        "documents[0]": lambda: store.add(["b"], data(n=1), documents=[LONE]),
        "metadatas[0] key": lambda: store.add(["b"], data(n=1), metadatas=[{LONE: 1}]),
        "metadatas[0]['k']": lambda: store.add(["b"], data(n=1), metadatas=[{"k": LONE}]),
        "metadatas[0]['k'][1]": lambda: store.upsert(["b"], data(n=1), metadatas=[{"k": ["ok", LONE]}]),
        "where['k']": lambda: store.get(filter={"k": LONE}),
        "where['k']['$in'][0]": lambda: store.search(data(n=1), 1, filter={"k": {"$in": [LONE]}}),
        "where key": lambda: store.delete(filter={LONE: 1}),
        "where_document['$contains']": lambda: store.get(where_document={"$contains": LONE}),
        "texts[0]": lambda: store.search(LONE, 1, mode="keyword"),
        "ids[0] ": lambda: store.get([LONE]),
    }
    for field, call in cases.items():
        with pytest.raises(oxvec.InvalidArgumentError) as e:
            call()
        msg = str(e.value)
        assert field.strip() in msg and "surrogate" in msg and "finite" not in msg, (field, msg)
    assert store.count() == 1


def test_nan_in_metadata_still_says_finite(store):
    with pytest.raises(oxvec.InvalidArgumentError, match="finite"):
        store.add(["b"], data(n=1), metadatas=[{"k": float("nan")}])


# --- class 6: limits --------------------------------------------------------

def nest(op, depth, leaf=None):
    f = leaf or {"n": 1}
    for _ in range(depth - 1):
        f = {"$not": f} if op == "$not" else {op: [f]}
    return f


@pytest.mark.parametrize("op", ["$and", "$or", "$not"])
def test_filters_nest_at_most_max_filter_depth_levels(store, op):
    assert _store.MAX_FILTER_DEPTH == 64
    store.get(filter=nest(op, 64))  # at the limit
    for depth in (65, 900, 5000):
        for call in (lambda f: store.get(filter=f), lambda f: store.delete(filter=f),
                     lambda f: store.search(data(n=1), 1, filter=f)):
            with pytest.raises(oxvec.InvalidArgumentError, match="more than 64 levels"):
                call(nest(op, depth))
    with pytest.raises(oxvec.InvalidArgumentError, match="more than 64 levels"):
        store.get(where_document=nest("$and" if op == "$not" else op, 65, {"$contains": "a"}))
    assert store.count() == 1


def test_the_engine_enforces_the_same_depth(store, monkeypatch):
    monkeypatch.setattr(_store, "_check_filter", lambda w, what: w)  # what a C caller sends
    store.get(filter=nest("$and", 64))
    for depth in (65, 300):  # (json.dumps itself gives up near 1000)
        with pytest.raises(oxvec.InvalidArgumentError, match="more than 64 levels"):
            store.get(filter=nest("$and", depth))
    with pytest.raises(oxvec.InvalidArgumentError, match="more than 64 levels"):
        store.get(where_document=nest("$or", 65, {"$contains": "a"}))


# --- class 7: traps for users of faiss and hnswlib ---------------------------

def test_nprobe_and_ef_properties_set_the_default_and_persist(any_index, tmp_path):
    name, index, x = any_index
    knob = KNOBS.get(name)
    for attr in ("nprobe", "ef", "ef_search"):
        honoured = knob == attr or (knob == "ef" and attr == "ef_search")
        if not honoured:
            with pytest.raises(AttributeError, match=type(index).__name__):
                getattr(index, attr)
            with pytest.raises(AttributeError, match="change nothing"):
                setattr(index, attr, 64)
            assert not hasattr(index, attr)
            continue
        before = getattr(index, attr)
        setattr(index, attr, before + 3)
        assert getattr(index, attr) == before + 3
        for bad in (0, -1, 2**31, 1.5, True, "8"):
            with pytest.raises(oxvec.InvalidArgumentError):
                setattr(index, attr, bad)
        assert getattr(index, attr) == before + 3
    if knob:
        path = tmp_path / "i.oxv"
        index.save(path)
        assert getattr(oxvec.load(path), knob) == getattr(index, knob)  # saved with the index


def test_nprobe_property_changes_what_searches_do():
    index, x = filled("ivf_flat")
    exact = oxvec.Flat(DIM)
    exact.add(x, ids=IDS)
    want = exact.search(x[:50], 10)[0]
    index.nprobe = 1
    one = index.search(x[:50], 10)[0]
    index.nprobe = 4  # every cell: exact
    np.testing.assert_array_equal(index.search(x[:50], 10)[0], want)
    assert (one != want).any()
    np.testing.assert_array_equal(index.search(x[:50], 10, nprobe=1)[0], one)  # the per-call value still wins


def test_ef_property_changes_what_searches_do():
    index, x = filled("hnsw")
    index.ef = 1
    assert index.ef_search == 1 and index.info()["params"] == {"ef": 1}
    index.ef_search = 300
    assert index.ef == 300
    exact = oxvec.Flat(DIM)
    exact.add(x, ids=IDS)
    np.testing.assert_array_equal(index.search(x[:20], 5)[0], exact.search(x[:20], 5)[0])


@pytest.mark.parametrize("cls, kw, meant", [
    (oxvec.HNSW, {"M": 32}, "m"),
    (oxvec.HNSW, {"space": "cosine"}, "metric"),
    (oxvec.HNSW, {"efConstruction": 100}, "ef_construction"),
    (oxvec.HNSW, {"efSearch": 100}, "ef_search"),
    (oxvec.HNSW, {"ef": 100}, "ef_search"),
    (oxvec.HNSW, {"max_element": 100}, "max_elements"),
    (oxvec.HNSW, {"random_seed": 3}, "seed"),
    (oxvec.Flat, {"space": "l2"}, "metric"),
    (oxvec.Flat, {"metric_type": "l2"}, "metric"),
    (oxvec.IVFFlat, {"nprobes": 4}, "nprobe"),
    (oxvec.IVFFlat, {"ncentroids": 4}, "nlist"),
    (oxvec.IVFPQ, {"M": 4}, "m"),
    (oxvec.IVFPQ, {"nbit": 4}, "nbits"),
    (oxvec.PQ, {"n_bits": 4}, "nbits"),
    (oxvec.ScalarQuantizer, {"Bits": 4}, "nbits"),  # bits, its old name, is accepted; the hint is the name
    (oxvec.Binary, {"rerank_k": 4}, "rerank"),
    (oxvec.OPQ, {"index": {"type": "pq"}}, "inner"),
    (oxvec.OPQ, {"M": 4, "inner": {"type": "pq"}}, "m"),
])
def test_unknown_constructor_keywords_name_the_keyword_and_the_right_one(cls, kw, meant):
    with pytest.raises(TypeError) as e:
        cls(DIM, **kw)
    name = next(iter(kw))
    assert str(e.value).startswith(f"unknown keyword {name!r} for {cls.__name__}; did you mean {meant!r}?"), str(e.value)


def test_an_unknown_keyword_without_a_near_one_lists_the_keywords():
    with pytest.raises(TypeError, match=r"unknown keyword 'zzz' for Flat \(it takes dim, metric"):
        oxvec.Flat(DIM, zzz=1)
    index = oxvec.Flat(DIM, "minkowski", p=3)  # metric parameters still pass
    assert index.metric == "minkowski"


def test_faiss_and_hnswlib_attribute_names_are_not_silently_set():
    h = oxvec.HNSW(DIM)
    for name, meant in (("efSearch", "ef_search"), ("M", "m"), ("efConstruction", "ef_construction")):
        with pytest.raises(AttributeError, match=f"did you mean {meant!r}"):
            setattr(h, name, 10)
    f = oxvec.IVFFlat(DIM)
    with pytest.raises(AttributeError, match="'nprobes'; did you mean 'nprobe'"):
        f.nprobes = 4
    f.my_label = "kept"  # other attributes are the user's own
    assert f.my_label == "kept"


@pytest.mark.parametrize("empty", [[], (), np.array([]), np.array([], np.int64), np.zeros(0, bool)])
def test_an_empty_filter_is_an_empty_allow_list(any_index, empty):
    name, index, x = any_index
    ids, dist = index.search(x[:3], 5, filter=empty)
    assert (ids == -1).all() and np.isinf(dist).all() and ids.shape[0] == 3
    ids, dist = index.search(x[0], 5, filter=empty)
    assert (ids == -1).all()


def test_in_and_get_vectors_for_every_type(any_index):
    name, index, x = any_index
    exact = TYPES[name][1]
    assert IDS[0] in index and int(IDS[-1]) in index and np.int64(IDS[5]) in index
    assert 11 not in index and -1 not in index and 2**70 not in index
    for bad in ("10", 10.0, None, True):
        with pytest.raises(TypeError):
            bad in index
    rows = [299, 0, 7]
    got = index.get_vectors(IDS[rows])
    assert got.shape == (3, DIM) and got.dtype == np.float32
    one = index.get_vectors(int(IDS[7]))
    assert one.shape == (DIM,)
    np.testing.assert_array_equal(one, got[2])
    if exact == "rotated":  # exact vectors, rotated there and back
        np.testing.assert_allclose(got, x[rows], rtol=1e-5, atol=1e-5)
    elif exact:
        np.testing.assert_array_equal(got, x[rows])
    else:  # a reconstruction: nearer than the origin, and what faiss would call decode
        err = ((got - x[rows]) ** 2).sum(1)
        assert (err < (x[rows] ** 2).sum(1)).all(), err
    assert index.get_vectors([]).shape == (0, DIM)
    with pytest.raises(oxvec.NotFoundError, match="2 of 4 ids are not in the index: 11, 5"):
        index.get_vectors([10, 11, 5, 12])
    index.remove([10])
    assert 10 not in index
    with pytest.raises(oxvec.NotFoundError, match="10"):
        index.get_vectors([10])


def test_get_vectors_gives_the_prepared_vector_for_cosine():
    x = data(n=20) * 3
    for index in (oxvec.Flat(DIM, "cosine"), oxvec.HNSW(DIM, "cosine")):
        index.add(x)
        got = index.get_vectors(np.arange(20))
        np.testing.assert_allclose(got, x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-6, atol=1e-7)


def test_binary_without_rerank_cannot_give_vectors_back():
    index = oxvec.Binary(DIM, rerank=0)
    x = data()
    index.train(x)
    index.add(x)
    with pytest.raises(oxvec.UnsupportedError, match="rerank"):
        index.get_vectors([0])
    assert 0 in index and 300 not in index


def test_adding_an_id_that_is_present_is_a_duplicate_in_every_type(any_index):
    name, index, x = any_index
    before = index.search(x[:5], 3)
    for ids in ([10], [11, 10], [int(IDS[-1])]):
        with pytest.raises(oxvec.DuplicateIdError, match="already in the index"):
            index.add(x[: len(ids)] + 1, ids=ids)
    assert len(index) == 300 and 11 not in index
    after = index.search(x[:5], 3)
    np.testing.assert_array_equal(before[0], after[0])
    index.remove([10])  # remove first to replace, in every type
    index.add(x[:1] + 1, ids=[10])
    assert len(index) == 300


def test_a_store_takes_its_dim_from_the_embedder(tmp_path):
    emb = oxvec.embed.as_embedder(lambda texts: np.ones((len(texts), 6), np.float32))
    with oxvec.VectorStore(tmp_path / "a", embedder=emb) as s:
        assert s.dim == 6
        s.add(["x"], documents=["hello"])
    with oxvec.VectorStore(tmp_path / "a", embedder=emb) as s:  # reopened: the store's dim
        assert s.count() == 1
    calls = []

    def plain(texts):  # no dim attribute: one probe text tells
        calls.append(list(texts))
        return np.ones((len(texts), 5), np.float32)

    with oxvec.VectorStore(tmp_path / "b", embedder=plain) as s:
        assert s.dim == 5 and len(calls) == 1
    with pytest.raises(oxvec.InvalidArgumentError, match="dim=4 but the embedder makes 6-d"):
        oxvec.VectorStore(tmp_path / "c", dim=4, embedder=emb)
    assert not (tmp_path / "c").exists()  # refused before anything was created
    with pytest.raises(oxvec.InvalidArgumentError, match="6-d"):
        oxvec.VectorStore(tmp_path / "b", embedder=emb)  # an existing store of another dim


def test_analyze_refuses_a_lone_surrogate_instead_of_replacing_it():
    with pytest.raises(ValueError, match="lone surrogate"):
        oxvec.analyze("bad \ud800 text")
    assert oxvec.analyze("good text") == ["good", "text"]
