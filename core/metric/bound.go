package metric

import (
	"encoding/json"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/oxvec/oxvec/core/errs"
)

// Params are a metric's parameters as they appear in a JSON spec, for
// example {"p": 3} for minkowski or {"VI": [[...], ...]} for mahalanobis.
type Params struct {
	P  *float64    `json:"p,omitempty"`  // minkowski exponent, > 0
	V  []float64   `json:"V,omitempty"`  // seuclidean: per-dimension variances, > 0
	VI [][]float64 `json:"VI,omitempty"` // mahalanobis: inverse covariance, d x d, positive definite
}

// Metric is a metric bound to a dimension and its parameters, ready to
// prepare vectors and compute distances. It is immutable and safe for
// concurrent use.
type Metric struct {
	Kind  Kind
	Dim   int
	class Class // Kind.Class(), kept here: a map lookup per distance would cost more than the distance
	pair  func(m *Metric, a, b []float32) float64
	P     float64   // minkowski
	V     []float64 // seuclidean variances
	VI    []float64 // mahalanobis inverse covariance, d*d row-major
	u     []float64 // mahalanobis: U = L^T with VI = L L^T, d*d row-major
}

// DecodeParams reads a metric_params JSON object strictly; empty or null
// means none.
func DecodeParams(raw []byte) (Params, error) {
	var p Params
	if len(raw) == 0 || string(raw) == "null" {
		return p, nil
	}
	if err := strictJSON(raw, &p); err != nil {
		return p, fmt.Errorf("%w: metric parameters: %v (known: p, V, VI)", errs.InvalidArgument, err)
	}
	return p, nil
}

// New binds kind to a dimension and parameters, checking that the
// parameters are present where needed and valid.
func New(kind Kind, dim int, p Params) (*Metric, error) {
	if !kind.Valid() {
		return nil, fmt.Errorf("%w: unknown metric %d", errs.InvalidArgument, kind)
	}
	if dim < 1 {
		return nil, fmt.Errorf("%w: dim must be >= 1, got %d", errs.InvalidArgument, dim)
	}
	m := &Metric{Kind: kind, Dim: dim, class: kind.Class(), pair: pairFuncs[kind]}
	bad := func(format string, a ...any) (*Metric, error) {
		return nil, fmt.Errorf("%w: %s: "+format, append([]any{errs.InvalidArgument, kind}, a...)...)
	}
	if p.P != nil && kind != Minkowski {
		return bad("takes no parameter p")
	}
	if p.V != nil && kind != SEuclidean {
		return bad("takes no parameter V")
	}
	if p.VI != nil && kind != Mahalanobis {
		return bad("takes no parameter VI")
	}
	switch kind {
	case Minkowski:
		if p.P == nil {
			return bad("needs the exponent p, for example {\"p\": 3}")
		}
		if !(*p.P > 0) || math.IsInf(*p.P, 0) {
			return bad("p must be a finite number > 0, got %v (for p = infinity use chebyshev)", *p.P)
		}
		m.P = *p.P
	case SEuclidean:
		if len(p.V) != dim {
			return bad("needs V, the variance of each of the %d dimensions (got %d values); oxvec.pairwise estimates it from the data when omitted", dim, len(p.V))
		}
		for i, v := range p.V {
			if !(v > 0) || math.IsInf(v, 0) {
				return bad("V[%d] = %v: variances must be finite and > 0", i, v)
			}
		}
		m.V = append([]float64(nil), p.V...)
	case Mahalanobis:
		if len(p.VI) != dim {
			return bad("needs VI, the %d x %d inverse covariance (got %d rows); oxvec.fit_mahalanobis(data) computes it", dim, dim, len(p.VI))
		}
		vi := make([]float64, 0, dim*dim)
		for i, row := range p.VI {
			if len(row) != dim {
				return bad("VI row %d has %d values, need %d", i, len(row), dim)
			}
			vi = append(vi, row...)
		}
		if err := m.setVI(vi); err != nil {
			return nil, err
		}
	case Haversine:
		if dim != 2 {
			return bad("works on (latitude, longitude) pairs in radians: dim must be 2, got %d", dim)
		}
	}
	return m, nil
}

// setVI validates an inverse covariance and factors it VI = L L^T.
func (m *Metric) setVI(vi []float64) error {
	d := m.Dim
	for i := 0; i < d; i++ {
		for j := 0; j < i; j++ {
			a, b := vi[i*d+j], vi[j*d+i]
			if math.Abs(a-b) > 1e-9*(1+math.Abs(a)+math.Abs(b)) {
				return fmt.Errorf("%w: mahalanobis: VI is not symmetric (VI[%d][%d] = %v, VI[%d][%d] = %v)", errs.InvalidArgument, i, j, a, j, i, b)
			}
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(mat.NewSymDense(d, append([]float64(nil), vi...))) {
		return fmt.Errorf("%w: mahalanobis: VI is not positive definite; fit it with oxvec.fit_mahalanobis(data, shrinkage=...)", errs.InvalidArgument)
	}
	var l mat.TriDense
	ch.LTo(&l)
	m.VI = vi
	m.u = make([]float64, d*d)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			m.u[i*d+j] = l.At(j, i) // U = L^T, upper triangular
		}
	}
	return nil
}

// Params returns the parameters m was built with, for saving.
func (m *Metric) Params() Params {
	var p Params
	switch m.Kind {
	case Minkowski:
		v := m.P
		p.P = &v
	case SEuclidean:
		p.V = m.V
	case Mahalanobis:
		for i := 0; i < m.Dim; i++ {
			p.VI = append(p.VI, m.VI[i*m.Dim:(i+1)*m.Dim])
		}
	}
	return p
}

// ParamsJSON is Params encoded, or nil when there are none.
func (m *Metric) ParamsJSON() []byte {
	p := m.Params()
	if p.P == nil && p.V == nil && p.VI == nil {
		return nil
	}
	b, _ := json.Marshal(p)
	return b
}

// Class is how searchers compute m.
func (m *Metric) Class() Class { return m.class }

// FromL2 turns the squared euclidean distance of prepared vectors into m's
// distance (ClassL2 metrics).
func (m *Metric) FromL2(sq float64) float64 {
	sq = math.Max(sq, 0)
	switch m.Kind {
	case L2:
		return sq
	case Hellinger:
		return math.Sqrt(sq / 2)
	default: // euclidean, seuclidean, mahalanobis
		return math.Sqrt(sq)
	}
}

// FromDot turns the inner product of prepared vectors into m's distance
// (ClassDot metrics).
func (m *Metric) FromDot(dot float64) float64 {
	switch m.Kind {
	case Angular:
		return math.Acos(math.Max(-1, math.Min(1, dot))) / math.Pi
	case Bhattacharyya:
		if dot <= 0 {
			return math.Inf(1) // disjoint supports
		}
		return math.Max(0, -math.Log(math.Min(1, dot)))
	case IP:
		return 1 - dot
	default: // cosine, correlation, spearman: dot is a similarity in [-1, 1]
		return math.Max(0, 1-dot)
	}
}
