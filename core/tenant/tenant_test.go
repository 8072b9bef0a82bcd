package tenant

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oxvec/oxvec/core/errs"
	_ "github.com/oxvec/oxvec/core/indexes"
	"github.com/oxvec/oxvec/core/store"
)

func openDB(t *testing.T, dir string) *Database {
	t.Helper()
	db, err := Open(dir, Options{KeyCost: 4, Store: store.Options{Durability: store.Never}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func vecs(n, dim int, scale float32) []float32 {
	v := make([]float32, n*dim)
	for i := range v {
		v[i] = scale * float32(i%7+1) / 10
	}
	return v
}

func keys(prefix string, n int) []string {
	k := make([]string, n)
	for i := range k {
		k[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return k
}

// setup: tenants a and b, each with a collection "docs" (dim 4) and keys of
// every built-in role.
func setup(t *testing.T, q Quota) (*Database, map[string]*Session) {
	db := openDB(t, t.TempDir())
	t.Cleanup(func() { db.Close() })
	sess := map[string]*Session{}
	for _, tn := range []string{"a", "b"} {
		must(t, db.CreateTenant(nil, tn, q, Policy{MaxDim: 64, MaxMagnitude: 100}))
		must(t, db.CreateCollection(nil, tn, "docs", store.Config{Dim: 4}))
		for _, role := range []string{"reader", "writer", "admin"} {
			key, _, err := db.CreateKey(nil, tn, role, role, KeyOptions{})
			must(t, err)
			s, err := db.Session(key)
			must(t, err)
			sess[tn+"/"+role] = s
		}
	}
	return db, sess
}

func TestNames_RefusePathsAndOddCharacters(t *testing.T) {
	for _, n := range []string{"", "..", "a/b", `a\b`, "../x", ".hidden", "a..b", strings.Repeat("x", 65), "a b", "é"} {
		if err := checkName("tenant", n); !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("name %q: got %v, want InvalidArgument", n, err)
		}
	}
	for _, n := range []string{"a", "A-1_b.c", strings.Repeat("x", 64)} {
		if err := checkName("tenant", n); err != nil {
			t.Errorf("name %q: %v", n, err)
		}
	}
}

func TestSession_RolesAllowWhatTheTableSays(t *testing.T) {
	_, sess := setup(t, Quota{})
	ctx := context.Background()
	for _, role := range []string{"reader", "writer", "admin"} {
		c, err := sess["a/"+role].Collection("docs")
		must(t, err)
		err = c.Add(ctx, store.Batch{Keys: []string{role}, Vectors: vecs(1, 4, 1)})
		if want := role != "reader"; (err == nil) != want || (err != nil && !errors.Is(err, errs.PermissionDenied)) {
			t.Errorf("%s add: %v", role, err)
		}
		if _, err := c.Count(); err != nil {
			t.Errorf("%s count: %v", role, err)
		}
		_, err = c.Delete(ctx, []string{"none"}, nil, nil)
		if want := role != "reader"; (err == nil) != want {
			t.Errorf("%s delete: %v", role, err)
		}
		err = sess["a/"+role].db.CreateCollection(sess["a/"+role], "a", "c-"+role, store.Config{Dim: 4})
		if want := role == "admin"; (err == nil) != want || (err != nil && !errors.Is(err, errs.PermissionDenied)) {
			t.Errorf("%s create collection: %v", role, err)
		}
	}
}

func TestSession_OtherTenantLooksLikeNotFound(t *testing.T) {
	db, sess := setup(t, Quota{})
	s := sess["a/admin"]
	_, e1 := s.Collection("nope")
	must(t, db.CreateCollection(nil, "b", "only-b", store.Config{Dim: 4}))
	_, e2 := s.Collection("only-b")
	if !errors.Is(e1, errs.NotFound) || !errors.Is(e2, errs.NotFound) || strings.ReplaceAll(e1.Error(), "nope", "X") != strings.ReplaceAll(e2.Error(), "only-b", "X") {
		t.Fatalf("not found %v vs other tenant's %v", e1, e2)
	}
	e3 := db.DropCollection(s, "b", "docs")
	e4 := db.DropCollection(s, "zzz", "docs")
	if !errors.Is(e3, errs.NotFound) || strings.ReplaceAll(e3.Error(), `"b"`, "X") != strings.ReplaceAll(e4.Error(), `"zzz"`, "X") {
		t.Fatalf("other tenant %v vs missing tenant %v", e3, e4)
	}
	if _, _, err := db.CreateKey(s, "b", "admin", "sneaky", KeyOptions{}); !errors.Is(err, errs.NotFound) {
		t.Fatalf("creating a key of another tenant: %v", err)
	}
	if err := db.CreateTenant(s, "c", Quota{}, Policy{}); !errors.Is(err, errs.PermissionDenied) {
		t.Fatalf("a tenant admin created a tenant: %v", err)
	}
}

func TestKeys_WrongRevokedExpiredAreRefused(t *testing.T) {
	now := time.Unix(1000, 0)
	db := openDB(t, t.TempDir())
	defer db.Close()
	db.SetClock(func() time.Time { return now })
	must(t, db.CreateTenant(nil, "a", Quota{}, Policy{}))
	good, _, err := db.CreateKey(nil, "a", "reader", "good", KeyOptions{})
	must(t, err)
	exp, _, err := db.CreateKey(nil, "a", "reader", "exp", KeyOptions{ExpiresNS: now.Add(time.Second).UnixNano()})
	must(t, err)
	s, err := db.Session(good)
	must(t, err)
	for _, bad := range []string{"", "oxv_", good[:len(good)-1] + "x", "oxv_0123456789abcdef_secret", strings.Replace(good, "oxv_", "oxw_", 1)} {
		if _, err := db.Session(bad); !errors.Is(err, errs.PermissionDenied) {
			t.Errorf("key %q: %v", bad, err)
		}
	}
	se, err := db.Session(exp)
	must(t, err)
	now = now.Add(2 * time.Second)
	if _, err := db.Session(exp); !errors.Is(err, errs.PermissionDenied) {
		t.Errorf("expired key opened a session: %v", err)
	}
	if _, err := se.Collection("x"); !errors.Is(err, errs.PermissionDenied) {
		t.Errorf("a session of an expired key still works: %v", err)
	}
	must(t, db.RevokeKey(nil, "a", "good"))
	if _, err := db.Session(good); !errors.Is(err, errs.PermissionDenied) {
		t.Errorf("revoked key opened a session: %v", err)
	}
	if _, err := s.Collection("x"); !errors.Is(err, errs.PermissionDenied) {
		t.Errorf("a session of a revoked key still works: %v", err)
	}
	// no secret on disk
	for _, k := range []string{good, exp} {
		_, secret, _ := parseKey(k)
		filepath.Walk(db.Root(), func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.Mode().IsRegular() {
				b, _ := os.ReadFile(p)
				if strings.Contains(string(b), secret) {
					t.Errorf("%s holds a key's secret", p)
				}
			}
			return nil
		})
	}
}

func TestLimiter_AdmitsRateAndBurst(t *testing.T) {
	now := time.Unix(0, 0)
	b := newBucket(10, 5)
	admitted := 0
	for i := 0; i < 1000; i++ { // 10 s in steps of 10 ms
		if admit(now, []string{"t"}, b) == nil {
			admitted++
		}
		now = now.Add(10 * time.Millisecond)
	}
	if admitted < 104 || admitted > 106 { // burst 5 + 10/s * 10 s
		t.Fatalf("admitted %d calls in 10 s at 10/s with burst 5, want 105", admitted)
	}
	b = newBucket(10, 5)
	n := 0
	for admit(now, []string{"t"}, b) == nil {
		n++
	}
	err := admit(now, []string{"t"}, b)
	if n != 5 || !errors.Is(err, errs.RateLimited) || !strings.Contains(err.Error(), "retry_after=0.1") {
		t.Fatalf("burst %d, then %v", n, err)
	}
}

func TestQuota_ConcurrentWritersStopExactlyAtTheLimit(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	must(t, db.CreateTenant(nil, "a", Quota{MaxVectors: 50}, Policy{}))
	must(t, db.CreateCollection(nil, "a", "one", store.Config{Dim: 4}))
	must(t, db.CreateCollection(nil, "a", "two", store.Config{Dim: 4}))
	key, _, _ := db.CreateKey(nil, "a", "writer", "w", KeyOptions{})
	s, _ := db.Session(key)
	var wg sync.WaitGroup
	var refused atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			c, _ := s.Collection([]string{"one", "two"}[g%2])
			for i := 0; i < 20; i++ {
				err := c.Add(context.Background(), store.Batch{Keys: []string{fmt.Sprintf("%d-%d", g, i)}, Vectors: vecs(1, 4, 1)})
				if errors.Is(err, errs.QuotaExceeded) {
					refused.Add(1)
				} else if err != nil {
					t.Error(err)
				}
			}
		}(g)
	}
	wg.Wait()
	use := db.tenants[db.cat.tenant("a").ID].meter.total()
	if use.Vectors != 50 || refused.Load() != 160-50 {
		t.Fatalf("usage %d vectors, %d refused; want 50 and 110", use.Vectors, refused.Load())
	}
	c, _ := s.Collection("one")
	n, _ := c.Delete(context.Background(), nil, map[string]any{}, nil)
	if got := db.tenants[db.cat.tenant("a").ID].meter.total().Vectors; got != 50-int64(n) {
		t.Fatalf("after deleting %d: usage %d", n, got)
	}
	must(t, db.Close())
	db = openDB(t, dir)
	defer db.Close()
	if got := db.tenants[db.cat.tenant("a").ID].meter.total().Vectors; got != 50-int64(n) {
		t.Fatalf("after reopen: usage %d, want %d", got, 50-n)
	}
}

func TestPolicy_RefusesBigVectorsAndDisallowedMetrics(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	must(t, db.CreateTenant(nil, "a", Quota{}, Policy{MinDim: 2, MaxDim: 8, MaxMagnitude: 1, Metrics: []string{"cosine"}}))
	if err := db.CreateCollection(nil, "a", "l2", store.Config{Dim: 4, Metric: "l2"}); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("metric not allowed: %v", err)
	}
	if err := db.CreateCollection(nil, "a", "big", store.Config{Dim: 16, Metric: "cosine"}); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("dim not allowed: %v", err)
	}
	must(t, db.CreateCollection(nil, "a", "ok", store.Config{Dim: 4, Metric: "cosine"}))
	key, _, _ := db.CreateKey(nil, "a", "writer", "w", KeyOptions{})
	s, _ := db.Session(key)
	c, _ := s.Collection("ok")
	if err := c.Add(context.Background(), store.Batch{Keys: []string{"x"}, Vectors: []float32{1, 1, 0, 0}}); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("magnitude 1.41 > 1 written: %v", err)
	}
	if _, err := c.Search(context.Background(), store.SearchRequest{Vectors: []float32{3, 0, 0, 0}, K: 1}); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("magnitude 3 searched: %v", err)
	}
	must(t, c.Add(context.Background(), store.Batch{Keys: []string{"x"}, Vectors: []float32{0.5, 0.5, 0, 0}}))
}

// TestProperty_NoCrossTenantAccess: random operations by random keys of two
// tenants; no call reaches the other tenant's data and every denial has
// the right class.
func TestProperty_NoCrossTenantAccess(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	db, sess := setup(t, Quota{})
	ctx := context.Background()
	names := []string{"a/reader", "a/writer", "a/admin", "b/reader", "b/writer", "b/admin"}
	for i := 0; i < 400; i++ {
		who := names[rng.Intn(len(names))]
		s := sess[who]
		own, role := who[:1], who[2:]
		other := map[string]string{"a": "b", "b": "a"}[own]
		coll := fmt.Sprintf("c%d", rng.Intn(3))
		if rng.Intn(4) == 0 {
			tn := []string{own, other}[rng.Intn(2)]
			err := db.CreateCollection(s, tn, coll, store.Config{Dim: 4})
			switch {
			case tn == other && !errors.Is(err, errs.NotFound):
				t.Fatalf("op %d: %s created a collection of %s: %v", i, who, tn, err)
			case tn == own && role != "admin" && !errors.Is(err, errs.PermissionDenied):
				t.Fatalf("op %d: %s (no admin) created a collection: %v", i, who, err)
			}
			continue
		}
		c, err := s.Collection(coll)
		if err != nil {
			if !errors.Is(err, errs.NotFound) {
				t.Fatalf("op %d: %v", i, err)
			}
			continue
		}
		key := fmt.Sprintf("%s-%d", own, i)
		err = c.Add(ctx, store.Batch{Keys: []string{key}, Vectors: vecs(1, 4, 1), Metas: []store.Meta{{"tenant": own}}})
		if (role == "reader") != errors.Is(err, errs.PermissionDenied) || (role != "reader" && err != nil) {
			t.Fatalf("op %d: %s add: %v", i, who, err)
		}
		rows, err := c.Get(nil, nil, nil, 0, 0, store.Include{Metadatas: true})
		must(t, err)
		for _, m := range rows.Metas {
			if m["tenant"] != own {
				t.Fatalf("op %d: %s read a record of tenant %v", i, who, m["tenant"])
			}
		}
	}
}

func TestQuota_ByteLimitsNameTheirLimit(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	must(t, db.CreateTenant(nil, "a", Quota{MaxIndexBytes: 4 * 4 * 10}, Policy{}))
	must(t, db.CreateCollection(nil, "a", "docs", store.Config{Dim: 4}))
	key, _, _ := db.CreateKey(nil, "a", "writer", "w", KeyOptions{})
	s, _ := db.Session(key)
	c, _ := s.Collection("docs")
	err := c.Add(context.Background(), store.Batch{Keys: keys("x", 11), Vectors: vecs(11, 4, 1)})
	if !errors.Is(err, errs.QuotaExceeded) || !strings.Contains(err.Error(), "limit=max_index_bytes use=0 limit_value=160") {
		t.Fatalf("11 vectors of 16 bytes under a 160-byte index quota: %v", err)
	}
	if n, _ := c.Count(); n != 0 {
		t.Fatalf("a refused write left %d records", n)
	}
}
