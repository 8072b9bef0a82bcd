package metric

import (
	"context"
	"fmt"
	"math"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// PrepareCopy checks and prepares the rows of x, copying them only when
// the metric changes vectors.
func (m *Metric) PrepareCopy(x []float32, what string) ([]float32, error) {
	if !m.NeedsPrepare() {
		return x, m.PrepareRows(x, x, what) // domain checks only; x unchanged
	}
	out := make([]float32, len(x))
	return out, m.PrepareRows(out, x, what)
}

// Pairwise writes the distance of every row of x to every row of y into out
// (len(x)/Dim by len(y)/Dim, row-major), in parallel over rows of x. Inputs
// must be finite (callers check).
func (m *Metric) Pairwise(ctx context.Context, x, y []float32, out []float32) error {
	d := m.Dim
	nx, ny := len(x)/d, len(y)/d
	if len(out) < nx*ny {
		return fmt.Errorf("%w: output holds %d values, need %d x %d", errs.InvalidArgument, len(out), nx, ny)
	}
	px, err := m.PrepareCopy(x, "x")
	if err != nil {
		return err
	}
	py, err := m.PrepareCopy(y, "y")
	if err != nil {
		return err
	}
	ks := kernels.Current()
	// y rows in tiles that stay in cache while a block of x rows visits them
	tile := max(1, (256<<10)/(4*d))
	err = parallel.For(ctx, nx, 8, func(lo, hi int) error {
		for t0 := 0; t0 < ny; t0 += tile {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			t1 := min(t0+tile, ny)
			for i := lo; i < hi; i++ {
				a := px[i*d : (i+1)*d]
				row := out[i*ny : (i+1)*ny]
				switch m.Kind {
				case L2: // the hot case, without the per-pair dispatch
					for j := t0; j < t1; j++ {
						row[j] = ks.L2Sq(a, py[j*d:(j+1)*d])
					}
				default:
					for j := t0; j < t1; j++ {
						row[j] = float32(m.Pair(a, py[j*d:(j+1)*d]))
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return m.checkRange(out[:nx*ny])
}

// checkRange reports results that overflowed float32 (an infinity the
// metric cannot produce for finite inputs).
func (m *Metric) checkRange(out []float32) error {
	if m.CanBeInfinite() {
		return nil
	}
	for i, v := range out {
		if math.IsInf(float64(v), 0) || v != v {
			return fmt.Errorf("%w: %s distance %d overflows float32 (inputs too large); scale the data down", errs.InvalidArgument, m.Kind, i)
		}
	}
	return nil
}
