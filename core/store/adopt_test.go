package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/migrate"
)

const adoptDim = 8

// adoptable builds an HNSW index whose ids are slots 0..n-1 with a few
// removed (gaps, as hnswlib's deleted elements leave), and its vectors.
func adoptable(t *testing.T, n int, gone []int64) (index.Index, []int64, []float32) {
	t.Helper()
	idx, err := index.New([]byte(fmt.Sprintf(`{"type":"hnsw","dim":%d,"metric":"l2","m":6,"ef_construction":40,"ef_search":20}`, adoptDim)))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(3))
	vecs := make([]float32, n*adoptDim)
	for i := range vecs {
		vecs[i] = float32(rng.NormFloat64())
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(i)
	}
	if err := idx.Add(bg, vecs, ids, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := idx.Remove(bg, gone); err != nil {
		t.Fatal(err)
	}
	var slots []int64
	for _, id := range ids {
		if !slices.Contains(gone, id) {
			slots = append(slots, id)
		}
	}
	return idx, slots, vecs
}

func adoptBatch(slots []int64) Batch {
	var b Batch
	for _, id := range slots {
		b.Keys = append(b.Keys, fmt.Sprintf("f%d", id))
		b.Docs = append(b.Docs, strp(fmt.Sprintf("doc %d", id)))
		b.Metas = append(b.Metas, Meta{"n": float64(id)})
	}
	return b
}

// indexAnswers is what idx itself returns at ef, as keys f<id>.
func indexAnswers(t *testing.T, idx index.Index, qs []float32, k, ef int) [][]string {
	t.Helper()
	nq := len(qs) / adoptDim
	ids, dist := make([]int64, nq*k), make([]float32, nq*k)
	if err := idx.Search(bg, qs, k, &index.SearchParams{Ef: ef}, ids, dist); err != nil {
		t.Fatal(err)
	}
	out := make([][]string, nq)
	for q := range out {
		for _, id := range ids[q*k : (q+1)*k] {
			out[q] = append(out[q], fmt.Sprintf("f%d", id))
		}
	}
	return out
}

func storeAnswers(t *testing.T, s *Store, qs []float32, k, ef int) [][]string {
	t.Helper()
	h, err := s.Search(bg, SearchRequest{Vectors: qs, K: k, Ef: ef})
	if err != nil {
		t.Fatal(err)
	}
	return h.Keys
}

func TestAdopt_KeepsTheGraphAcrossReopen(t *testing.T) {
	n, gone := 400, []int64{3, 50, 399}
	idx, slots, vecs := adoptable(t, n, gone)
	qs := vecs[:20*adoptDim]
	// a low ef makes the answers depend on the graph, not only the data
	want := indexAnswers(t, idx, qs, 10, 12)
	dir := filepath.Join(t.TempDir(), "adopted")
	s, err := Adopt(dir, Options{}, idx, json.RawMessage(`{"type":"hnsw","m":6,"ef_construction":40,"ef_search":20}`), slots, adoptBatch(slots))
	if err != nil {
		t.Fatal(err)
	}
	if got := storeAnswers(t, s, qs, 10, 12); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("store answers %v, the index's %v", got[:2], want[:2])
	}
	info := s.Info()
	if info.Count != n-len(gone) || info.Recovery.Replayed != 0 || info.Phase != "indexed" || s.idx.Info().Type != "hnsw" {
		t.Fatalf("info %+v", info)
	}
	rows, err := s.Get([]string{"f7"}, nil, nil, 0, 0, Include{Documents: true, Metadatas: true, Embeddings: true})
	if err != nil || len(rows.Keys) != 1 || *rows.Docs[0] != "doc 7" || fmt.Sprint(rows.Metas[0]["n"]) != "7" || !slices.Equal(rows.Vectors, vecs[7*adoptDim:8*adoptDim]) {
		t.Fatalf("record f7: %+v, %v", rows, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// reopen: the snapshot's graph is loaded, nothing replayed or rebuilt
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := storeAnswers(t, s, qs, 10, 12); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatal("answers changed across reopen")
	}
	if r := s.Info().Recovery; r.Replayed != 0 || !r.CleanClose {
		t.Fatalf("recovery %+v", r)
	}
	if v, ok := s.idx.(index.Verifier); ok {
		if err := v.Verify(); err != nil {
			t.Fatal(err)
		}
	}
	// later writes: a new record takes the lowest free slot, deletes work
	add := Batch{Keys: []string{"new"}, Vectors: make([]float32, adoptDim)}
	if err := s.Add(bg, add); err != nil {
		t.Fatal(err)
	}
	if id := s.tab.byKey["new"]; id != 3 {
		t.Fatalf("the new record took slot %d, want the free slot 3", id)
	}
	if err := s.Add(bg, Batch{Keys: []string{"f7"}, Vectors: make([]float32, adoptDim)}); !errors.Is(err, errs.DuplicateID) {
		t.Fatalf("adding an adopted key again: %v", err)
	}
	if k, err := s.Delete(bg, []string{"f7", "f8"}, nil, nil); err != nil || k != 2 {
		t.Fatal(k, err)
	}
	if got := storeAnswers(t, s, make([]float32, adoptDim), 1, 0); got[0][0] != "new" {
		t.Fatalf("nearest to the origin: %v", got)
	}
	if s.Count() != n-len(gone)+1-2 {
		t.Fatal(s.Count())
	}
}

func TestAdopt_RefusesBadInputAndLeavesNoStore(t *testing.T) {
	idx, slots, _ := adoptable(t, 50, nil)
	defer idx.Close()
	spec := json.RawMessage(`{"type":"hnsw","m":6}`)
	short := adoptBatch(slots)
	short.Keys = short.Keys[:10]
	noDocs := adoptBatch(slots)
	noDocs.Docs = noDocs.Docs[:3]
	dup := adoptBatch(slots)
	dup.Keys[1] = dup.Keys[0]
	badMeta := adoptBatch(slots)
	badMeta.Metas[4] = Meta{"": 1}
	wrongSlots := append([]int64{}, slots...)
	wrongSlots[0] = 999
	cases := []struct {
		name  string
		slots []int64
		b     Batch
		spec  json.RawMessage
		class error
	}{
		{"few ids", slots, short, spec, errs.InvalidArgument},
		{"few documents", slots, noDocs, spec, errs.InvalidArgument},
		{"repeated id", slots, dup, spec, errs.DuplicateID},
		{"bad metadata", slots, badMeta, spec, errs.InvalidArgument},
		{"slots not the index's ids", wrongSlots, adoptBatch(slots), spec, errs.InvalidArgument},
		{"few slots", slots[1:], adoptBatch(slots), spec, errs.InvalidArgument},
		{"spec of another type", slots, adoptBatch(slots), json.RawMessage(`{"type":"flat"}`), errs.InvalidArgument},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// a copy per case: Adopt owns (and closes) the index it gets
			var buf writerBuf
			if err := idx.Save(&buf); err != nil {
				t.Fatal(err)
			}
			cp, err := index.Load(buf.b)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "s")
			_, err = Adopt(dir, Options{}, cp, c.spec, c.slots, c.b)
			if !errors.Is(err, c.class) {
				t.Fatalf("got %v, want %v", err, c.class)
			}
			if _, serr := os.Stat(dir); !os.IsNotExist(serr) {
				t.Fatalf("%s was left behind", dir)
			}
		})
	}
	// a directory holding a store is refused and left as it was
	dir := t.TempDir()
	create(t, dir, Options{}).Close()
	before, _ := os.ReadDir(dir)
	var buf writerBuf
	idx.Save(&buf)
	cp, _ := index.Load(buf.b)
	if _, err := Adopt(dir, Options{}, cp, spec, slots, adoptBatch(slots)); !errors.Is(err, errs.InvalidArgument) {
		t.Fatal(err)
	}
	if after, _ := os.ReadDir(dir); len(after) != len(before) {
		t.Fatalf("entries %d -> %d", len(before), len(after))
	}
}

// An empty directory that exists keeps existing after a failure, empty.
func TestAdopt_FailureInAnExistingDirectoryRemovesOnlyItsFiles(t *testing.T) {
	idx, slots, _ := adoptable(t, 30, nil)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("x"), 0o644)
	b := adoptBatch(slots)
	b.Docs = b.Docs[:1]
	if _, err := Adopt(dir, Options{}, idx, json.RawMessage(`{"type":"hnsw"}`), slots, b); !errors.Is(err, errs.InvalidArgument) {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || ents[0].Name() != "keep.txt" {
		t.Fatalf("left %v", ents)
	}
}

// A trained type (ivf_flat) is adopted trained: the store starts indexed.
func TestAdopt_TrainedTypeStartsIndexed(t *testing.T) {
	idx, err := index.New([]byte(`{"type":"ivf_flat","dim":4,"metric":"l2","nlist":4,"nprobe":4}`))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(5))
	b := batch(300, 0, rng)
	if err := idx.(index.Trainer).Train(bg, b.Vectors); err != nil {
		t.Fatal(err)
	}
	slots := make([]int64, 300)
	for i := range slots {
		slots[i] = int64(i)
	}
	if err := idx.Add(bg, b.Vectors, slots, nil); err != nil {
		t.Fatal(err)
	}
	vecs := b.Vectors
	b.Vectors = nil
	dir := filepath.Join(t.TempDir(), "ivf")
	s, err := Adopt(dir, Options{}, idx, json.RawMessage(`{"type":"ivf_flat","nlist":4,"nprobe":4}`), slots, b)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if info := s.Info(); info.Phase != "indexed" || s.idx.Info().Type != "ivf_flat" {
		t.Fatalf("%+v", info)
	}
	for i := 0; i < 300; i += 37 {
		if got := searchOne(t, s, vecs[i*4:(i+1)*4]); got != b.Keys[i] {
			t.Fatalf("record %d found %s", i, got)
		}
	}
}

type writerBuf struct{ b []byte }

func (w *writerBuf) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

// Every faiss type migrate reads is adopted with its structure: after a
// reopen the store answers as the slotted index did before adoption.
func TestAdopt_EveryFaissSeedAnswersAsTheMigratedIndex(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "migrate", "testdata", "*.faiss"))
	adopted := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sl, err := migrate.FaissSlotted(raw)
		if errors.Is(err, errs.Unsupported) {
			continue // lsh, sq fp16: not read at all
		}
		if err != nil {
			t.Fatal(f, err)
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			d, n := sl.Index.Dim(), sl.Index.Len()
			qs := make([]float32, min(n, 5)*d)
			if err := sl.Index.(index.Reconstructor).Vectors(sl.Slots[:len(qs)/d], qs); err != nil {
				t.Fatal(err)
			}
			k := min(n, 4)
			nq := len(qs) / d
			wantIDs, wantDist := make([]int64, nq*k), make([]float32, nq*k)
			if err := sl.Index.Search(bg, qs, k, nil, wantIDs, wantDist); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "s")
			s, err := Adopt(dir, Options{}, sl.Index, sl.Spec, sl.Slots, Batch{Keys: sl.Keys()})
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			if s, err = Open(dir, Options{}); err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			h, err := s.Search(bg, SearchRequest{Vectors: qs, K: k})
			if err != nil {
				t.Fatal(err)
			}
			keys := sl.Keys()
			for q := 0; q < nq; q++ {
				found := 0 // the index pads a short answer with -1; the store does not
				for _, id := range wantIDs[q*k : (q+1)*k] {
					if id >= 0 {
						found++
					}
				}
				if len(h.Keys[q]) != found {
					t.Fatalf("query %d: %d results, the index's %d", q, len(h.Keys[q]), found)
				}
				for j := 0; j < found; j++ {
					if got, want := *h.Dists[q][j], wantDist[q*k+j]; got != want {
						t.Fatalf("query %d rank %d: distance %v, the index's %v", q, j, got, want)
					}
					if got, want := h.Keys[q][j], keys[slices.Index(sl.Slots, wantIDs[q*k+j])]; got != want {
						t.Fatalf("query %d rank %d: %s, the index's %s", q, j, got, want)
					}
				}
			}
		})
		adopted++
	}
	if adopted < 8 {
		t.Fatalf("only %d seeds adopted", adopted)
	}
}
