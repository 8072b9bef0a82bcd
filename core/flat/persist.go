package flat

import (
	"io"

	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// layoutVersion is the version of the sections below; bump it when they
// change and keep reading the old ones.
const layoutVersion = 1

// meta is the "meta" section: small facts, as JSON.
type meta struct {
	index.Meta
	Count  int   `json:"count"`
	NextID int64 `json:"next_id"`
}

// Save implements index.Index. Sections: "meta" (JSON), "vectors" (count*dim
// float32) and "ids" (count int64).
func (f *Flat) Save(w io.Writer) error {
	return f.SaveWith(w, TypeName, layoutVersion, func(fw *format.Writer, head index.Meta) error {
		index.WriteMeta(fw, meta{Meta: head, Count: len(f.ids), NextID: f.nextID})
		format.Put(fw, "vectors", f.vecs)
		format.Put(fw, "ids", f.ids)
		return nil
	})
}

// load rebuilds the index from its sections; index.Loader has read the
// meta section into m.
func load(r *index.Sections, m *meta, bound *metric.Metric) (index.Index, error) {
	f, err := New(m.Dim, bound)
	if err != nil {
		return nil, r.Corrupt("meta section: %v", err)
	}
	vecs := index.Floats(r, "vectors", m.Count, m.Dim)
	ids := index.Section[int64](r, "ids", m.Count, 1)
	if err := r.Err(); err != nil {
		return nil, err
	}
	// The views alias the loaded file; the index owns that buffer from now
	// on (index.Load's contract), and append copies out on the first Add.
	f.vecs, f.ids, f.nextID = vecs, ids, m.NextID
	f.appendNorms(vecs)
	f.rows = make(map[int64]int32, len(ids))
	for row, id := range ids {
		if id < 0 || id >= m.NextID {
			return nil, r.Corrupt("id %d outside [0, next_id=%d)", id, m.NextID)
		}
		if _, dup := f.rows[id]; dup {
			return nil, r.Corrupt("id %d stored twice", id)
		}
		f.rows[id] = int32(row)
	}
	return f, nil
}
