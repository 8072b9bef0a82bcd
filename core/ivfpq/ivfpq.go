// Package ivfpq is the inverted file with product-quantized residuals
// (faiss's IndexIVFPQ): k-means cells as in ivf_flat, and in each cell the
// vector minus its cell's centroid encoded by one shared PQ codebook. A
// search probes the nprobe nearest cells and ranks their codes by ADC;
// with refine > 0 the best refine*k candidates are ranked again exactly on
// stored float32 vectors (faiss's IndexRefineFlat around IVFPQ).
//
// Memory per vector: the PQ code (m*nbits/8 bytes), the id (8) and its
// map entry, plus 4*dim when refine > 0.
package ivfpq

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/oxvec/oxvec/core/coarse"
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/kmeans"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/core/pq"
	"github.com/oxvec/oxvec/core/probepolicy"
	"github.com/oxvec/oxvec/kernels"
)

// TypeName is the name of this index type in specs and files.
const TypeName = "ivf_pq"

// Spec is {"type":"ivf_pq","dim":D,"metric":M,"nlist":100,"nprobe":1,"m":8,"nbits":8,"refine":0,"seed":1}.
type Spec struct {
	index.Common
	NList  int    `json:"nlist"`
	NProbe int    `json:"nprobe"`
	M      int    `json:"m"`
	NBits  int    `json:"nbits"`
	Refine int    `json:"refine"`
	Seed   uint64 `json:"seed"`
}

// IVFPQ is safe for concurrent use: searches share a read lock.
type IVFPQ struct {
	index.Base
	scratch   index.Pool[scratch]
	coarse    *metric.Metric
	nlist     int
	nprobe    atomic.Int32 // default of a search; atomic, since searches read it outside mu
	refine    int
	seed      uint64
	cb        *pq.Codebook
	centroids []float32         // nlist*dim; nil until trained
	quant     *coarse.Quantizer // finds a query's nearest cells
	pre       [][256]float32    // l2 family: TableRows() rows per cell of |c_jk|^2 + 2<cell_j, c_jk>
	lists     []list
	ids       index.Slots         // id -> (list, position); no map while the ids are 0..n-1
	policy    *probepolicy.Policy // learned search policy (policy.go); nil until TrainPolicy
}

type list struct {
	ids   []int64
	codes []uint8
	vecs  []float32 // refine > 0 only
}

// New returns an untrained IVF-PQ index.
func New(dim int, m *metric.Metric, nlist, nprobe, pm, nbits, refine int, seed uint64) (*IVFPQ, error) {
	if m.Class() != metric.ClassL2 && m.Class() != metric.ClassDot {
		return nil, fmt.Errorf("%w: ivf_pq ranks by euclidean or inner-product-based metrics (l2, cosine, ip, ...), not %s", errs.Unsupported, m.Kind)
	}
	if nlist < 1 || nlist > 1<<20 {
		return nil, fmt.Errorf("%w: nlist must be between 1 and %d, got %d", errs.InvalidArgument, 1<<20, nlist)
	}
	if nprobe == 0 {
		nprobe = 1
	}
	if nprobe < 1 || refine < 0 || refine > 1000 {
		return nil, fmt.Errorf("%w: nprobe must be >= 1 and refine in [0, 1000]", errs.InvalidArgument)
	}
	cb, err := pq.NewCodebook(dim, pm, nbits)
	if err != nil {
		return nil, err
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
	x := &IVFPQ{Base: index.NewBase(dim, m), coarse: coarse, nlist: nlist, refine: refine, seed: seed, cb: cb}
	x.nprobe.Store(int32(nprobe))
	return x, nil
}

func init() {
	index.Register(TypeName, index.Factory{
		New: func(spec []byte) (index.Index, error) {
			s := Spec{NList: 100, NProbe: 1, M: 8, NBits: 8}
			if err := index.DecodeSpec(spec, &s); err != nil {
				return nil, err
			}
			m, err := s.Check()
			if err != nil {
				return nil, err
			}
			return New(s.Dim, m, s.NList, s.NProbe, s.M, s.NBits, s.Refine, s.Seed)
		},
		Load: index.Loader(TypeName, layoutVersion, load),
	})
}

// Len implements index.Index.
func (x *IVFPQ) Len() int {
	x.RLock()
	defer x.RUnlock()
	return x.ids.Len()
}

// Trained implements index.Trainer.
// MinTrain implements index.Trainer: one vector per list and per centroid.
func (x *IVFPQ) MinTrain() int { return max(x.nlist, x.cb.KSub) }

func (x *IVFPQ) Trained() bool {
	x.RLock()
	defer x.RUnlock()
	return x.centroids != nil
}

// Train implements index.Trainer: k-means for the cells, then the PQ
// codebook on the residuals of the training vectors.
func (x *IVFPQ) Train(ctx context.Context, vectors []float32) error {
	d := x.Dim()
	n, p, err := index.CheckTrain(x.Bound(), vectors, d, func(n int) error {
		if need := max(x.nlist, x.cb.KSub); n < need {
			return fmt.Errorf("%w: training nlist=%d lists and %d-bit codes needs at least %d vectors, got %d", errs.InvalidArgument, x.nlist, x.cb.NBits, need, n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	res, err := kmeans.Train(ctx, p, d, kmeans.Params{K: x.nlist, Seed: x.seed})
	if err != nil {
		return err
	}
	quant, err := x.quantizer(res.Centroids)
	if err != nil {
		return err
	}
	cell := make([]int64, n)
	if err := quant.Search(ctx, p, 1, cell, make([]float32, n)); err != nil {
		return err
	}
	r := append([]float32(nil), p...) // p may be the caller's buffer
	residuals(r, res.Centroids, cell, d)
	cb, _ := pq.NewCodebook(d, x.cb.M, x.cb.NBits)
	if err := cb.Train(ctx, r, n, x.seed+1000); err != nil {
		return err
	}
	if err := x.LockOpen(); err != nil {
		return err
	}
	defer x.Unlock()
	if x.ids.Len() > 0 {
		return fmt.Errorf("%w: the index holds vectors; train a new index instead", errs.State)
	}
	x.cb, x.centroids, x.quant = cb, res.Centroids, quant
	x.lists = make([]list, x.nlist)
	x.precompute()
	return nil
}

// precompute fills the per-cell tables of the l2 family: the search then
// needs one table of inner products per query instead of a table of
// distances per probed cell.
func (x *IVFPQ) precompute() {
	if x.Bound().Class() != metric.ClassL2 {
		return
	}
	m, d := x.cb.TableRows(), x.Dim()
	x.pre = make([][256]float32, x.nlist*m)
	ks := kernels.Current()
	parallel.For(context.Background(), x.nlist, 16, func(lo, hi int) error {
		for c := lo; c < hi; c++ {
			x.cb.CellTables(x.centroids[c*d:(c+1)*d], x.pre[c*m:(c+1)*m], ks)
		}
		return nil
	})
}

// quantizer finds the cells of queries and added vectors.
func (x *IVFPQ) quantizer(c []float32) (*coarse.Quantizer, error) {
	return coarse.New(c, x.Dim(), x.coarse)
}

// residuals subtracts from each row of v the centroid of its cell.
func residuals(v, centroids []float32, cell []int64, dim int) {
	for i, c := range cell {
		row, cen := v[i*dim:(i+1)*dim], centroids[int(c)*dim:(int(c)+1)*dim]
		for j := range row {
			row[j] -= cen[j]
		}
	}
}

// Info implements index.Index.
func (x *IVFPQ) Info() index.Info {
	x.RLock()
	defer x.RUnlock()
	b := int64(cap(x.centroids))*4 + x.cb.MemoryBytes() + x.ids.MemoryBytes() + int64(len(x.pre))*1024
	for _, l := range x.lists {
		b += int64(cap(l.ids))*8 + int64(cap(l.codes)) + int64(cap(l.vecs))*4
	}
	return index.Info{Type: TypeName, Dim: x.Dim(), Metric: x.Metric().String(), Len: x.ids.Len(), MemoryBytes: b}
}

// Close implements index.Index.
func (x *IVFPQ) Close() error {
	return x.CloseWith(func() error {
		x.lists, x.ids = nil, index.Slots{}
		return nil
	})
}

func (x *IVFPQ) notTrained(what string) error {
	return fmt.Errorf("%w: %s an untrained ivf_pq index: call train with at least %d vectors first", errs.State, what, max(x.nlist, x.cb.KSub))
}

// scratch is one search task's buffers: 4 queries' tables, a cell's
// combined table, candidates, the scores of a list.
type scratch struct {
	luts, cell [][256]float32
	cd         []float32
	ci         []int64
	vs         []float32
	feat       []float32 // a query's policy features
	found      []float32 // its candidates so far, as the features read them
	cells      []int64   // its cells beyond the first ones, when the policy wants them
	cdist      []float32
}

// each lists every vector's id and slot.
func (x *IVFPQ) each(fn func(id int64, s index.Slot)) {
	for c := range x.lists {
		for i, id := range x.lists[c].ids {
			fn(id, index.Slot{List: int32(c), Pos: int32(i)})
		}
	}
}
