// Package loadtest is the common body of the index types' load fuzz
// targets (FuzzLoad in each index package): it turns fuzzed bytes into a
// well-framed container, so the fuzzer reaches each decoder's own checks
// instead of stopping at a checksum, and runs what a loaded index must
// survive. Only tests import it.
//
// A fuzz input is a list of sections, each one byte choosing a tag from the
// type's list (Tags), a little-endian uint32 length (cut to what is left)
// and the contents; a repeated tag is dropped. The "inner" section of opq
// is itself a type byte (an index into Kinds) and a list of sections.
package loadtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
)

var metricTags = []string{"metric_v", "metric_vi"}

// Tags lists the sections each index type's file may hold.
var Tags = map[string][]string{
	"flat":     {"meta", "vectors", "ids"},
	"hnsw":     {"meta", "vectors", "level0", "levels", "upper_off", "upper", "ids", "codes"},
	"ivf_flat": {"meta", "centroids", "sizes", "ids", "vectors", "policy"},
	"ivf_pq":   {"meta", "centroids", "codebook", "sizes", "ids", "codes", "vectors", "policy"},
	"pq":       {"meta", "centroids", "codes", "ids"},
	"sq":       {"meta", "vmin", "vdiff", "codes", "ids"},
	"binary":   {"meta", "threshold", "codes", "ids", "vectors"},
	"opq":      {"meta", "rotation", "inner"},
	"lsh":      {"meta", "projections", "offsets", "salts", "vectors", "ids"},
	"diskann":  {"meta", "codebook", "codes", "ids", "deleted", "delta_vectors", "delta_ids", "delta_dead", "delta_offsets", "delta_lists", "blocks"},
}

// Kinds is the order of the type byte of a nested "inner" section.
var Kinds = []string{"flat", "hnsw", "ivf_flat", "ivf_pq", "pq", "sq", "binary", "opq", "diskann"}

func tagsOf(kind string) []string { return append(append([]string(nil), Tags[kind]...), metricTags...) }

func kindIndex(kind string) byte {
	for i, k := range Kinds {
		if k == kind {
			return byte(i)
		}
	}
	panic("loadtest: unknown kind " + kind)
}

// Frame turns a saved index file into a fuzz input of its kind.
func Frame(file []byte) []byte {
	f, err := format.Parse(file)
	if err != nil {
		panic("loadtest: Frame of a file that does not parse: " + err.Error())
	}
	tags := tagsOf(f.Kind())
	var out []byte
	for _, tag := range f.Tags() {
		raw, err := f.Section(tag, true)
		if err != nil {
			panic(err)
		}
		i := -1
		for j, t := range tags {
			if t == tag {
				i = j
			}
		}
		if i < 0 {
			panic("loadtest: section " + tag + " is not in Tags[" + f.Kind() + "]")
		}
		if tag == "inner" {
			inner, err := format.Parse(raw)
			if err != nil {
				panic(err)
			}
			raw = append([]byte{kindIndex(inner.Kind())}, Frame(raw)...)
		}
		out = append(out, byte(i))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(raw)))
		out = append(out, raw...)
	}
	return out
}

// Container builds the file of kind whose sections input lists (see the
// package comment). depth bounds opq's nesting.
func Container(kind string, input []byte) []byte {
	return container(kind, input, 0)
}

func container(kind string, input []byte, depth int) []byte {
	tags := tagsOf(kind)
	var buf bytes.Buffer
	w, err := format.NewWriter(&buf, kind)
	if err != nil {
		panic(err)
	}
	seen := map[string]bool{}
	for len(input) >= 5 {
		tag := tags[int(input[0])%len(tags)]
		n := int(min(uint64(binary.LittleEndian.Uint32(input[1:5])), uint64(len(input)-5)))
		body := input[5 : 5+n]
		input = input[5+n:]
		if seen[tag] {
			continue
		}
		seen[tag] = true
		if tag == "inner" && len(body) > 0 && depth < 3 {
			body = container(Kinds[int(body[0])%len(Kinds)], body[1:], depth+1)
		}
		w.Bytes(tag, body)
	}
	if err := w.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// Seeds adds the framed form of each file to the fuzz corpus, and
// variants: each section cut in half, and the first byte of each section
// flipped.
func Seeds(f *testing.F, files ...[]byte) {
	for _, file := range files {
		in := Frame(file)
		f.Add(in)
		for at := 0; at+5 <= len(in); {
			n := int(binary.LittleEndian.Uint32(in[at+1 : at+5]))
			if n > 0 {
				cut := append([]byte(nil), in[:at]...)
				cut = append(cut, in[at])
				cut = binary.LittleEndian.AppendUint32(cut, uint32(n/2))
				cut = append(cut, in[at+5:at+5+n/2]...)
				cut = append(cut, in[at+5+n:]...)
				f.Add(cut)
				flip := append([]byte(nil), in...)
				flip[at+5] ^= 0x41
				f.Add(flip)
			}
			at += 5 + n
		}
	}
}

// WriteCorpus writes inputs as files of the fuzz corpus directory
// testdata/fuzz/<target> of the calling package, named name-0, name-1, ...
// Seed generators call it when OXVEC_WRITE_FUZZ_SEEDS=1.
func WriteCorpus(t testing.TB, target, name string, inputs ...[]byte) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, in := range inputs {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(in)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name+"-"+strconv.Itoa(i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var bg = context.Background()

// Build describes a small saved index for a seed corpus.
type Build struct {
	Spec        string // the JSON spec
	Train       int    // training vectors, for types that learn
	Add         int    // vectors added
	Sparse      bool   // explicit ids 3i+1 instead of 0, 1, ... (an id map)
	RemoveEvery int    // remove every n-th vector added (0: none)
}

// Saved builds b on random data and returns the saved file.
func Saved(t testing.TB, b Build) []byte {
	t.Helper()
	idx, err := index.New([]byte(b.Spec))
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	d := idx.Dim()
	rng := rand.New(rand.NewPCG(uint64(b.Train), uint64(b.Add)))
	data := func(n int) []float32 {
		v := make([]float32, n*d)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	if tr, ok := idx.(index.Trainer); ok && b.Train > 0 {
		if err := tr.Train(bg, data(b.Train)); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	if b.Sparse {
		ids = make([]int64, b.Add)
		for i := range ids {
			ids[i] = int64(3*i + 1)
		}
	}
	if b.Add > 0 {
		if err := idx.Add(bg, data(b.Add), ids, nil); err != nil {
			t.Fatal(err)
		}
	}
	if b.RemoveEvery > 0 {
		var gone []int64
		for i := 0; i < b.Add; i += b.RemoveEvery {
			if b.Sparse {
				gone = append(gone, int64(3*i+1))
			} else {
				gone = append(gone, int64(i))
			}
		}
		if _, err := idx.Remove(bg, gone); err != nil {
			t.Fatal(err)
		}
	}
	verify(t, idx, "building a seed")
	return save(t, idx)
}

var classes = []error{errs.InvalidArgument, errs.Dimension, errs.DuplicateID, errs.NotFound, errs.IO, errs.Corrupt,
	errs.Unsupported, errs.Canceled, errs.Closed, errs.NoMemory, errs.State, errs.Internal}

// classed fails unless err wraps an error class other than Internal.
func classed(t testing.TB, what string, err error) {
	t.Helper()
	if errors.Is(err, errs.Internal) {
		t.Fatalf("%s: internal error: %v", what, err)
	}
	for _, c := range classes {
		if errors.Is(err, c) {
			return
		}
	}
	t.Fatalf("%s: error without a class: %v", what, err)
}

func verify(t testing.TB, idx index.Index, step string) {
	t.Helper()
	if err := index.Verify(idx); err != nil {
		t.Fatalf("after %s: %v", step, err)
	}
}

func save(t testing.TB, idx index.Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := idx.Save(&buf); err != nil {
		t.Fatalf("save of a loaded index: %v", err)
	}
	return buf.Bytes()
}

// loadAllowance bounds what loading n bytes may allocate: copies and
// derived tables are a small multiple of the sections (ivf_pq's cell tables,
// 256 floats per sub-quantizer and cell, are the largest: up to 256 times
// the centroids), plus fixed costs.
func loadAllowance(n int) uint64 { return 4<<20 + 512*uint64(n) }

// Exercise loads data and, when it loads, checks what a loaded index must
// survive: Verify passes; a search returns present ids then padding, or an
// error of a class (State while untrained); save, load and save again give
// the same bytes, and the reloaded index verifies and reports the same
// length; the ids found can be removed (each exactly once) and one vector
// added, with Verify after each step. Loading may allocate a small multiple
// of the input only (loadAllowance). A failed load must wrap an error class
// other than Internal. Panics fail the fuzz target by themselves.
func Exercise(t testing.TB, data []byte) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	idx, err := index.Load(data)
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > loadAllowance(len(data)) {
		t.Fatalf("loading %d bytes allocated %d: sizes taken from a header, not the sections", len(data), got)
	}
	if err != nil {
		classed(t, "load", err)
		return
	}
	defer idx.Close()
	verify(t, idx, "load")
	d := idx.Dim()
	q := make([]float32, d)
	for i := range q {
		q[i] = 1 + float32(i%7)/8
	}
	const k = 4
	ids, dist := make([]int64, k), make([]float32, k)
	var found []int64
	if err := idx.Search(bg, q, k, nil, ids, dist); err != nil {
		classed(t, "search", err)
	} else {
		seen := map[int64]bool{}
		for i, id := range ids {
			switch {
			case id >= 0 && len(found) == i && !seen[id]:
				found = append(found, id)
				seen[id] = true
			case id != -1 || !math.IsInf(float64(dist[i]), 1):
				t.Fatalf("search row %v %v: not distinct ids then (-1, +Inf) padding", ids, dist)
			}
		}
		if len(found) > idx.Len() {
			t.Fatalf("search found %d ids in an index of %d", len(found), idx.Len())
		}
	}
	verify(t, idx, "search")

	b1 := save(t, idx)
	again, err := index.Load(b1)
	if err != nil {
		t.Fatalf("a saved index does not load: %v", err)
	}
	defer again.Close()
	verify(t, again, "save and load")
	if again.Len() != idx.Len() || again.Dim() != d {
		t.Fatalf("reloaded len %d dim %d, saved %d %d", again.Len(), again.Dim(), idx.Len(), d)
	}
	if b2 := save(t, again); !bytes.Equal(b1, b2) {
		t.Fatalf("save, load, save: %d bytes then %d different bytes", len(b1), len(b2))
	}

	if n, err := again.Remove(bg, found); err != nil || n != len(found) {
		t.Fatalf("removing the %d ids a search found: %d removed (%v)", len(found), n, err)
	}
	verify(t, again, "remove")
	assigned := make([]int64, 1)
	if err := again.Add(bg, q, nil, assigned); err != nil {
		classed(t, "add", err)
	} else if assigned[0] < 0 {
		t.Fatalf("add assigned id %d", assigned[0])
	}
	verify(t, again, "add")
	if len(found) > 0 {
		if err := again.Add(bg, q, found[:1], nil); err != nil {
			classed(t, "add of a removed id", err)
		}
		verify(t, again, "add of a removed id")
	}
}
