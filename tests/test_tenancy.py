"""Multi-tenancy (issue 20): sessions checked by the engine for key, role,
tenant, rate, quota and policy; isolation between tenants; durable usage;
no secret on disk. docs/tenancy.md has the permission table."""

import os
import random
import threading

import numpy as np
import pytest

import oxvec

DIM = 4


def vec(n=1, scale=1.0):
    return np.full((n, DIM), scale / 2, np.float32)


@pytest.fixture
def db(tmp_path):
    d = oxvec.Database(tmp_path / "db", durability="never", key_cost=4)
    yield d
    d.close()


def make_tenants(db, names=("a", "b", "c"), quota=None):
    keys = {}
    for t in names:
        db.create_tenant(t, quota=quota, policy=oxvec.Policy(max_magnitude=100))
        db.create_collection(t, "docs", dim=DIM)
        db.create_role(t, "appender", ["write"])
        for role in ("reader", "writer", "admin", "appender"):
            keys[t, role] = db.create_api_key(t, role=role, name=role)
    return keys


def test_roles_follow_the_permission_table(db):
    keys = make_tenants(db, ("a",))
    allowed = {"reader": {"read"}, "writer": {"read", "write", "delete"},
               "admin": {"read", "write", "delete", "admin"}, "appender": {"write"}}
    for role, perms in allowed.items():
        c = db.session(keys["a", role]).collection("docs")
        calls = {
            "write": lambda: c.upsert([role], vec()),
            "read": lambda: c.search(vec(), k=1),
            "delete": lambda: c.delete(["nothing"]),
            "admin": lambda: db.session(keys["a", role]).create_collection("a", f"c-{role}", dim=DIM),
        }
        for perm, call in calls.items():
            if perm in perms:
                call()
            else:
                with pytest.raises(oxvec.PermissionDeniedError):
                    call()


def test_property_no_cross_tenant_access(db):
    seed = random.randrange(2**32)
    print(f"seed {seed}")  # rerun a failure with this seed
    rng = random.Random(seed)
    keys = make_tenants(db)
    sessions = {k: db.session(v) for k, v in keys.items()}
    perms = {"reader": "r", "writer": "rwd", "admin": "rwda", "appender": "w"}
    tenants = ("a", "b", "c")
    for i in range(300):
        (own, role), s = rng.choice(list(sessions.items()))
        other = rng.choice([t for t in tenants if t != own])
        op = rng.choice(["add", "search", "get", "delete", "count", "create", "drop", "key", "other"])
        ctx = f"op {i} seed {seed}: {own}/{role} {op}"
        if op in ("create", "drop", "key"):
            target = rng.choice([own, other])
            name = f"c{rng.randrange(3)}"
            call = {"create": lambda: s.create_collection(target, name, dim=DIM),
                    "drop": lambda: s.drop_collection(target, name),
                    "key": lambda: s.create_api_key(target, role="reader")}[op]
            try:
                call()
                assert target == own and "a" in perms[role], ctx
            except oxvec.NotFoundError:
                assert target == other or op == "drop", ctx
            except oxvec.PermissionDeniedError:
                assert target == own and "a" not in perms[role], ctx
            except oxvec.DuplicateIdError:
                assert target == own, ctx
            continue
        if op == "other":
            # another tenant's collection is exactly a collection that does not exist
            mine = {c["name"] for c in db.collections(own)}
            theirs = [c["name"] for c in db.collections(other) if c["name"] not in mine]
            if not theirs:
                continue
            name = rng.choice(theirs)
            with pytest.raises(oxvec.NotFoundError) as e1:
                s.collection(name)
            with pytest.raises(oxvec.NotFoundError) as e2:
                s.collection("no-such-collection")
            assert str(e1.value).replace(name, "X") == str(e2.value).replace("no-such-collection", "X"), ctx
            continue
        c = s.collection("docs")
        need = {"add": "w", "search": "r", "get": "r", "delete": "d", "count": "r"}[op]
        call = {"add": lambda: c.add([f"{own}-{i}"], vec(), metadatas=[{"tenant": own}]),
                "search": lambda: c.search(vec(), k=50, include=["metadatas"]),
                "get": lambda: c.get(include=["metadatas"]),
                "delete": lambda: c.delete(filter={"tenant": other}),
                "count": lambda: c.count()}[op]
        if need not in perms[role]:
            with pytest.raises(oxvec.PermissionDeniedError):
                call()
            continue
        out = call()
        if op == "delete":
            assert out == 0, ctx  # never a record of another tenant
        if op == "get":
            assert all(m["tenant"] == own for m in out["metadatas"]), ctx
        if op == "search":
            assert all(m["tenant"] == own for row in out["metadatas"] for m in row), ctx
    # what each tenant holds is only its own
    for t in tenants:
        got = db.session(keys[t, "reader"]).collection("docs").get(include=["metadatas"])
        assert all(i.startswith(f"{t}-") for i in got["ids"])


def test_quota_race_ends_exactly_at_the_limit_and_survives_reopen(tmp_path):
    path = tmp_path / "db"
    db = oxvec.Database(path, durability="never", key_cost=4)
    db.create_tenant("a", quota=oxvec.Quota(max_vectors=100))
    db.create_collection("a", "one", dim=DIM)
    db.create_collection("a", "two", dim=DIM)
    key = db.create_api_key("a", role="writer", name="w")
    s = db.session(key)
    refused, failed = [], []

    def writer(t):
        c = s.collection(["one", "two"][t % 2])
        for i in range(30):
            try:
                c.add([f"{t}-{i}"], vec())
            except oxvec.QuotaExceededError as e:
                refused.append(e)
            except Exception as e:  # noqa: BLE001 - reported below
                failed.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failed
    assert db.tenant("a")["usage"]["vectors"] == 100
    assert len(refused) == 8 * 30 - 100
    e = refused[-1]
    assert (e.limit, e.use, e.limit_value) == ("max_vectors", 100, 100)
    assert sum(x["count"] for x in db.collections("a")) == 100
    # deletes give quota back
    n = s.collection("one").delete(filter={})
    s.collection("two").add(["again"], vec())
    db.close()
    db = oxvec.Database(path, durability="never", key_cost=4)
    assert db.tenant("a")["usage"]["vectors"] == 100 - n + 1
    assert sum(x["count"] for x in db.collections("a")) == 100 - n + 1
    db.close()


def test_rate_limiter_with_a_fake_clock_admits_rate_and_burst(db):
    db.create_tenant("a", quota=oxvec.Quota(max_qps=10, burst=5))
    db.create_collection("a", "docs", dim=DIM)
    key = db.create_api_key("a", role="reader", name="r", max_qps=1000, burst=1000)
    t0 = 1_800_000_000.0
    db._set_clock(t0)
    c = db.session(key).collection("docs")  # opening it costs no token
    admitted = 0
    while True:
        try:
            c.count()
            admitted += 1
        except oxvec.RateLimitedError as e:
            assert e.retry_after == pytest.approx(0.1, abs=1e-3)
            break
    assert admitted == 5  # the burst
    admitted = 0
    for step in range(1000):  # 10 s in 10 ms steps
        db._set_clock(t0 + 0.01 * (step + 1))
        try:
            c.count()
            admitted += 1
        except oxvec.RateLimitedError:
            pass
    assert 99 <= admitted <= 101  # 10 a second
    db._set_clock(None)


def test_a_key_rate_limit_is_its_own(db):
    db.create_tenant("a")
    db.create_collection("a", "docs", dim=DIM)
    slow = db.create_api_key("a", role="reader", name="slow", max_qps=1, burst=2)
    fast = db.create_api_key("a", role="reader", name="fast")
    db._set_clock(1_800_000_000.0)
    cs, cf = db.session(slow).collection("docs"), db.session(fast).collection("docs")
    cs.count(), cs.count()
    with pytest.raises(oxvec.RateLimitedError) as e:
        cs.count()
    assert e.value.retry_after == pytest.approx(1.0, abs=1e-3)
    for _ in range(50):
        cf.count()


def test_wrong_revoked_and_expired_keys_are_refused(db):
    db.create_tenant("a")
    db.create_collection("a", "docs", dim=DIM)
    now = 1_800_000_000.0
    db._set_clock(now)
    good = db.create_api_key("a", role="reader", name="good")
    soon = db.create_api_key("a", role="reader", name="soon", expires_at=now + 60)
    for bad in ("", "nonsense", good[:-2] + "zz", good.replace("oxv_", "oxw_"), "oxv_0123456789abcdef_x"):
        with pytest.raises(oxvec.PermissionDeniedError):
            db.session(bad)
    s = db.session(soon)
    c = s.collection("docs")
    db._set_clock(now + 61)
    with pytest.raises(oxvec.PermissionDeniedError, match="expired"):
        db.session(soon)
    with pytest.raises(oxvec.PermissionDeniedError, match="expired"):
        c.count()
    g = db.session(good).collection("docs")
    db.revoke_api_key("a", "good")
    with pytest.raises(oxvec.PermissionDeniedError, match="revoked"):
        g.count()
    with pytest.raises(oxvec.PermissionDeniedError):
        db.session(good)
    assert {k["name"]: k.get("revoked", False) for k in db.api_keys("a")} == {"good": True, "soon": False}


def test_no_secret_appears_on_disk(db):
    make_tenants(db, ("a",))
    op = db.create_api_key(None, role="operator", name="root")
    keys = [op] + [db.create_api_key("a", role="writer") for _ in range(3)]
    db.session(op).create_tenant("b")
    # a key is oxv_<id>_<secret>, and the base64url secret may itself hold
    # "_": split off the prefix and the id only (cutting at the last "_"
    # left a few characters that could occur in any file by chance)
    secrets = [k.split("_", 2)[2].encode() for k in keys]
    assert all(len(s) == 43 for s in secrets)
    for root, _, files in os.walk(db.path):
        for f in files:
            data = open(os.path.join(root, f), "rb").read()
            assert not any(s in data for s in secrets), f


def test_operator_key_administers_tenants_and_reads_no_data(db):
    op = db.create_api_key(None, role="operator", name="root")
    s = db.session(op)
    s.create_tenant("t1", quota=oxvec.Quota(max_vectors=10))
    s.create_collection("t1", "docs", dim=DIM)
    assert [t["name"] for t in s.tenants()] == ["t1"]
    with pytest.raises(oxvec.NotFoundError):
        s.collection("docs")
    admin = db.session(db.create_api_key("t1", role="admin"))
    with pytest.raises(oxvec.PermissionDeniedError):
        admin.create_tenant("t2")
    with pytest.raises(oxvec.PermissionDeniedError):
        admin.tenants()
    s.drop_tenant("t1")
    with pytest.raises(oxvec.PermissionDeniedError):
        admin.collection("docs")  # its keys went with the tenant


def test_names_cannot_escape_their_directory(db):
    for bad in ("..", "../x", "a/b", "a\\b", ".hidden", "", "x" * 65, "a..b", "sp ace"):
        with pytest.raises(oxvec.InvalidArgumentError):
            db.create_tenant(bad)
    db.create_tenant("ok")
    for bad in ("..", "../../etc", "a/b"):
        with pytest.raises(oxvec.InvalidArgumentError):
            db.create_collection("ok", bad, dim=DIM)
    db.create_collection("ok", "docs", dim=DIM)
    # directories are ids, not names
    tree = [n for _, dirs, files in os.walk(db.path) for n in dirs + files]
    assert "ok" not in tree and "docs" not in tree


def test_policy_applies_to_every_vector_written_or_searched(db):
    db.create_tenant("a", policy=oxvec.Policy(min_dim=2, max_dim=8, max_magnitude=1.0, metrics=["cosine"]))
    with pytest.raises(oxvec.InvalidArgumentError, match="metrics"):
        db.create_collection("a", "l2", dim=DIM, metric="l2")
    with pytest.raises(oxvec.InvalidArgumentError, match="dimensions"):
        db.create_collection("a", "wide", dim=16, metric="cosine")
    db.create_collection("a", "docs", dim=DIM, metric="cosine")
    c = db.session(db.create_api_key("a", role="writer")).collection("docs")
    with pytest.raises(oxvec.InvalidArgumentError, match="magnitude"):
        c.add(["x"], np.ones((1, DIM), np.float32))
    c.add(["x"], np.full((1, DIM), 0.4, np.float32))
    with pytest.raises(oxvec.InvalidArgumentError, match="magnitude"):
        c.search(np.ones(DIM, np.float32), k=1)
    with pytest.raises(oxvec.InvalidArgumentError):
        c.add(["nan"], np.full((1, DIM), np.nan, np.float32))  # the engine's own check still applies
    assert c.search(np.full(DIM, 0.1, np.float32), k=1)["ids"] == [["x"]]


def test_catalog_survives_reopen_and_damage_is_reported(tmp_path):
    path = tmp_path / "db"
    db = oxvec.Database(path, key_cost=4)
    keys = make_tenants(db, ("a", "b"))
    db.close()
    db = oxvec.Database(path, key_cost=4)
    assert [t["name"] for t in db.tenants()] == ["a", "b"]
    db.session(keys["b", "writer"]).collection("docs").add(["x"], vec())
    db.close()
    cat = path / "CATALOG"
    data = bytearray(cat.read_bytes())
    i = data.index(b'"name": "a"')
    data[i + 9] = ord("z")
    cat.write_bytes(bytes(data))
    with pytest.raises(oxvec.CorruptFileError):
        oxvec.Database(path, key_cost=4)
