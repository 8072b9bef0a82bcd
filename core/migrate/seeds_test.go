package migrate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

var bg = context.Background()

// seed is one file written by a real library (testdata/make_seeds.py)
// and what it holds.
type seed struct {
	Name        string
	Kind        string `json:"kind"`
	Space       string `json:"space"`
	Metric      string `json:"metric"`
	Dim         int    `json:"dim"`
	Len         int    `json:"len"`
	Unsupported bool   `json:"unsupported"`
	data        []byte
}

func seeds(t testing.TB) []seed {
	raw, err := os.ReadFile(filepath.Join("testdata", "seeds.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]seed
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	var out []seed
	for name, s := range m {
		s.Name = name
		if s.data, err = os.ReadFile(filepath.Join("testdata", name)); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// open reads a seed's bytes as its kind says.
func open(s seed, b []byte) (index.Index, error) {
	switch s.Kind {
	case "faiss":
		return FromFaiss(b)
	case "hnswlib":
		return FromHNSWLib(b, s.Space, s.Dim)
	}
	vecs, ids, err := AnnoyItems(b, s.Dim, s.Metric)
	if err != nil {
		return nil, err
	}
	k, _ := AnnoyMetric(s.Metric)
	f, err := flat.Of(s.Dim, k)
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		err = f.Add(bg, vecs, ids, nil)
	}
	return f, err
}

// exercise checks what every opened index must do: pass Verify, search,
// and, for the types faiss has, come back from ToFaiss giving the same
// results.
func exercise(t testing.TB, idx index.Index) {
	t.Helper()
	if err := index.Verify(idx); err != nil {
		t.Fatalf("a migrated index must pass Verify: %v", err)
	}
	d, k := idx.Dim(), 5
	q := make([]float32, 2*d)
	for i := range q {
		q[i] = float32(i%7) - 3
	}
	ids, dist := make([]int64, 2*k), make([]float32, 2*k)
	if err := idx.Search(bg, q, k, nil, ids, dist); err != nil {
		t.Fatalf("search: %v", err)
	}
	b, err := ToFaiss(idx)
	if err != nil {
		return // a type faiss has no file for, or a metric it lacks
	}
	back, err := FromFaiss(b)
	if err != nil {
		t.Fatalf("our own faiss file does not read back: %v", err)
	}
	if err := index.Verify(back); err != nil {
		t.Fatalf("read back: %v", err)
	}
	ids2, dist2 := make([]int64, 2*k), make([]float32, 2*k)
	if err := back.Search(bg, q, k, nil, ids2, dist2); err != nil {
		t.Fatal(err)
	}
	for i := range ids {
		if ids[i] != ids2[i] {
			t.Fatalf("after a faiss round trip: ids %v, then %v", ids, ids2)
		}
	}
}

func TestSeeds_OpenWithTheirContents(t *testing.T) {
	for _, s := range seeds(t) {
		t.Run(s.Name, func(t *testing.T) {
			idx, err := open(s, s.data)
			if s.Unsupported {
				if !isClass(err, "unsupported") {
					t.Fatalf("want Unsupported, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if idx.Len() != s.Len {
				t.Fatalf("len %d, the library wrote %d", idx.Len(), s.Len)
			}
			exercise(t, idx)
		})
	}
}

// Every cut of a real file is refused as corrupt (or, where the cut
// leaves a valid prefix of another kind, unsupported), never a panic.
// Annoy's file is an exception by design: cutting whole trees off its end
// leaves a valid Annoy file (Annoy opens it too), and since only the
// items are read, such a cut must give all of them.
func TestSeeds_TruncatedFilesAreCorrupt(t *testing.T) {
	for _, s := range seeds(t) {
		t.Run(s.Name, func(t *testing.T) {
			for cut := 0; cut < len(s.data); cut += stride {
				idx, err := open(s, s.data[:cut])
				if err == nil && s.Kind == "annoy" && idx.Len() == s.Len {
					continue
				}
				if err == nil {
					t.Fatalf("cut at %d of %d bytes opened", cut, len(s.data))
				}
				if !isClass(err, "corrupt") && !isClass(err, "unsupported") {
					t.Fatalf("cut at %d: %v", cut, err)
				}
			}
		})
	}
}

// Flipping bytes of real files gives an error class or an index that
// works: never a panic, never a broken structure.
func TestSeeds_DamagedFilesNeverBreakAnything(t *testing.T) {
	for _, s := range seeds(t) {
		t.Run(s.Name, func(t *testing.T) {
			b := append([]byte(nil), s.data...)
			// every byte of the first 512 (headers, counts, offsets), then
			// every 7th (bulk data, where a change is seldom detectable)
			for i := 0; i < len(b); i += stride * map[bool]int{true: 1, false: 7}[i < 512] {
				for _, v := range []byte{0xff, b[i] ^ 0x80} {
					old := b[i]
					b[i] = v
					if idx, err := open(s, b); err == nil {
						exercise(t, idx)
					} else if !isKnown(err) {
						t.Fatalf("byte %d = %#x: %v", i, v, err)
					}
					b[i] = old
				}
			}
		})
	}
}

func TestFromFaiss_UnsupportedFourccNamesItAndTheSupported(t *testing.T) {
	b := append([]byte("IxHe"), make([]byte, 64)...)
	_, err := FromFaiss(b)
	if !isClass(err, "unsupported") {
		t.Fatalf("want Unsupported, got %v", err)
	}
	for _, want := range []string{`"IxHe"`, "IHNf", "IwPQ", "IxM2"} {
		if !contains(err.Error(), want) {
			t.Fatalf("message %q lacks %s", err, want)
		}
	}
}

func TestToFaiss_RefusesWhatFaissCannotHold(t *testing.T) {
	m, _ := metric.New(metric.Manhattan, 4, metric.Params{})
	f, _ := flat.New(4, m)
	if _, err := ToFaiss(f); !isClass(err, "unsupported") {
		t.Fatalf("manhattan: want Unsupported, got %v", err)
	}
}
