// Package flat is exact search: every query is compared with every stored
// vector. It is the reference every approximate index is measured against,
// and the right choice up to some hundred thousand vectors.
//
// Storage is two pointer-free slices, vectors (n*dim float32, row-major) and
// ids (n int64), plus a map from id to row. Removing a vector moves the last
// row into its place, so rows stay dense; results do not depend on row order
// because ties are broken by id.
package flat

import (
	"context"
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels"
)

// TypeName is the name of this index type in specs and files.
const TypeName = "flat"

// Spec is the JSON spec of a flat index: {"type":"flat","dim":D,"metric":M}.
type Spec struct {
	index.Common
}

// Flat is an exact index. It is safe for concurrent use: searches share a
// read lock, mutations take the write lock.
type Flat struct {
	index.Base
	vecs   []float32       // n*dim, row-major, prepared by the metric (unit length for cosine, ...)
	norms  []float32       // ClassL2 metrics only: |row|^2, for ranking by |x|^2 - 2<q,x>
	ids    []int64         // row -> id
	rows   map[int64]int32 // id -> row
	nextID int64           // smallest id never handed out by auto-assignment
}

// New returns an empty flat index. Every metric works except hamming_bits,
// whose packed-bit vectors are not float32 (oxvec.knn handles them).
func New(dim int, m *metric.Metric) (*Flat, error) {
	if dim < 1 || dim > index.MaxDim {
		return nil, fmt.Errorf("%w: dim must be between 1 and %d, got %d", errs.InvalidArgument, index.MaxDim, dim)
	}
	if m.Dim != dim {
		return nil, fmt.Errorf("%w: metric bound to dim %d, index has dim %d", errs.Internal, m.Dim, dim)
	}
	if m.Kind == metric.HammingBits {
		return nil, fmt.Errorf("%w: a flat index stores float32 vectors; for packed bits use oxvec.knn(..., metric=\"hamming_bits\")", errs.Unsupported)
	}
	return &Flat{Base: index.NewBase(dim, m), rows: map[int64]int32{}}, nil
}

// Of returns an empty flat index of the given metric kind without
// parameters (tests and tools).
func Of(dim int, kind metric.Kind) (*Flat, error) {
	m, err := metric.New(kind, dim, metric.Params{})
	if err != nil {
		return nil, err
	}
	return New(dim, m)
}

func init() {
	index.Register(TypeName, index.Factory{
		New: func(spec []byte) (index.Index, error) {
			var s Spec
			if err := index.DecodeSpec(spec, &s); err != nil {
				return nil, err
			}
			m, err := s.Check()
			if err != nil {
				return nil, err
			}
			return New(s.Dim, m)
		},
		Load: index.Loader(TypeName, layoutVersion, load),
	})
}

// Len implements index.Index.
func (f *Flat) Len() int {
	f.RLock()
	defer f.RUnlock()
	return len(f.ids)
}

// Info implements index.Index.
func (f *Flat) Info() index.Info {
	f.RLock()
	defer f.RUnlock()
	return index.Info{
		Type:   TypeName,
		Dim:    f.Dim(),
		Metric: f.Metric().String(),
		Len:    len(f.ids),
		// a Go map entry of int64->int32 costs about 24 bytes with overhead
		MemoryBytes: int64(cap(f.vecs))*4 + int64(cap(f.norms))*4 + int64(cap(f.ids))*8 + int64(len(f.rows))*24,
	}
}

// Close implements index.Index.
func (f *Flat) Close() error {
	return f.CloseWith(func() error {
		f.vecs, f.norms, f.ids, f.rows = nil, nil, nil, nil
		return nil
	})
}

// Add implements index.Index.
func (f *Flat) Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error {
	// The batch is checked and prepared before taking the lock, so
	// searches are not held up; the prepared form may be the caller's
	// buffer, which append below copies.
	n, vectors, err := index.CheckAdd(f.Bound(), vectors, f.Dim(), ids, assigned)
	if err != nil {
		return err
	}

	if err := f.LockOpen(); err != nil {
		return err
	}
	defer f.Unlock()
	if len(f.ids)+n > math.MaxInt32 {
		return fmt.Errorf("%w: a flat index holds at most %d vectors", errs.InvalidArgument, math.MaxInt32)
	}
	if ids == nil {
		first := f.nextID
		ids = make([]int64, n)
		for i := range ids {
			ids[i] = first + int64(i)
		}
		if assigned != nil {
			copy(assigned, ids)
		}
	} else {
		for _, id := range ids {
			if _, dup := f.rows[id]; dup {
				return fmt.Errorf("%w: id %d is already in the index; remove it first to replace its vector", errs.DuplicateID, id)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %v", errs.Canceled, err)
	}
	base := len(f.ids)
	f.vecs = append(f.vecs, vectors...)
	f.ids = append(f.ids, ids...)
	f.appendNorms(vectors)
	for i, id := range ids {
		f.rows[id] = int32(base + i)
		if id >= f.nextID {
			f.nextID = id + 1
		}
	}
	return nil
}

// Remove implements index.Index.
func (f *Flat) Remove(ctx context.Context, ids []int64) (int, error) {
	if err := f.LockOpen(); err != nil {
		return 0, err
	}
	defer f.Unlock()
	removed := 0
	d := f.Dim()
	for _, id := range ids {
		row, ok := f.rows[id]
		if !ok {
			continue
		}
		last := int32(len(f.ids) - 1)
		if row != last {
			copy(f.vecs[int(row)*d:int(row+1)*d], f.vecs[int(last)*d:])
			moved := f.ids[last]
			f.ids[row] = moved
			f.rows[moved] = row
			if f.norms != nil {
				f.norms[row] = f.norms[last]
			}
		}
		f.vecs = f.vecs[:int(last)*d]
		f.ids = f.ids[:last]
		if f.norms != nil {
			f.norms = f.norms[:last]
		}
		delete(f.rows, id)
		removed++
	}
	f.shrink()
	return removed, nil
}

// shrink gives memory back once removals leave most of the capacity unused,
// so an index that was large once does not hold that memory for ever.
func (f *Flat) shrink() {
	if n := len(f.ids); cap(f.ids) > 1024 && cap(f.ids) > 4*n {
		f.vecs = append(make([]float32, 0, 2*n*f.Dim()), f.vecs...)
		f.ids = append(make([]int64, 0, 2*n), f.ids...)
		if f.norms != nil {
			f.norms = append(make([]float32, 0, 2*n), f.norms...)
		}
	}
}

// appendNorms records |row|^2 of each new row, for ClassL2 ranking.
func (f *Flat) appendNorms(vectors []float32) {
	if f.Bound().Class() != metric.ClassL2 {
		return
	}
	d := f.Dim()
	if f.norms == nil {
		f.norms = make([]float32, 0, len(vectors)/d)
	}
	ks := kernels.Current()
	for r := 0; r+d <= len(vectors); r += d {
		row := vectors[r : r+d]
		f.norms = append(f.norms, ks.Dot(row, row))
	}
}
