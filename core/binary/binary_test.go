package binary

import (
	"bytes"
	"context"
	"errors"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

var bg = context.Background()

func data(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func newIndex(t *testing.T, kind metric.Kind, d, rerank int, train []float32) *Binary {
	t.Helper()
	m, _ := metric.New(kind, d, metric.Params{})
	b, err := New(d, m, rerank)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Train(bg, train); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBinary_HammingScanAndExactRerank(t *testing.T) {
	const d, n, k = 128, 3000, 10
	base, q := data(n, d, 1), data(20, d, 2)
	// rerank 0: distances are hamming counts of the codes, checked by hand
	b := newIndex(t, metric.L2, d, 0, base)
	b.Add(bg, base, nil, nil)
	ids, dist := make([]int64, 20*k), make([]float32, 20*k)
	if err := b.Search(bg, q, k, nil, ids, dist); err != nil {
		t.Fatal(err)
	}
	qc, bc := make([]uint64, b.words), make([]uint64, b.words)
	for i := range 20 {
		b.encode(q[i*d:(i+1)*d], qc)
		for j := range k {
			id := ids[i*k+j]
			b.encode(base[id*d:(id+1)*d], bc)
			h := 0
			for w := range qc {
				h += bits.OnesCount64(qc[w] ^ bc[w])
			}
			if float32(h) != dist[i*k+j] || (j > 0 && dist[i*k+j] < dist[i*k+j-1]) {
				t.Fatalf("query %d rank %d: hamming %d, reported %g", i, j, h, dist[i*k+j])
			}
		}
	}
	// rerank everything: exact
	x := newIndex(t, metric.Cosine, d, n/k, base)
	x.Add(bg, base, nil, nil)
	ref, _ := flat.Of(d, metric.Cosine)
	ref.Add(bg, base, nil, nil)
	want, wantD := make([]int64, 20*k), make([]float32, 20*k)
	ref.Search(bg, q, k, nil, want, wantD)
	x.Search(bg, q, k, nil, ids, dist)
	for i := range ids {
		if ids[i] != want[i] || dist[i]-wantD[i] > 1e-5 || wantD[i]-dist[i] > 1e-5 {
			t.Fatalf("full rerank differs from exact at %d: %d %g vs %d %g", i, ids[i], dist[i], want[i], wantD[i])
		}
	}
}

func TestBinary_ErrorsRemoveFilterAndSaveLoad(t *testing.T) {
	const d = 64
	base := data(500, d, 4)
	m, _ := metric.New(metric.L2, d, metric.Params{})
	u, _ := New(d, m, 4)
	if err := u.Add(bg, base, nil, nil); !errors.Is(err, errs.State) {
		t.Fatalf("add before train: %v", err)
	}
	if _, err := New(d, m, -1); err == nil {
		t.Fatal("rerank -1 accepted")
	}
	b := newIndex(t, metric.L2, d, 8, base)
	b.Add(bg, base, nil, nil)
	if c, _ := b.Remove(bg, []int64{1, 3, 5}); c != 3 || b.Len() != 497 {
		t.Fatal("remove")
	}
	ids, dist := make([]int64, 10), make([]float32, 10)
	b.Search(bg, base[:d], 10, &index.SearchParams{Filter: &index.Filter{IDs: []int64{7, 8, 9}}}, ids, dist)
	if ids[0] < 7 || ids[0] > 9 || ids[3] != -1 {
		t.Fatalf("filter: %v", ids)
	}
	var buf bytes.Buffer
	b.Save(&buf)
	c, err := index.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	a1, a2 := make([]int64, 50), make([]int64, 50)
	d1, d2 := make([]float32, 50), make([]float32, 50)
	b.Search(bg, base[:5*d], 10, nil, a1, d1)
	c.Search(bg, base[:5*d], 10, nil, a2, d2)
	for i := range a1 {
		if a1[i] != a2[i] || d1[i] != d2[i] {
			t.Fatal("results differ after save/load")
		}
	}
}
