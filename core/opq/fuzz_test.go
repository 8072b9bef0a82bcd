package opq

import (
	"os"
	"testing"

	"github.com/oxvec/oxvec/core/index/loadtest"
	// inner index types of the seeds
	_ "github.com/oxvec/oxvec/core/flat"
	_ "github.com/oxvec/oxvec/core/ivf"
	_ "github.com/oxvec/oxvec/core/pq"
)

// fuzzSeeds are the saved indexes the load corpus starts from: trained
// with removals, with explicit ids (an id map), and empty.
func fuzzSeeds(t testing.TB) [][]byte {
	return [][]byte{
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"opq","dim":4,"m":2,"iters":1,"index":{"type":"pq","m":2,"nbits":4}}`, Train: 256, Add: 8, RemoveEvery: 3}),
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"opq","dim":2,"m":1,"iters":1,"index":{"type":"flat"}}`, Train: 256, Add: 5, Sparse: true, RemoveEvery: 2}),
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"opq","dim":2,"m":2,"index":{"type":"ivf_flat","nlist":2}}`}),
	}
}

// FuzzLoad feeds the opq decoder well-framed files (valid checksums)
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
// (OXVEC_WRITE_FUZZ_SEEDS=1 go test ./core/opq -run TestWriteFuzzSeeds).
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
