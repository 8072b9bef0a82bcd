package tenant

import (
	"fmt"
	"math"
	"slices"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/metric"
)

// Policy is what a tenant's vectors must satisfy, on top of the engine's
// own checks (finite values, the collection's dimension). Zero values mean
// no bound.
type Policy struct {
	MinDim       int      `json:"min_dim,omitempty"`
	MaxDim       int      `json:"max_dim,omitempty"`
	MaxMagnitude float64  `json:"max_magnitude,omitempty"` // bound on each vector's L2 norm
	Metrics      []string `json:"metrics,omitempty"`       // allowed metrics; empty: all
}

func (p *Policy) check() error {
	if p.MinDim < 0 || p.MaxDim < 0 || (p.MaxDim > 0 && p.MinDim > p.MaxDim) || p.MaxMagnitude < 0 || math.IsNaN(p.MaxMagnitude) {
		return fmt.Errorf("%w: policy: need 0 <= min_dim <= max_dim and max_magnitude >= 0", errs.InvalidArgument)
	}
	for i, m := range p.Metrics {
		k, err := metric.Parse(m)
		if err != nil {
			return err
		}
		p.Metrics[i] = k.String()
	}
	return nil
}

// allows checks a collection's dimension and metric (canonical name).
func (p *Policy) allows(dim int, metricName string) error {
	if dim < p.MinDim || (p.MaxDim > 0 && dim > p.MaxDim) {
		return fmt.Errorf("%w: the tenant's policy allows dimensions %d..%d, not %d", errs.InvalidArgument, p.MinDim, p.MaxDim, dim)
	}
	if len(p.Metrics) > 0 && !slices.Contains(p.Metrics, metricName) {
		return fmt.Errorf("%w: the tenant's policy allows metrics %v, not %s", errs.InvalidArgument, p.Metrics, metricName)
	}
	return nil
}

// vectors checks every vector of a row-major batch of dim columns.
func (p *Policy) vectors(x []float32, dim int, what string) error {
	if dim < p.MinDim || (p.MaxDim > 0 && dim > p.MaxDim) {
		return fmt.Errorf("%w: the tenant's policy allows dimensions %d..%d, not %d", errs.InvalidArgument, p.MinDim, p.MaxDim, dim)
	}
	if p.MaxMagnitude <= 0 || dim == 0 {
		return nil
	}
	lim := p.MaxMagnitude * p.MaxMagnitude
	for i := 0; i+dim <= len(x); i += dim {
		var s float64
		for _, v := range x[i : i+dim] {
			s += float64(v) * float64(v)
		}
		if s > lim {
			return fmt.Errorf("%w: %s[%d] has magnitude %g; the tenant's policy allows at most %g", errs.InvalidArgument, what, i/dim, math.Sqrt(s), p.MaxMagnitude)
		}
	}
	return nil
}
