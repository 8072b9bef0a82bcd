package flat

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// layoutVersion is the version of the sections below; bump it when they
// change and keep reading the old ones.
const layoutVersion = 1

// meta is the "meta" section: small facts, as JSON.
type meta struct {
	Layout int `json:"layout"`
	Dim    int `json:"dim"`
	metric.Stored
	Count  int   `json:"count"`
	NextID int64 `json:"next_id"`
}

// Save implements index.Index. Sections: "meta" (JSON), "vectors" (count*dim
// float32) and "ids" (count int64).
func (f *Flat) Save(w io.Writer) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return errs.Closed
	}
	fw, err := format.NewWriter(w, TypeName)
	if err != nil {
		return err
	}
	stored := f.metric.Store(fw)
	m, _ := json.Marshal(meta{Layout: layoutVersion, Dim: f.dim, Stored: stored, Count: len(f.ids), NextID: f.nextID})
	fw.Bytes("meta", m)
	fw.Bytes("vectors", format.AsBytes(f.vecs))
	fw.Bytes("ids", format.AsBytes(f.ids))
	return fw.Close()
}

func load(file *format.File) (index.Index, error) {
	raw, err := file.Section("meta", true)
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: flat meta section: %v", errs.Corrupt, err)
	}
	if m.Layout != layoutVersion {
		return nil, fmt.Errorf("%w: flat layout version %d, this build reads %d", errs.Unsupported, m.Layout, layoutVersion)
	}
	if m.Dim < 1 || m.Dim > index.MaxDim {
		return nil, fmt.Errorf("%w: flat dim %d", errs.Corrupt, m.Dim)
	}
	bound, err := metric.Restore(file, m.Stored, m.Dim)
	if err != nil {
		return nil, err
	}
	f, err := New(m.Dim, bound)
	if err != nil {
		return nil, fmt.Errorf("%w: flat meta section: %v", errs.Corrupt, err)
	}
	rawVecs, err := file.Section("vectors", true)
	if err != nil {
		return nil, err
	}
	rawIDs, err := file.Section("ids", true)
	if err != nil {
		return nil, err
	}
	vecs, err := format.View[float32](rawVecs)
	if err != nil {
		return nil, err
	}
	ids, err := format.View[int64](rawIDs)
	if err != nil {
		return nil, err
	}
	if m.Count < 0 || len(ids) != m.Count || len(vecs) != m.Count*m.Dim {
		return nil, fmt.Errorf("%w: flat sections hold %d ids and %d values, meta says %d vectors of dim %d", errs.Corrupt, len(ids), len(vecs), m.Count, m.Dim)
	}
	if err := index.CheckFinite(vecs, m.Dim, "stored vectors"); err != nil {
		return nil, fmt.Errorf("%w: %v", errs.Corrupt, err)
	}
	// The views alias the loaded file; the index owns that buffer from now
	// on (index.Load's contract), and append copies out on the first Add.
	f.vecs, f.ids, f.nextID = vecs, ids, m.NextID
	f.appendNorms(vecs)
	f.rows = make(map[int64]int32, len(ids))
	for r, id := range ids {
		if id < 0 || id >= m.NextID {
			return nil, fmt.Errorf("%w: flat id %d outside [0, next_id=%d)", errs.Corrupt, id, m.NextID)
		}
		if _, dup := f.rows[id]; dup {
			return nil, fmt.Errorf("%w: flat id %d stored twice", errs.Corrupt, id)
		}
		f.rows[id] = int32(r)
	}
	return f, nil
}
