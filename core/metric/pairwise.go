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
	var nrmX, nrmY []float32
	if m.Class() == ClassL2 {
		nrmX, nrmY = norms(ks, px, d), norms(ks, py, d)
	}
	// y rows in tiles that stay in cache while a block of x rows visits them
	tile := max(4, (256<<10)/(4*d)&^3)
	err = parallel.For(ctx, nx, 16, func(lo, hi int) error {
		for t0 := 0; t0 < ny; t0 += tile {
			if err := parallel.Check(ctx); err != nil {
				return err
			}
			t1 := min(t0+tile, ny)
			i := lo
			if m.Class() != ClassGeneric {
				i = m.tiles(ks, px, py, nrmX, nrmY, lo, hi, t0, t1, out)
			}
			for ; i < hi; i++ { // rows left over by the 4x4 tiles, and generic metrics
				a := px[i*d : (i+1)*d]
				row := out[i*ny : (i+1)*ny]
				for j := t0; j < t1; j++ {
					row[j] = float32(m.Pair(a, py[j*d:(j+1)*d]))
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

// exactBelow: a squared L2 distance computed as |x|^2 + |y|^2 - 2<x,y>
// carries a rounding error of about 1e-7 (|x|^2 + |y|^2) (float32); where
// the distance is below this share of the norms the pair is recomputed
// directly, so near-duplicates keep a relative error well under 1e-5 and
// identical vectors come out at exactly 0.
const exactBelow = 0.05

// tiles fills out for x rows [lo, hi) and y rows [t0, t1) with the 4x4 rank
// tile, 4 x rows at a time, and returns the first x row it did not cover
// (the caller finishes the last 1-3 rows pair by pair). y rows past the
// last group of 4, and pairs the tile cannot give precisely enough, are
// computed with Pair.
func (m *Metric) tiles(ks *kernels.Set, px, py, nrmX, nrmY []float32, lo, hi, t0, t1 int, out []float32) int {
	d := m.Dim
	ny := len(py) / d
	l2 := m.class == ClassL2
	alpha := float32(1)
	if l2 {
		alpha = -2
	}
	var beta [4]float32
	inf := float32(math.Inf(1))
	bound := [4]float32{inf, inf, inf, inf}
	var res [16]float32
	i := lo
	for ; i+4 <= hi; i += 4 {
		xs := px[i*d : (i+4)*d]
		j := t0
		for ; j+4 <= t1; j += 4 {
			if l2 {
				copy(beta[:], nrmY[j:j+4])
			}
			ks.RankTile(xs, py[j*d:(j+4)*d], d, alpha, &beta, &bound, &res)
			for a := 0; a < 4; a++ {
				row := out[(i+a)*ny+j : (i+a)*ny+j+4]
				if !l2 {
					copy(row, res[4*a:4*a+4]) // dot products
					continue
				}
				nx := nrmX[i+a]
				for b := 0; b < 4; b++ {
					sq := nx + res[4*a+b]
					if sq < exactBelow*(nx+nrmY[j+b]) {
						sq = ks.L2Sq(px[(i+a)*d:(i+a+1)*d], py[(j+b)*d:(j+b+1)*d])
					}
					row[b] = sq
				}
			}
		}
		// the tile wrote squared distances or dot products: finish them
		for a := i; a < i+4; a++ {
			m.finish(out[a*ny+t0:a*ny+j], px[a*d:(a+1)*d], py, t0)
			for b := j; b < t1; b++ { // y rows past the last group of 4
				out[a*ny+b] = float32(m.Pair(px[a*d:(a+1)*d], py[b*d:(b+1)*d]))
			}
		}
	}
	return i
}

// finish turns the raw values the tile left in row (squared L2 distances
// for ClassL2, dot products for ClassDot; y rows from j0 on) into m's
// distances, in place.
func (m *Metric) finish(row, x, py []float32, j0 int) {
	d := m.Dim
	switch m.Kind {
	case L2:
		for j, v := range row {
			row[j] = max(v, 0)
		}
	case IP:
		for j, v := range row {
			row[j] = 1 - v
		}
	case Angular:
		for j, v := range row {
			if v > 1-exactBelow { // see Pair: arccos is ill-conditioned here
				row[j] = float32(m.Pair(x, py[(j0+j)*d:(j0+j+1)*d]))
			} else {
				row[j] = float32(m.FromDot(float64(v)))
			}
		}
	default:
		if m.class == ClassL2 {
			for j, v := range row {
				row[j] = float32(m.FromL2(float64(v)))
			}
		} else {
			for j, v := range row {
				row[j] = float32(m.FromDot(float64(v)))
			}
		}
	}
}

func norms(ks *kernels.Set, x []float32, d int) []float32 {
	out := make([]float32, len(x)/d)
	for i := range out {
		r := x[i*d : (i+1)*d]
		out[i] = ks.Dot(r, r)
	}
	return out
}

// checkRange reports results that overflowed float32 (an infinity the
// metric cannot produce for finite inputs).
func (m *Metric) checkRange(out []float32) error {
	if m.CanBeInfinite() {
		return nil
	}
	// v*0 is 0 for finite v and NaN otherwise: one sum tests them all
	var s float32
	for _, v := range out {
		s += v * 0
	}
	if s == s {
		return nil
	}
	for i, v := range out {
		if math.IsInf(float64(v), 0) || v != v {
			return fmt.Errorf("%w: %s distance %d overflows float32 (inputs too large); scale the data down", errs.InvalidArgument, m.Kind, i)
		}
	}
	return nil
}
