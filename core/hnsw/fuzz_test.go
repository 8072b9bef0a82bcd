package hnsw

import (
	"bytes"
	"math/rand"
	"os"
	"testing"

	"github.com/oxvec/oxvec/core/index/loadtest"
	"github.com/oxvec/oxvec/core/metric"
)

// seedIndex builds a small index of n vectors of dim d and removes every
// removeEvery-th one (0: none), so free slots and upper levels are seen.
func seedIndex(t testing.TB, kind metric.Kind, d, n, removeEvery int, p Params) *HNSW {
	t.Helper()
	m, err := metric.New(kind, d, metric.Params{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(d, m, p)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewSource(int64(n*d + removeEvery)))
	v := make([]float32, n*d)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	if err := h.Add(bg, v, nil, nil); err != nil {
		t.Fatal(err)
	}
	if removeEvery > 0 {
		var gone []int64
		for i := 0; i < n; i += removeEvery {
			gone = append(gone, int64(i))
		}
		if _, err := h.Remove(bg, gone); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func seedBytes(t testing.TB, h *HNSW) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := h.Save(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// seedFiles are the saved indexes the corpus starts from: an empty one, a
// graph with free slots and upper levels (m = 2, so levels are frequent),
// and an int8-quantized cosine one.
func seedFiles(t testing.TB) [][]byte {
	return [][]byte{
		seedBytes(t, seedIndex(t, metric.L2, 2, 0, 0, Params{})),
		seedBytes(t, seedIndex(t, metric.L2, 3, 12, 4, Params{M: 2, EfConstruction: 8})),
		seedBytes(t, seedIndex(t, metric.Cosine, 2, 6, 0, Params{M: 3, EfConstruction: 8, Quantize: "int8"})),
	}
}

// FuzzLoad feeds the hnsw decoder well-framed files (valid checksums) with
// fuzzed sections: loading returns an error or an index that passes
// Verify, searches, saves to the same bytes twice, and takes removes and
// adds (loadtest.Exercise).
func FuzzLoad(f *testing.F) {
	loadtest.Seeds(f, seedFiles(f)...)
	f.Fuzz(func(t *testing.T, in []byte) {
		loadtest.Exercise(t, loadtest.Container(TypeName, in))
	})
}

// TestWriteFuzzSeeds regenerates the committed corpus files
// (OXVEC_WRITE_FUZZ_SEEDS=1 go test ./core/hnsw -run TestWriteFuzzSeeds).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("OXVEC_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set OXVEC_WRITE_FUZZ_SEEDS=1 to rewrite testdata/fuzz/FuzzLoad")
	}
	var in [][]byte
	for _, file := range seedFiles(t) {
		in = append(in, loadtest.Frame(file))
	}
	loadtest.WriteCorpus(t, "FuzzLoad", "saved", in...)
}
