// Package ivf is the inverted-file index with exact vectors (IVF-Flat):
// k-means splits space into nlist cells; a vector is stored in the list of
// its nearest centroid; a search scans only the nprobe lists whose
// centroids are nearest the query.
//
// Storage per list: ids []int64 and vectors []float32 (row-major,
// prepared by the metric), so bulk data stays in flat pointer-free slices;
// 4*dim + 8 bytes per vector (faiss's IndexIVFFlat stores the same), plus
// the map from id to slot once ids stop being 0..n-1.
package ivf

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/oxvec/oxvec/core/coarse"
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/kmeans"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/probepolicy"
)

// TypeName is the name of this index type in specs and files.
const TypeName = "ivf_flat"

// Spec is {"type":"ivf_flat","dim":D,"metric":M,"nlist":100,"nprobe":1,"seed":1}.
type Spec struct {
	index.Common
	NList  int    `json:"nlist"`
	NProbe int    `json:"nprobe"`
	Seed   uint64 `json:"seed"`
}

// IVF is safe for concurrent use: searches share a read lock; train, add
// and remove take the write lock.
type IVF struct {
	index.Base
	scratch   index.Pool[scratch]
	coarse    *metric.Metric // ranks centroids: l2 for l2-family metrics, inner product for the dot family
	nlist     int
	nprobe    atomic.Int32 // default of a search; atomic, since searches read it outside mu
	seed      uint64
	centroids []float32         // nlist*dim; nil until trained
	quant     *coarse.Quantizer // finds a query's nearest cells
	lists     []list
	ids       index.Slots         // id -> (list, position); no map while the ids are 0..n-1
	policy    *probepolicy.Policy // learned search policy (policy.go); nil until TrainPolicy
}

type list struct {
	ids  []int64
	vecs []float32
}

// New returns an untrained IVF-Flat index.
func New(dim int, m *metric.Metric, nlist, nprobe int, seed uint64) (*IVF, error) {
	if m.Class() != metric.ClassL2 && m.Class() != metric.ClassDot {
		return nil, fmt.Errorf("%w: ivf_flat ranks by euclidean or inner-product-based metrics (l2, cosine, ip, ...), not %s; use flat", errs.Unsupported, m.Kind)
	}
	if nlist < 1 || nlist > 1<<20 {
		return nil, fmt.Errorf("%w: nlist must be between 1 and %d, got %d", errs.InvalidArgument, 1<<20, nlist)
	}
	if nprobe == 0 {
		nprobe = 1
	}
	if nprobe < 1 {
		return nil, fmt.Errorf("%w: nprobe must be >= 1, got %d", errs.InvalidArgument, nprobe)
	}
	if seed == 0 {
		seed = 1
	}
	ck := metric.L2
	if m.Class() == metric.ClassDot {
		ck = metric.IP
	}
	coarse, err := metric.New(ck, dim, metric.Params{})
	if err != nil {
		return nil, err
	}
	x := &IVF{Base: index.NewBase(dim, m), coarse: coarse, nlist: nlist, seed: seed}
	x.nprobe.Store(int32(nprobe))
	return x, nil
}

func init() {
	index.Register(TypeName, index.Factory{
		New: func(spec []byte) (index.Index, error) {
			s := Spec{NList: 100, NProbe: 1}
			if err := index.DecodeSpec(spec, &s); err != nil {
				return nil, err
			}
			m, err := s.Check()
			if err != nil {
				return nil, err
			}
			return New(s.Dim, m, s.NList, s.NProbe, s.Seed)
		},
		Load: index.Loader(TypeName, layoutVersion, load),
	})
}

// Len implements index.Index.
func (x *IVF) Len() int {
	x.RLock()
	defer x.RUnlock()
	return x.ids.Len()
}

// Trained implements index.Trainer.
// MinTrain implements index.Trainer: one vector per list.
func (x *IVF) MinTrain() int { return x.nlist }

func (x *IVF) Trained() bool {
	x.RLock()
	defer x.RUnlock()
	return x.centroids != nil
}

// Train implements index.Trainer: k-means on the prepared training vectors
// (at most 256 per list are sampled). Training again is an error once
// vectors were added: their lists would no longer match.
func (x *IVF) Train(ctx context.Context, vectors []float32) error {
	_, prepared, err := index.CheckTrain(x.Bound(), vectors, x.Dim(), func(n int) error {
		if n < x.nlist {
			return fmt.Errorf("%w: training nlist=%d lists needs at least %d vectors (39 per list or more is better), got %d", errs.InvalidArgument, x.nlist, x.nlist, n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	res, err := kmeans.Train(ctx, prepared, x.Dim(), kmeans.Params{K: x.nlist, Seed: x.seed})
	if err != nil {
		return err
	}
	if err := x.LockOpen(); err != nil {
		return err
	}
	defer x.Unlock()
	if x.ids.Len() > 0 {
		return fmt.Errorf("%w: the index holds vectors; train a new index instead", errs.State)
	}
	return x.setCentroids(res.Centroids)
}

// setCentroids installs trained centroids and the exact index over them;
// the caller holds mu exclusively (or owns x).
func (x *IVF) setCentroids(c []float32) error {
	q, err := coarse.New(c, x.Dim(), x.coarse)
	if err != nil {
		return err
	}
	x.centroids, x.quant = c, q
	x.lists = make([]list, x.nlist)
	return nil
}

// Info implements index.Index.
func (x *IVF) Info() index.Info {
	x.RLock()
	defer x.RUnlock()
	return index.Info{Type: TypeName, Dim: x.Dim(), Metric: x.Metric().String(), Len: x.ids.Len(), MemoryBytes: x.memoryLocked()}
}

func (x *IVF) memoryLocked() int64 {
	b := int64(cap(x.centroids)) * 4
	if x.quant != nil {
		b += x.quant.MemoryBytes()
	}
	for _, l := range x.lists {
		b += int64(cap(l.ids))*8 + int64(cap(l.vecs))*4
	}
	return b + x.ids.MemoryBytes()
}

// Close implements index.Index.
func (x *IVF) Close() error {
	return x.CloseWith(func() error {
		x.lists, x.centroids, x.ids = nil, nil, index.Slots{}
		return nil
	})
}

func (x *IVF) notTrained(what string) error {
	return fmt.Errorf("%w: %s an untrained ivf_flat index: call train with at least nlist=%d vectors first", errs.State, what, x.nlist)
}

// scratch is one search task's buffer: the scores of a list.
type scratch struct {
	dists []float32
	feat  []float32 // a query's policy features
	found []float32 // its results so far, as the features read them
	cells []int64   // its cells beyond the first ones, when the policy wants them
	cdist []float32
}

// each lists every vector's id and slot.
func (x *IVF) each(fn func(id int64, s index.Slot)) {
	for c := range x.lists {
		for i, id := range x.lists[c].ids {
			fn(id, index.Slot{List: int32(c), Pos: int32(i)})
		}
	}
}
