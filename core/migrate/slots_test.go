package migrate

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/oxvec/oxvec/core/index"
)

// Every faiss and hnswlib seed read slotted holds the same vectors under
// position ids: searching it and mapping the answers through Foreign gives
// what FromFaiss / FromHNSWLib give, and Spec names the index's type.
func TestSlotted_SameIndexNumberedByPosition(t *testing.T) {
	for _, s := range seeds(t) {
		if s.Unsupported || s.Kind == "annoy" {
			continue
		}
		t.Run(s.Name, func(t *testing.T) {
			plain, err := open(s, s.data)
			if err != nil {
				t.Fatal(err)
			}
			defer plain.Close()
			var sl Slotted
			if s.Kind == "faiss" {
				sl, err = FaissSlotted(s.data)
			} else {
				path := filepath.Join(t.TempDir(), "g.bin")
				os.WriteFile(path, s.data, 0o644)
				sl, err = HNSWLibSlottedFile(path, s.Space, s.Dim)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer sl.Index.Close()
			n := plain.Len()
			if sl.Index.Len() != n || len(sl.Slots) != n || len(sl.Foreign) != n || len(sl.Keys()) != n {
				t.Fatalf("lengths %d %d %d, want %d", sl.Index.Len(), len(sl.Slots), len(sl.Foreign), n)
			}
			var spec struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal(sl.Spec, &spec); err != nil || spec.Type != plain.Info().Type {
				t.Fatalf("spec %s for a %s", sl.Spec, plain.Info().Type)
			}
			// each slot's vector is its foreign id's vector in the plain index
			d := plain.Dim()
			a, b := make([]float32, n*d), make([]float32, n*d)
			if err := sl.Index.(index.Reconstructor).Vectors(sl.Slots, a); err != nil {
				t.Fatal(err)
			}
			if err := plain.(index.Reconstructor).Vectors(sl.Foreign, b); err != nil {
				t.Fatal(err)
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("value %d: %v, plain %v", i, a[i], b[i])
				}
			}
			// same distances for the same queries
			k, nq := min(5, n), min(4, n)
			qs := b[:nq*d]
			di, dp := make([]float32, nq*k), make([]float32, nq*k)
			ii, ip := make([]int64, nq*k), make([]int64, nq*k)
			if err := sl.Index.Search(bg, qs, k, nil, ii, di); err != nil {
				t.Fatal(err)
			}
			if err := plain.Search(bg, qs, k, nil, ip, dp); err != nil {
				t.Fatal(err)
			}
			for i := range di {
				if math.Abs(float64(di[i]-dp[i])) > 1e-4*math.Max(1, math.Abs(float64(dp[i]))) {
					t.Fatalf("distance %d: %v, plain %v", i, di[i], dp[i])
				}
			}
		})
	}
}

// A truncated file is an error class, never a panic, slotted too.
func TestSlotted_TruncatedFaissIsAnError(t *testing.T) {
	for _, s := range seeds(t) {
		if s.Kind != "faiss" || s.Unsupported {
			continue
		}
		for cut := 0; cut < len(s.data); cut += max(1, len(s.data)/23) {
			if sl, err := FaissSlotted(s.data[:cut]); err == nil {
				sl.Index.Close()
				t.Fatalf("%s cut at %d: no error", s.Name, cut)
			} else if !isKnown(err) {
				t.Fatalf("%s cut at %d: %v", s.Name, cut, err)
			}
		}
	}
}
