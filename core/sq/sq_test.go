package sq

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

var bg = context.Background()

func data(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 4))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64()) * float32(1+i%d) // dimensions of different ranges
	}
	return x
}

// reference ranks every stored code by its exact decoded distance.
func reference(s *SQ, q []float32, k int) []int64 {
	pq, _ := s.Bound().PrepareCopy(q, "q")
	scratch := make([]uint8, s.Dim())
	type hit struct {
		d  float32
		id int64
	}
	var all []hit
	for r := range s.ids.Len() {
		all = append(all, hit{s.exact(pq, s.unpack(s.codes[r*s.codeSize:(r+1)*s.codeSize], scratch)), s.ids.ID(r)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].d < all[j].d || (all[i].d == all[j].d && all[i].id < all[j].id) })
	out := make([]int64, k)
	for i := range out {
		out[i] = all[i].id
	}
	return out
}

func TestSQ_ScanRanksLikeTheDecodedVectors(t *testing.T) {
	const n, k = 2000, 10
	for _, d := range []int{40, 41} { // 41: 4-bit codes with an unpaired last nibble
		base, qs := data(n, d, 1), data(20, d, 2)
		for _, kind := range []metric.Kind{metric.L2, metric.Cosine, metric.IP} {
			for _, bits := range []int{8, 4} {
				for _, rng := range []string{"per_dim", "uniform"} {
					m, _ := metric.New(kind, d, metric.Params{})
					s, err := New(d, m, bits, rng)
					if err != nil {
						t.Fatal(err)
					}
					s.Train(bg, base)
					s.Add(bg, base, nil, nil)
					ids, dist := make([]int64, 20*k), make([]float32, 20*k)
					if err := s.Search(bg, qs, k, nil, ids, dist); err != nil {
						t.Fatal(err)
					}
					agree := 0
					for q := range 20 {
						want := reference(s, qs[q*d:(q+1)*d], k)
						set := map[int64]bool{}
						for _, w := range want {
							set[w] = true
						}
						for j := range k {
							if set[ids[q*k+j]] {
								agree++
							}
							if j > 0 && dist[q*k+j] < dist[q*k+j-1] {
								t.Fatalf("%v %d %s: unsorted", kind, bits, rng)
							}
						}
					}
					// the scan sums in float32 in another order: near-ties may swap
					if float64(agree)/float64(20*k) < 0.98 {
						t.Fatalf("d=%d %v %d-bit %s: %d of %d results agree with the decoded ranking", d, kind, bits, rng, agree, 20*k)
					}
				}
			}
		}
	}
}

func TestSQ_ErrorsRemoveAndSaveLoad(t *testing.T) {
	const d = 16
	base := data(300, d, 3)
	m, _ := metric.New(metric.L2, d, metric.Params{})
	if _, err := New(d, m, 3, ""); err == nil {
		t.Fatal("3 bits accepted")
	}
	if _, err := New(d, m, 8, "global"); err == nil {
		t.Fatal("bad range accepted")
	}
	s, _ := New(d, m, 4, "")
	if err := s.Add(bg, base, nil, nil); !errors.Is(err, errs.State) {
		t.Fatalf("add before train: %v", err)
	}
	s.Train(bg, base)
	s.Add(bg, base, nil, nil)
	if c, _ := s.Remove(bg, []int64{0, 10}); c != 2 || s.Len() != 298 {
		t.Fatal("remove")
	}
	var buf bytes.Buffer
	s.Save(&buf)
	u, err := index.Load(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	a, b := make([]int64, 50), make([]int64, 50)
	da, db := make([]float32, 50), make([]float32, 50)
	s.Search(bg, base[:5*d], 10, nil, a, da)
	u.Search(bg, base[:5*d], 10, nil, b, db)
	for i := range a {
		if a[i] != b[i] || da[i] != db[i] {
			t.Fatal("results differ after save/load")
		}
	}
	if s.Info().MemoryBytes >= int64(300*d*4) {
		t.Fatalf("4-bit codes use %d bytes for 300 vectors of %d floats", s.Info().MemoryBytes, d)
	}
}
