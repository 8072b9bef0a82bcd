package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oxvec/oxvec/core/errs"

	_ "github.com/oxvec/oxvec/core/flat"
	_ "github.com/oxvec/oxvec/core/hnsw"
)

var bg = context.Background()

func create(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	if opts.Create == nil {
		opts.Create = &Config{Dim: 4, Metric: "l2"}
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func strp(s string) *string { return &s }

func batch(n, from int, rng *rand.Rand) Batch {
	b := Batch{}
	for i := 0; i < n; i++ {
		b.Keys = append(b.Keys, fmt.Sprintf("doc-%d", from+i))
		for j := 0; j < 4; j++ {
			b.Vectors = append(b.Vectors, float32(rng.NormFloat64()))
		}
		b.Docs = append(b.Docs, strp(fmt.Sprintf("text %d", from+i)))
		b.Metas = append(b.Metas, Meta{"n": int64(from + i), "even": (from+i)%2 == 0, "tag": []any{"t" + fmt.Sprint((from+i)%3)}})
	}
	return b
}

func TestStore_WritesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(1))
	s := create(t, dir, Options{})
	if err := s.Add(bg, batch(100, 0, rng)); err != nil {
		t.Fatal(err)
	}
	if err := s.Upsert(bg, batch(10, 95, rng)); err != nil { // 5 replaced, 5 new
		t.Fatal(err)
	}
	if err := s.Update(bg, Batch{Keys: []string{"doc-1"}, Metas: []Meta{{"n": int64(-1)}}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Delete(bg, []string{"doc-2", "missing"}, nil, nil); err != nil || n != 1 {
		t.Fatalf("delete: %d %v", n, err)
	}
	want, _ := s.Get(nil, nil, nil, 0, 0, Include{Documents: true, Metadatas: true, Embeddings: true})
	s.Close()
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, _ := s2.Get(nil, nil, nil, 0, 0, Include{Documents: true, Metadatas: true, Embeddings: true})
	if s2.Count() != 104 || fmt.Sprint(got.Keys) != fmt.Sprint(want.Keys) || fmt.Sprint(got.Metas) != fmt.Sprint(want.Metas) {
		t.Fatalf("after reopen: %d records", s2.Count())
	}
	r, _ := s2.Get([]string{"doc-1"}, nil, nil, 0, 0, Include{Metadatas: true})
	if r.Metas[0]["n"] != int64(-1) || r.Metas[0]["tag"] != nil {
		t.Fatalf("update replaced metadata: %v", r.Metas[0])
	}
}

func TestStore_AddRejectsExistingIDsAndBadInput(t *testing.T) {
	s := create(t, t.TempDir(), Options{})
	defer s.Close()
	rng := rand.New(rand.NewSource(2))
	s.Add(bg, batch(3, 0, rng))
	if err := s.Add(bg, batch(2, 2, rng)); !errors.Is(err, errs.DuplicateID) {
		t.Fatalf("existing id: %v", err)
	}
	if s.Count() != 3 {
		t.Fatal("a failed batch changed the store")
	}
	if err := s.Update(bg, Batch{Keys: []string{"nope"}, Docs: []*string{strp("x")}}); !errors.Is(err, errs.NotFound) {
		t.Fatalf("update missing: %v", err)
	}
	if err := s.Add(bg, Batch{Keys: []string{"a"}, Vectors: []float32{1, 2, 3}}); !errors.Is(err, errs.Dimension) {
		t.Fatalf("bad dim: %v", err)
	}
	if err := s.Add(bg, Batch{Keys: []string{"a", "a"}, Vectors: make([]float32, 8)}); !errors.Is(err, errs.DuplicateID) {
		t.Fatalf("dup in batch: %v", err)
	}
}

func TestStore_FiltersInsideSearch(t *testing.T) {
	s := create(t, t.TempDir(), Options{Create: &Config{Dim: 4, Metric: "l2", Index: []byte(`{"type":"hnsw"}`)}})
	defer s.Close()
	rng := rand.New(rand.NewSource(3))
	s.Add(bg, batch(500, 0, rng))
	cases := map[string]struct {
		where any
		count int
	}{
		"eq":      {map[string]any{"even": true}, 250},
		"gte-lt":  {map[string]any{"n": map[string]any{"$gte": num(100), "$lt": num(110)}}, 10},
		"in list": {map[string]any{"tag": map[string]any{"$in": []any{"t0"}}}, 167},
		"or":      {map[string]any{"$or": []any{map[string]any{"n": num(3)}, map[string]any{"n": num(4)}}}, 2},
		"not":     {map[string]any{"$not": map[string]any{"even": true}}, 250},
		"exists":  {map[string]any{"missing": map[string]any{"$exists": false}}, 500},
		"ne list": {map[string]any{"tag": map[string]any{"$ne": "t1"}}, 333},
	}
	for name, c := range cases {
		r, err := s.Get(nil, c.where, nil, 0, 0, Include{})
		if err != nil || len(r.Keys) != c.count {
			t.Fatalf("%s: %d records (%v), want %d", name, len(r.Keys), err, c.count)
		}
		h, err := s.Search(bg, SearchRequest{Vectors: make([]float32, 4), K: 20, Where: c.where, Include: Include{Metadatas: true}})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Keys[0]) != min(20, c.count) {
			t.Fatalf("%s: search returned %d, %d match", name, len(h.Keys[0]), c.count)
		}
	}
	r, _ := s.Get(nil, nil, map[string]any{"$contains": "text 49"}, 0, 0, Include{})
	if len(r.Keys) != 11 { // 49, 490..499
		t.Fatalf("document filter: %d", len(r.Keys))
	}
	if _, err := s.Get(nil, map[string]any{"n": map[string]any{"$regex": "x"}}, nil, 0, 0, Include{}); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("unknown operator: %v", err)
	}
}

func num(i int64) any { return i }

func TestStore_SnapshotThenWALThenReopen(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(4))
	s := create(t, dir, Options{SnapshotEvery: -1})
	s.Add(bg, batch(50, 0, rng))
	if err := s.Snapshot(); err != nil {
		t.Fatal(err)
	}
	s.Add(bg, batch(50, 50, rng))
	s.Delete(bg, nil, map[string]any{"even": true}, nil)
	s.Close()
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Count() != 50 {
		t.Fatalf("count %d, want 50", s2.Count())
	}
	segs, _ := segments(dir)
	if len(segs) > 2 {
		t.Fatalf("%d WAL segments left", len(segs))
	}
}

func TestStore_TornTailIsTruncatedAndMiddleDamageStops(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(5))
	s := create(t, dir, Options{SnapshotEvery: -1})
	for i := 0; i < 5; i++ {
		s.Add(bg, batch(10, 10*i, rng))
	}
	s.Close()
	markCrashed(t, dir)
	segs, _ := segments(dir)
	path := filepath.Join(dir, segmentName(segs[len(segs)-1]))
	data, _ := os.ReadFile(path)
	// a crash in the middle of the last record: its end never written
	end := len(data)
	for data[end-1] == 0 {
		end--
	}
	clear(data[end-7:])
	os.WriteFile(path, data, 0o644)
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Count() != 40 {
		t.Fatalf("torn tail: %d records, want 40", s2.Count())
	}
	// the torn bytes are kept beside the log, and reported
	rep := s2.Info().Recovery
	if len(rep.Quarantined) != 1 || rep.CleanClose {
		t.Fatalf("recovery report %+v", rep)
	}
	q := rep.Quarantined[0]
	kept, err := os.ReadFile(filepath.Join(dir, q.File))
	if err != nil || !bytes.Equal(kept, data[q.Offset:end-7]) {
		t.Fatalf("quarantine file %s: %v (%d bytes)", q.File, err, len(kept))
	}
	s2.Add(bg, batch(10, 100, rng))
	s2.Close()
	// damage in the middle: flip a byte of the first record
	segs, _ = segments(dir)
	path = filepath.Join(dir, segmentName(segs[0]))
	data, _ = os.ReadFile(path)
	data[walHeader+3] ^= 0xff
	os.WriteFile(path, data, 0o644)
	_, err = Open(dir, Options{})
	var re *RecoveryError
	if !errors.As(err, &re) || !errors.Is(err, errs.Corrupt) || !strings.Contains(err.Error(), "valid records follow") {
		t.Fatalf("middle damage: %v", err)
	}
}

func TestStore_EncryptedStoreHasNoPlaintextOnDisk(t *testing.T) {
	dir := t.TempDir()
	key := bytes.Repeat([]byte{7}, 32)
	s := create(t, dir, Options{Key: key, SnapshotEvery: -1})
	secret := "the launch code is 0000"
	vec := []float32{12345.678, -9876.5, 3.25, 1e-3}
	s.Add(bg, Batch{Keys: []string{"k"}, Vectors: vec, Docs: []*string{&secret}, Metas: []Meta{{"owner": "alice-secret"}}})
	s.Snapshot()
	s.Add(bg, Batch{Keys: []string{"k2"}, Vectors: vec, Docs: []*string{&secret}})
	s.Close()
	raw := []byte{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, _ := os.ReadFile(p)
			raw = append(raw, b...)
		}
		return nil
	})
	for _, needle := range [][]byte{[]byte("launch code"), []byte("alice-secret"), bytesOf(vec[:2])} {
		if bytes.Contains(raw, needle) {
			t.Fatalf("%q found in plain form on disk", needle)
		}
	}
	if _, err := Open(dir, Options{}); !errors.Is(err, errs.InvalidArgument) || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("no key: %v", err)
	}
	if _, err := Open(dir, Options{Key: bytes.Repeat([]byte{8}, 32)}); !errors.Is(err, errs.InvalidArgument) || !strings.Contains(err.Error(), "wrong key") {
		t.Fatalf("wrong key: %v", err)
	}
	s2, err := Open(dir, Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := s2.Get([]string{"k2"}, nil, nil, 0, 0, Include{Documents: true})
	if *r.Docs[0] != secret {
		t.Fatal("decrypted document differs")
	}
	s2.Close()
}

func bytesOf(v []float32) []byte {
	var b bytes.Buffer
	for _, x := range v {
		fmt.Fprintf(&b, "%s", string(float32Bytes(x)))
	}
	return b.Bytes()
}

func TestStore_OneWriterAndReadOnlyReaders(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(6))
	s := create(t, dir, Options{})
	defer s.Close()
	s.Add(bg, batch(10, 0, rng))
	if _, err := Open(dir, Options{}); !errors.Is(err, errs.State) || !strings.Contains(err.Error(), "read_only") {
		t.Fatalf("second writer: %v", err)
	}
	r, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Count() != 10 {
		t.Fatalf("reader sees %d", r.Count())
	}
	if err := r.Add(bg, batch(1, 50, rng)); !errors.Is(err, errs.State) {
		t.Fatalf("write to a read-only store: %v", err)
	}
}

func TestStore_ConcurrentWritersShareFsyncs(t *testing.T) {
	s := create(t, t.TempDir(), Options{})
	defer s.Close()
	const writers, each = 8, 40
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for i := 0; i < each; i++ {
				if err := s.Add(bg, batch(1, w*1000+i, rng)); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	syncs := s.wal.syncs.Load()
	t.Logf("%d durable writes, %d fsyncs", writers*each, syncs)
	if s.Count() != writers*each || syncs >= writers*each {
		t.Fatalf("%d records, %d fsyncs for %d writes: no fsync was shared", s.Count(), syncs, writers*each)
	}
}
