package index_test

import (
	"context"
	"errors"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	_ "github.com/oxvec/oxvec/core/indexes"
)

var bg = context.Background()

// specs is one spec of every registered type (dim 8), with the knobs its
// search honours and whether its vectors come back exactly.
var specs = []struct {
	spec  string
	knobs []string
	exact bool
}{
	{`{"type":"flat","dim":8}`, nil, true},
	{`{"type":"hnsw","dim":8,"m":8}`, []string{"ef"}, true},
	{`{"type":"ivf_flat","dim":8,"nlist":4}`, []string{"nprobe"}, true},
	{`{"type":"ivf_pq","dim":8,"nlist":4,"m":4,"nbits":4}`, []string{"nprobe"}, false},
	{`{"type":"ivf_pq","dim":8,"nlist":4,"m":4,"nbits":4,"refine":2}`, []string{"nprobe"}, true},
	{`{"type":"pq","dim":8,"m":4,"nbits":4}`, nil, false},
	{`{"type":"sq","dim":8}`, nil, false},
	{`{"type":"binary","dim":8}`, nil, true},
	{`{"type":"opq","dim":8,"m":4,"iters":2,"index":{"type":"pq","m":4,"nbits":4}}`, nil, false},
	{`{"type":"opq","dim":8,"m":4,"iters":2,"index":{"type":"ivf_flat","nlist":4}}`, []string{"nprobe"}, true},
}

func filled(t *testing.T, spec string) (index.Index, []float32) {
	t.Helper()
	idx, err := index.New([]byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(1))
	x := make([]float32, 300*8)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	if tr, ok := idx.(index.Trainer); ok {
		if err := tr.Train(bg, x); err != nil {
			t.Fatal(err)
		}
	}
	ids := make([]int64, 300)
	for i := range ids {
		ids[i] = int64(10 + 2*i) // not 0..n-1: the id maps are used
	}
	if err := idx.Add(bg, x, ids, nil); err != nil {
		t.Fatal(err)
	}
	return idx, x
}

func TestIndex_EveryTypeRefusesAnIDItHolds(t *testing.T) {
	for _, c := range specs {
		idx, x := filled(t, c.spec)
		err := idx.Add(bg, x[:8], []int64{10}, nil)
		if !errors.Is(err, errs.DuplicateID) {
			t.Errorf("%s: re-adding id 10: %v", c.spec, err)
		}
		if idx.Len() != 300 {
			t.Errorf("%s: len %d after a refused add", c.spec, idx.Len())
		}
	}
}

func TestIndex_KnobsAreDeclaredCheckedAndSettable(t *testing.T) {
	for _, c := range specs {
		idx, x := filled(t, c.spec)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // defaults change safely while searches run (go test -race)
			defer wg.Done()
			ids, dist := make([]int64, 5), make([]float32, 5)
			for range 20 {
				idx.Search(bg, x[:8], 5, nil, ids, dist)
			}
		}()
		if got := index.KnobsOf(idx); strings.Join(got, ",") != strings.Join(c.knobs, ",") {
			t.Errorf("%s: knobs %v, want %v", c.spec, got, c.knobs)
		}
		for _, p := range []index.SearchParams{{Ef: 50}, {NProbe: 2}} {
			name := "ef"
			if p.NProbe != 0 {
				name = "nprobe"
			}
			has := strings.Contains(strings.Join(c.knobs, ","), name)
			err := index.CheckKnobs(idx, &p)
			if has != (err == nil) || (err != nil && !errors.Is(err, errs.InvalidArgument)) {
				t.Errorf("%s: search with %s: %v", c.spec, name, err)
			}
			err = index.SetParams(idx, []byte(`{"`+name+`": 3}`))
			if has != (err == nil) {
				t.Errorf("%s: set %s: %v", c.spec, name, err)
			}
			if has && index.Knobs(idx)[name] != 3 {
				t.Errorf("%s: %s default %v after setting 3", c.spec, name, index.Knobs(idx))
			}
		}
		for _, bad := range []string{`{"nprobe": 0}`, `{"ef": -1}`, `{"ef": 1.5}`, `[1]`, `{"nprobe": 99999999999}`, `{"m": 4}`} {
			if err := index.SetParams(idx, []byte(bad)); !errors.Is(err, errs.InvalidArgument) {
				t.Errorf("%s: set %s: %v", c.spec, bad, err)
			}
		}
		wg.Wait()
		ids, dist := make([]int64, 5), make([]float32, 5)
		if err := idx.Search(bg, x[:8], 5, nil, ids, dist); err != nil || ids[0] < 0 {
			t.Errorf("%s: search after setting defaults: %v %v", c.spec, ids, err)
		}
	}
}

func TestIndex_VectorsComeBackByID(t *testing.T) {
	for _, c := range specs {
		idx, x := filled(t, c.spec)
		r, ok := idx.(index.Reconstructor)
		if !ok {
			t.Errorf("%s: no Vectors", c.spec)
			continue
		}
		ids := []int64{10 + 2*299, 10, 10 + 2*7}
		rows := []int{299, 0, 7}
		out := make([]float32, 3*8)
		if err := r.Vectors(ids, out); err != nil {
			t.Errorf("%s: %v", c.spec, err)
			continue
		}
		for i, row := range rows {
			var e2, n2 float64
			for j := range 8 {
				d := float64(out[i*8+j] - x[row*8+j])
				e2 += d * d
				n2 += float64(x[row*8+j]) * float64(x[row*8+j])
			}
			if c.exact && e2 > 1e-10 {
				t.Errorf("%s: id %d comes back %v, stored %v", c.spec, ids[i], out[i*8:i*8+8], x[row*8:row*8+8])
			}
			if !c.exact && !(e2 < n2) { // a reconstruction, nearer than the origin
				t.Errorf("%s: id %d reconstructed %v, stored %v", c.spec, ids[i], out[i*8:i*8+8], x[row*8:row*8+8])
			}
		}
		err := r.Vectors([]int64{10, 11, 5, 12}, make([]float32, 4*8))
		if !errors.Is(err, errs.NotFound) || !strings.Contains(err.Error(), "11, 5") {
			t.Errorf("%s: unknown ids: %v", c.spec, err)
		}
		if err := r.Vectors([]int64{10, 12}, nil); err != nil {
			t.Errorf("%s: presence only: %v", c.spec, err)
		}
		if err := r.Vectors([]int64{10}, make([]float32, 3)); !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("%s: short output: %v", c.spec, err)
		}
		if _, err := idx.Remove(bg, []int64{10}); err != nil {
			t.Fatal(err)
		}
		if err := r.Vectors([]int64{10}, nil); !errors.Is(err, errs.NotFound) {
			t.Errorf("%s: removed id: %v", c.spec, err)
		}
	}
}

func TestIndex_BinaryWithoutRerankHasNoVectorsToGive(t *testing.T) {
	idx, _ := filled(t, `{"type":"binary","dim":8,"rerank":0}`)
	r := idx.(index.Reconstructor)
	if err := r.Vectors([]int64{10}, make([]float32, 8)); !errors.Is(err, errs.Unsupported) {
		t.Fatalf("rerank 0: %v", err)
	}
	if err := r.Vectors([]int64{10}, nil); err != nil {
		t.Fatalf("presence with rerank 0: %v", err)
	}
}
