package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
)

// opKind is what a change does.
type opKind byte

const (
	opAdd    opKind = 1 // new keys only
	opUpsert opKind = 2 // new or replaced
	opUpdate opKind = 3 // existing keys; given fields replace, absent ones stay
	opDelete opKind = 4
)

// change is one logged batch. Deletes by filter are logged as the keys the
// filter matched, so replay never re-evaluates anything.
type change struct {
	op    opKind
	time  int64 // unix nanoseconds, for point-in-time restore
	keys  []string
	vecs  []float32 // len(keys)*dim, or nil
	docs  []*string // nil: not given; an element nil: no document
	metas []Meta    // nil: not given; an element nil: no metadata
}

type changeJSON struct {
	Keys  []string  `json:"ids"`
	Docs  []*string `json:"documents,omitempty"`
	Metas []Meta    `json:"metadatas,omitempty"`
	HasD  bool      `json:"has_documents,omitempty"`
	HasM  bool      `json:"has_metadatas,omitempty"`
}

// encode lays a change out as a WAL payload:
//
//	[0]      op
//	[1:9)    time (int64)
//	[9:13)   number of keys n
//	[13:17)  values per vector d (0: no vectors)
//	[17:...) n*d float32, then the rest as JSON
func (c *change) encode(dim int) []byte {
	d := 0
	if c.vecs != nil {
		d = dim
	}
	js, _ := json.Marshal(changeJSON{Keys: c.keys, Docs: c.docs, Metas: c.metas, HasD: c.docs != nil, HasM: c.metas != nil})
	b := make([]byte, 17, 17+4*len(c.vecs)+len(js))
	b[0] = byte(c.op)
	binary.LittleEndian.PutUint64(b[1:9], uint64(c.time))
	binary.LittleEndian.PutUint32(b[9:13], uint32(len(c.keys)))
	binary.LittleEndian.PutUint32(b[13:17], uint32(d))
	b = append(b, format.AsBytes(c.vecs)...)
	return append(b, js...)
}

func decodeChange(b []byte, dim int) (*change, error) {
	bad := func(why string) (*change, error) {
		return nil, fmt.Errorf("%w: WAL payload: %s", errs.Corrupt, why)
	}
	if len(b) < 17 {
		return bad("too short")
	}
	c := &change{op: opKind(b[0]), time: int64(binary.LittleEndian.Uint64(b[1:9]))}
	if c.op < opAdd || c.op > opDelete {
		return bad(fmt.Sprintf("unknown operation %d", c.op))
	}
	n := int(binary.LittleEndian.Uint32(b[9:13]))
	d := int(binary.LittleEndian.Uint32(b[13:17]))
	if d != 0 && d != dim {
		return bad(fmt.Sprintf("vectors of %d values in a store of dim %d", d, dim))
	}
	nv := int64(n) * int64(d)
	if nv > int64(len(b)) {
		return bad("vector block cut short")
	}
	rest := b[17:]
	if d > 0 {
		if int64(len(rest)) < 4*nv {
			return bad("vector block cut short")
		}
		c.vecs = make([]float32, nv)
		for i := range c.vecs {
			c.vecs[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
		}
		rest = rest[4*nv:]
	}
	var cj changeJSON
	if err := decodeJSON(rest, &cj); err != nil {
		return bad(err.Error())
	}
	if len(cj.Keys) != n {
		return bad("key count does not match")
	}
	c.keys = cj.Keys
	if cj.HasD {
		c.docs = cj.Docs
		if len(c.docs) != n {
			return bad("document count does not match")
		}
	}
	if cj.HasM {
		if len(cj.Metas) != n {
			return bad("metadata count does not match")
		}
		c.metas = make([]Meta, n)
		for i, m := range cj.Metas {
			nm, err := normalize(m, "WAL")
			if err != nil {
				return bad(err.Error())
			}
			c.metas[i] = nm
		}
	}
	return c, nil
}
