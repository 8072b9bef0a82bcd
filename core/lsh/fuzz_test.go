package lsh

import (
	"os"
	"testing"

	"github.com/oxvec/oxvec/core/index/loadtest"
)

// fuzzSeeds are the saved indexes the load corpus starts from: each
// family, with removals, with explicit ids (an id map), and empty.
func fuzzSeeds(t testing.TB) [][]byte {
	return [][]byte{
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"lsh","dim":5,"metric":"cosine","tables":2,"bits":3,"nprobe":4}`, Add: 8, RemoveEvery: 3}),
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"lsh","dim":3,"tables":2,"bits":2}`, Train: 10, Add: 6, Sparse: true, RemoveEvery: 2}),
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"lsh","dim":4,"metric":"jaccard","bands":2,"rows":2}`, Add: 5, RemoveEvery: 2}),
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"lsh","dim":2,"tables":1,"bits":1}`}),
	}
}

// FuzzLoad feeds the lsh decoder well-framed files (valid checksums) with
// fuzzed sections: loading returns an error or an index that passes
// Verify, searches, saves to the same bytes twice, and takes removes and
// adds (loadtest.Exercise).
func FuzzLoad(f *testing.F) {
	loadtest.Seeds(f, fuzzSeeds(f)...)
	f.Fuzz(func(t *testing.T, in []byte) {
		loadtest.Exercise(t, loadtest.Container(TypeName, in))
	})
}

// TestWriteFuzzSeeds regenerates the committed corpus files
// (OXVEC_WRITE_FUZZ_SEEDS=1 go test ./core/lsh -run TestWriteFuzzSeeds).
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
