package diskann

import (
	"bytes"
	"os"
	"testing"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/index/loadtest"
)

// fuzzSeeds are small saved indexes: removals on disk, sparse ids, a delta
// with a removal in it, and an empty index.
func fuzzSeeds(t testing.TB) [][]byte {
	withDelta := func() []byte {
		idx, err := index.New([]byte(`{"type":"diskann","dim":4,"r":4,"l_build":8,"pq_bytes":2,"cache_nodes":3}`))
		if err != nil {
			t.Fatal(err)
		}
		defer idx.Close()
		x := clustered(3, 30, 4)
		idx.Add(bg, x[:20*4], nil, nil)
		idx.Add(bg, x[20*4:], nil, nil)
		idx.Remove(bg, []int64{2, 25})
		var buf bytes.Buffer
		if err := idx.Save(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	return [][]byte{
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"diskann","dim":4,"r":4,"l_build":8,"pq_bytes":2}`, Add: 20, RemoveEvery: 3}),
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"diskann","dim":3,"metric":"cosine","r":3,"l_build":6,"pq_bytes":1}`, Add: 9, Sparse: true}),
		loadtest.Saved(t, loadtest.Build{Spec: `{"type":"diskann","dim":2,"r":2,"l_build":4,"pq_bytes":1}`}),
		withDelta(),
	}
}

// FuzzLoad feeds the diskann decoder well-framed files with fuzzed
// sections (loadtest.Exercise: load or a classed error; a loaded index
// verifies, searches, saves to the same bytes twice, takes removes and an
// add).
func FuzzLoad(f *testing.F) {
	loadtest.Seeds(f, fuzzSeeds(f)...)
	f.Fuzz(func(t *testing.T, in []byte) {
		loadtest.Exercise(t, loadtest.Container(TypeName, in))
	})
}

// TestWriteFuzzSeeds regenerates the committed corpus files
// (OXVEC_WRITE_FUZZ_SEEDS=1 go test ./core/diskann -run TestWriteFuzzSeeds).
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
