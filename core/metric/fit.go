package metric

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/oxvec/oxvec/core/errs"
)

// FitMahalanobis estimates the inverse covariance of n samples of d values
// (row-major): the sample covariance (ddof 1), optionally shrunk towards a
// scaled identity, (1-s) C + s (trace C / d) I, which keeps it invertible
// when samples are few or dimensions correlated. Returns d*d values.
func FitMahalanobis(x []float32, d int, shrinkage float64) ([]float64, error) {
	n := len(x) / d
	if !(shrinkage >= 0 && shrinkage <= 1) {
		return nil, fmt.Errorf("%w: shrinkage must be in [0, 1], got %v", errs.InvalidArgument, shrinkage)
	}
	if n < 2 {
		return nil, fmt.Errorf("%w: a covariance needs at least 2 samples, got %d", errs.InvalidArgument, n)
	}
	mean := make([]float64, d)
	for r := 0; r < n; r++ {
		for j := 0; j < d; j++ {
			mean[j] += float64(x[r*d+j])
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	centred := mat.NewDense(n, d, nil)
	for r := 0; r < n; r++ {
		for j := 0; j < d; j++ {
			centred.Set(r, j, float64(x[r*d+j])-mean[j])
		}
	}
	var c mat.SymDense
	c.SymOuterK(1/float64(n-1), centred.T())
	if shrinkage > 0 {
		var tr float64
		for j := 0; j < d; j++ {
			tr += c.At(j, j)
		}
		for i := 0; i < d; i++ {
			for j := i; j < d; j++ {
				v := (1 - shrinkage) * c.At(i, j)
				if i == j {
					v += shrinkage * tr / float64(d)
				}
				c.SetSym(i, j, v)
			}
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(&c) {
		return nil, fmt.Errorf("%w: the covariance of %d samples in %d dimensions is singular (need more samples than dimensions, and no constant or collinear dimensions); pass shrinkage, e.g. 0.1", errs.InvalidArgument, n, d)
	}
	var inv mat.SymDense
	if err := ch.InverseTo(&inv); err != nil {
		return nil, fmt.Errorf("%w: inverting the covariance: %v; pass shrinkage, e.g. 0.1", errs.InvalidArgument, err)
	}
	out := make([]float64, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			out[i*d+j] = inv.At(i, j)
		}
	}
	return out, nil
}

// Variances returns the sample variance (ddof 1) of each of the d
// dimensions of the rows of x, for seuclidean.
func Variances(x []float32, d int) ([]float64, error) {
	n := len(x) / d
	if n < 2 {
		return nil, fmt.Errorf("%w: variances need at least 2 samples, got %d", errs.InvalidArgument, n)
	}
	v := make([]float64, d)
	for j := 0; j < d; j++ {
		var s, ss float64
		for r := 0; r < n; r++ {
			s += float64(x[r*d+j])
		}
		mean := s / float64(n)
		for r := 0; r < n; r++ {
			dx := float64(x[r*d+j]) - mean
			ss += dx * dx
		}
		v[j] = ss / float64(n-1)
		if v[j] == 0 || math.IsInf(v[j], 0) {
			return nil, fmt.Errorf("%w: dimension %d has variance %v; seuclidean divides by it", errs.InvalidArgument, j, v[j])
		}
	}
	return v, nil
}

// ForData binds kind like New, estimating seuclidean's V and mahalanobis's
// VI from the rows data() returns when the parameters omit them, as
// scipy.spatial.distance.cdist does. data is called only then.
func ForData(kind Kind, dim int, p Params, data func() []float32) (*Metric, error) {
	var err error
	switch {
	case kind == SEuclidean && p.V == nil:
		if p.V, err = Variances(data(), dim); err != nil {
			return nil, err
		}
	case kind == Mahalanobis && p.VI == nil:
		vi, err := FitMahalanobis(data(), dim, 0)
		if err != nil {
			return nil, err
		}
		for i := 0; i < dim; i++ {
			p.VI = append(p.VI, vi[i*dim:(i+1)*dim])
		}
	}
	return New(kind, dim, p)
}
