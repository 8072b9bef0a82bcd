package store

import (
	"encoding/json"
	"errors"
	"math/rand"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	_ "github.com/oxvec/oxvec/core/indexes"
)

// trainedTypes are the index types that learn, with small parameters.
var trainedTypes = map[string]string{
	"ivf_flat": `{"type":"ivf_flat","nlist":4}`,
	"ivf_pq":   `{"type":"ivf_pq","nlist":2,"m":2,"nbits":4}`,
	"pq":       `{"type":"pq","m":2,"nbits":4}`,
	"sq":       `{"type":"sq"}`,
	"binary":   `{"type":"binary"}`,
	"opq":      `{"type":"opq","m":2,"index":{"type":"pq","m":2,"nbits":4}}`,
}

func searchOne(t *testing.T, s *Store, q []float32) string {
	t.Helper()
	h, err := s.Search(bg, SearchRequest{Vectors: q, K: 1})
	if err != nil {
		t.Fatal(err)
	}
	return h.Keys[0][0]
}

func TestTraining_StoreOfEveryTrainedTypeIsExactThenIndexed(t *testing.T) {
	for name, spec := range trainedTypes {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			rng := rand.New(rand.NewSource(1))
			s := create(t, dir, Options{Create: &Config{Dim: 4, Metric: "l2", Index: json.RawMessage(spec), TrainAfter: 300}})
			if err := s.Add(bg, batch(10, 0, rng)); err != nil {
				t.Fatal(err)
			}
			if info := s.Info(); info.Phase != "exact" || info.TrainAfter != 300 {
				t.Fatalf("after 10 records: %+v", info)
			}
			// exact: every record is its own nearest neighbour
			for i := 0; i < 10; i++ {
				if got := searchOne(t, s, s.tab.vec(int64(i))); got != s.tab.keys[i] {
					t.Fatalf("exact phase: record %d found %s", i, got)
				}
			}
			s.Close()
			// across a reopen (replay) and a snapshot of the exact phase
			s = create(t, dir, Options{Create: &Config{Dim: 4, Metric: "l2", Index: json.RawMessage(spec)}})
			if err := s.Snapshot(); err != nil {
				t.Fatal(err)
			}
			if err := s.Add(bg, batch(300, 10, rng)); err != nil {
				t.Fatal(err)
			}
			if info := s.Info(); info.Phase != "indexed" || info.TrainError != "" || s.idx.Info().Type != name {
				t.Fatalf("after 310 records: %+v, index %s", info, s.idx.Info().Type)
			}
			s.Add(bg, batch(5, 400, rng))
			s.Close()
			for _, ro := range []bool{true, false} {
				s, err := Open(dir, Options{ReadOnly: ro})
				if err != nil {
					t.Fatal(err)
				}
				if s.Count() != 315 || s.Info().Phase != "indexed" || s.idx.Len() != 315 {
					t.Fatalf("reopened (read-only %v): %d records, phase %s, index holds %d", ro, s.Count(), s.Info().Phase, s.idx.Len())
				}
				s.Close()
			}
		})
	}
}

func TestTraining_TrainAfterIsChecked(t *testing.T) {
	for _, tc := range []struct {
		index string
		after int
	}{
		{`{"type":"ivf_flat","nlist":8}`, 7},
		{`{"type":"hnsw"}`, 100},
		{`{"type":"flat"}`, 1},
		{`{"type":"sq"}`, -1},
	} {
		_, err := Open(t.TempDir(), Options{Create: &Config{Dim: 4, Index: json.RawMessage(tc.index), TrainAfter: tc.after}})
		if !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("%s with train_after %d: %v", tc.index, tc.after, err)
		}
	}
}
