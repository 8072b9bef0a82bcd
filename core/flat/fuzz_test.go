package flat

import (
	"bytes"
	"testing"

	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
)

// FuzzLoad builds well-framed containers (valid checksums) around fuzzed
// section contents, so the fuzzer reaches the flat decoder's own checks
// instead of stopping at a checksum mismatch. Loading must return an error or
// a usable index, never panic.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(`{"layout":1,"dim":2,"metric":1,"count":1,"next_id":1}`), format.AsBytes([]float32{1, 2}), format.AsBytes([]int64{0}))
	f.Add([]byte(`{"layout":1,"dim":3,"metric":3,"count":2,"next_id":9}`), format.AsBytes([]float32{1, 0, 0, 0, 1, 0}), format.AsBytes([]int64{8, 3}))
	f.Add([]byte(`{"layout":1,"dim":0,"metric":7,"count":-1,"next_id":0}`), []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, meta, vecs, ids []byte) {
		var buf bytes.Buffer
		w, _ := format.NewWriter(&buf, TypeName)
		w.Bytes("meta", meta)
		w.Bytes("vectors", vecs)
		w.Bytes("ids", ids)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got, err := index.Load(buf.Bytes())
		if err != nil {
			return
		}
		if err := index.Verify(got); err != nil {
			t.Fatalf("a loaded index must pass Verify: %v", err)
		}
		k := 2
		out, dist := make([]int64, k), make([]float32, k)
		q := make([]float32, got.Dim())
		q[0] = 1
		if err := got.Search(bg, q, k, nil, out, dist); err != nil {
			t.Fatalf("a loaded index must be searchable: %v", err)
		}
		if _, err := got.Remove(bg, out); err != nil {
			t.Fatal(err)
		}
		if err := got.Add(bg, q, nil, nil); err == nil {
			if err := index.Verify(got); err != nil {
				t.Fatalf("after an add: %v", err)
			}
		}
	})
}
