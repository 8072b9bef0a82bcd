package ivfpq

import (
	"os"
	"testing"

	"github.com/oxvec/oxvec/core/index/loadtest"
)

// fuzzSeeds are the saved indexes the load corpus starts from: trained
// with removals, with explicit ids (an id map), and empty.
func fuzzSeeds(t testing.TB) [][]byte {
	return [][]byte{
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"ivf_pq","dim":4,"nlist":2,"m":2,"nbits":4,"refine":2}`, Train: 40, Add: 10, RemoveEvery: 3}),
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"ivf_pq","dim":3,"metric":"ip","nlist":2,"m":3,"nbits":4}`, Train: 20, Add: 6, Sparse: true, RemoveEvery: 2}),
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"ivf_pq","dim":2,"nlist":2,"m":1,"nbits":4}`}),
	}
}

// FuzzLoad feeds the ivf_pq decoder well-framed files (valid checksums)
// with fuzzed sections: loading returns an error or an index that passes
// Verify, searches, saves to the same bytes twice, and takes removes and
// adds (loadtest.Exercise).
func FuzzLoad(f *testing.F) {
	loadtest.Seeds(f, fuzzSeeds(f)...)
	f.Fuzz(func(t *testing.T, in []byte) {
		loadtest.Exercise(t, loadtest.Container(TypeName, in))
	})
}

// TestWriteFuzzSeeds regenerates the committed corpus files
// (OXVEC_WRITE_FUZZ_SEEDS=1 go test ./core/ivfpq -run TestWriteFuzzSeeds).
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("OXVEC_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set OXVEC_WRITE_FUZZ_SEEDS=1 to rewrite testdata/fuzz/FuzzLoad")
	}
	var in [][]byte
	for _, file := range fuzzSeeds(t) {
		in = append(in, loadtest.Frame(file))
	}
	loadtest.WriteCorpus(t, "FuzzLoad", "saved", in...)
}
