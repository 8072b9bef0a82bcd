package diskann

import (
	"fmt"
	"math"
	"sync/atomic"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
)

// TypeName is the name of this index type in specs and files.
const TypeName = "diskann"

// Spec is {"type":"diskann","dim":D,"metric":M,"r":64,"l_build":100,
// "alpha":1.2,"pq_bytes":0,"path":"","l_search":100,"beam_width":4,
// "cache_nodes":-1,"build_memory":0,"seed":1}. pq_bytes 0 picks dim/4
// (rounded to a divisor of dim); cache_nodes -1 picks min(4096, n/64);
// build_memory 0 builds in memory whatever the size; path "" keeps the
// node blocks in memory (tests, stores).
type Spec struct {
	index.Common
	R           int     `json:"r"`
	LBuild      int     `json:"l_build"`
	Alpha       float64 `json:"alpha"`
	PQBytes     int     `json:"pq_bytes"`
	Path        string  `json:"path"`
	LSearch     int     `json:"l_search"`
	BeamWidth   int     `json:"beam_width"`
	CacheNodes  int     `json:"cache_nodes"`
	BuildMemory int64   `json:"build_memory"`
	Seed        uint64  `json:"seed"`
}

// params are the build and search settings an index keeps (and saves).
type params struct {
	R           int     `json:"r"`
	LBuild      int     `json:"l_build"`
	Alpha       float64 `json:"alpha"`
	PQBytes     int     `json:"pq_bytes"`
	CacheNodes  int     `json:"cache_nodes"`
	BuildMemory int64   `json:"build_memory"`
	Seed        uint64  `json:"seed"`
}

// Limits of the parameters: a list of r neighbours must fit a record, and
// a larger l only costs time.
const (
	maxR = 1024
	maxL = 1 << 16
)

// DiskANN is safe for concurrent use: searches share the lock; adds into
// the delta, removes, consolidate and merge take it exclusively.
type DiskANN struct {
	index.Base
	p         params
	path      string // where the image is written; "" keeps it in memory
	lSearch   atomic.Int32
	beamWidth atomic.Int32
	img       *image // the disk graph; nil until the first build
	delta     *delta // vectors added since, searched beside img
	nextID    int64
	scratch   index.Pool[scratch]
	stats     counters
}

// New returns an empty index; its first Add builds the disk graph.
func New(dim int, mt *metric.Metric, s Spec) (*DiskANN, error) {
	if mt.Class() != metric.ClassL2 && mt.Class() != metric.ClassDot {
		return nil, fmt.Errorf("%w: diskann ranks by euclidean or inner-product-based metrics (l2, cosine, ip, ...), not %s", errs.Unsupported, mt.Kind)
	}
	if s.R < 2 || s.R > maxR {
		return nil, fmt.Errorf("%w: r (the graph's degree) must be between 2 and %d, got %d", errs.InvalidArgument, maxR, s.R)
	}
	if s.LBuild < 1 || s.LBuild > maxL || s.LSearch < 1 || s.LSearch > maxL {
		return nil, fmt.Errorf("%w: l_build and l_search must be between 1 and %d, got %d and %d", errs.InvalidArgument, maxL, s.LBuild, s.LSearch)
	}
	if s.BeamWidth < 1 || s.BeamWidth > index.MaxBeamWidth {
		return nil, fmt.Errorf("%w: beam_width must be between 1 and %d, got %d", errs.InvalidArgument, index.MaxBeamWidth, s.BeamWidth)
	}
	if math.IsNaN(s.Alpha) || s.Alpha < 1 || s.Alpha > 4 {
		return nil, fmt.Errorf("%w: alpha must be between 1 and 4 (1.2 is usual), got %v", errs.InvalidArgument, s.Alpha)
	}
	if s.PQBytes == 0 {
		s.PQBytes = defaultPQBytes(dim)
	}
	if s.PQBytes < 1 || s.PQBytes > dim || dim%s.PQBytes != 0 {
		return nil, fmt.Errorf("%w: pq_bytes must divide dim (%d); got %d", errs.InvalidArgument, dim, s.PQBytes)
	}
	if s.CacheNodes < -1 || s.BuildMemory < 0 {
		return nil, fmt.Errorf("%w: cache_nodes must be >= -1 and build_memory >= 0", errs.InvalidArgument)
	}
	if s.Seed == 0 {
		s.Seed = 1
	}
	x := &DiskANN{Base: index.NewBase(dim, mt), path: s.Path, delta: newDelta(dim),
		p: params{R: s.R, LBuild: s.LBuild, Alpha: s.Alpha, PQBytes: s.PQBytes, CacheNodes: s.CacheNodes, BuildMemory: s.BuildMemory, Seed: s.Seed}}
	x.lSearch.Store(int32(s.LSearch))
	x.beamWidth.Store(int32(s.BeamWidth))
	return x, nil
}

// defaultPQBytes is the largest divisor of dim not above dim/4: a code of
// a sixteenth of the float32 vector, so the codes and ids in memory stay
// under a tenth of the raw vectors.
func defaultPQBytes(dim int) int {
	for m := max(1, dim/4); m > 1; m-- {
		if dim%m == 0 {
			return m
		}
	}
	return 1
}

func init() {
	index.Register(TypeName, index.Factory{
		New: func(spec []byte) (index.Index, error) {
			s := Spec{R: 64, LBuild: 100, Alpha: 1.2, LSearch: 100, BeamWidth: 4, CacheNodes: -1}
			if err := index.DecodeSpec(spec, &s); err != nil {
				return nil, err
			}
			mt, err := s.Check()
			if err != nil {
				return nil, err
			}
			return New(s.Dim, mt, s)
		},
		Load:    func(f *formatFile) (index.Index, error) { return open(f, false, false) },
		Map:     func(f *formatFile, verify bool) (index.Index, error) { return open(f, verify, true) },
		InPlace: true,
	})
}

// Len implements index.Index: live vectors on disk and in the delta.
func (x *DiskANN) Len() int {
	x.RLock()
	defer x.RUnlock()
	return x.lenLocked()
}

func (x *DiskANN) lenLocked() int {
	n := x.delta.live()
	if x.img != nil {
		n += x.img.live()
	}
	return n
}

// Info implements index.Index. MemoryBytes counts what stays in memory:
// codes, ids, the codebook, the node cache, the delete list and the
// delta; the node blocks on disk are not counted.
func (x *DiskANN) Info() index.Info {
	x.RLock()
	defer x.RUnlock()
	mem := x.delta.memoryBytes()
	if x.img != nil {
		mem += x.img.memoryBytes()
	}
	return index.Info{Type: TypeName, Dim: x.Dim(), Metric: x.Metric().String(), Len: x.lenLocked(), MemoryBytes: mem}
}

// Close implements index.Index: it closes the file of the disk graph.
// Deletes not consolidated and adds not merged are dropped with the index.
func (x *DiskANN) Close() error {
	return x.CloseWith(func() error {
		var err error
		if x.img != nil {
			err = x.img.close()
		}
		x.img, x.delta = nil, newDelta(x.Dim())
		return err
	})
}

// Knobs implements index.Tuner: ef is the search list size l.
func (x *DiskANN) Knobs() []string { return knobs }

var knobs = []string{index.KnobEf, KnobBeamWidth}

// KnobBeamWidth is the number of nodes a search step reads at once.
const KnobBeamWidth = index.KnobBeamWidth

// Knob implements index.Tuner.
func (x *DiskANN) Knob(name string) int {
	if name == KnobBeamWidth {
		return int(x.beamWidth.Load())
	}
	return int(x.lSearch.Load())
}

// SetKnob implements index.Tuner.
func (x *DiskANN) SetKnob(name string, v int) error {
	switch name {
	case KnobBeamWidth:
		if v > index.MaxBeamWidth {
			return fmt.Errorf("%w: beam_width must be between 1 and %d, got %d", errs.InvalidArgument, index.MaxBeamWidth, v)
		}
		x.beamWidth.Store(int32(v))
	default:
		x.lSearch.Store(int32(min(v, maxL)))
	}
	return nil
}
