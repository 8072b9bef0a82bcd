package metric

import (
	"fmt"
	"math"
	"sort"

	"github.com/oxvec/oxvec/core/errs"
)

// NeedsPrepare reports whether Prepare changes vectors (otherwise callers
// may skip the copy). Domain checks still apply.
func (m *Metric) NeedsPrepare() bool {
	switch m.Kind {
	case Cosine, Angular, Correlation, Spearman, KL, JensenShannon, Hellinger, Bhattacharyya, SEuclidean, Mahalanobis:
		return true
	}
	return false
}

// Prepare checks one vector against m's domain and writes the form m's
// distances work on into dst (which may be src itself): unit length for
// cosine and angular, centred and unit length for correlation (of the ranks,
// for spearman), sum 1 for kl and jensenshannon, square roots of the
// normalised values for hellinger and bhattacharyya, whitened for
// seuclidean and mahalanobis. what and row name the vector in errors.
// Values must be finite (callers check that for whole batches).
func (m *Metric) Prepare(dst, src []float32, what string, row int) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s row %d: %s "+format, append([]any{errs.InvalidArgument, what, row, m.Kind}, a...)...)
	}
	switch m.Kind.Domain() {
	case NonNegative, Distribution:
		var sum float64
		for i, x := range src {
			if x < 0 {
				return bad("needs non-negative values, got %v at position %d", x, i)
			}
			sum += float64(x)
		}
		if m.Kind.Domain() == Distribution && sum == 0 {
			return bad("needs a distribution with a positive sum; got all zeros")
		}
	case LatLon:
		if lat := float64(src[0]); lat < -math.Pi/2-1e-6 || lat > math.Pi/2+1e-6 {
			return bad("latitude %v is outside [-pi/2, pi/2]: pass (latitude, longitude) in radians (numpy.radians)", lat)
		}
	}
	if &dst[0] != &src[0] {
		copy(dst, src)
	}
	switch m.Kind {
	case Cosine, Angular:
		if !normalize(dst) {
			return bad("is undefined for a zero vector (it has no direction); drop it or use l2")
		}
	case Correlation:
		center(dst)
		if !normalize(dst) {
			return bad("is undefined for a constant vector (its variance is zero)")
		}
	case Spearman:
		ranks(dst)
		center(dst)
		if !normalize(dst) {
			return bad("is undefined for a constant vector (all ranks tie)")
		}
	case KL, JensenShannon:
		scaleToSum1(dst)
	case Hellinger, Bhattacharyya:
		scaleToSum1(dst)
		for i, x := range dst {
			dst[i] = float32(math.Sqrt(float64(x)))
		}
	case SEuclidean:
		for i := range dst {
			dst[i] = float32(float64(dst[i]) / math.Sqrt(m.V[i]))
		}
	case Mahalanobis:
		d := m.Dim
		tmp := make([]float64, d)
		for i := range tmp {
			tmp[i] = float64(dst[i])
		}
		for i := 0; i < d; i++ { // dst = U x, U upper triangular
			var s float64
			for j := i; j < d; j++ {
				s += m.u[i*d+j] * tmp[j]
			}
			dst[i] = float32(s)
		}
	}
	return nil
}

// PrepareRows prepares each dim-sized row of src into dst.
func (m *Metric) PrepareRows(dst, src []float32, what string) error {
	d := m.Dim
	for r := 0; r+d <= len(src); r += d {
		if err := m.Prepare(dst[r:r+d], src[r:r+d], what, r/d); err != nil {
			return err
		}
	}
	return nil
}

// normalize scales v to unit length (in float64) and reports false for a
// zero vector.
func normalize(v []float32) bool {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsInf(s, 0) {
		if math.IsInf(s, 0) { // huge values: scale down first
			var mx float64
			for _, x := range v {
				mx = math.Max(mx, math.Abs(float64(x)))
			}
			for i := range v {
				v[i] = float32(float64(v[i]) / mx)
			}
			return normalize(v)
		}
		return false
	}
	inv := 1 / math.Sqrt(s)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return true
}

// center subtracts the mean; a constant vector becomes all zeros, exactly.
func center(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	mean := s / float64(len(v))
	constant := true
	for _, x := range v {
		if x != v[0] {
			constant = false
			break
		}
	}
	for i := range v {
		if constant {
			v[i] = 0
		} else {
			v[i] = float32(float64(v[i]) - mean)
		}
	}
}

func scaleToSum1(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / s)
	}
}

// ranks replaces values by their ranks 1..n, ties by their average rank
// (scipy.stats.rankdata's "average" method).
func ranks(v []float32) {
	n := len(v)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float32, n)
	for i := 0; i < n; {
		j := i
		for j+1 < n && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		avg := float32(i+j)/2 + 1
		for t := i; t <= j; t++ {
			r[idx[t]] = avg
		}
		i = j + 1
	}
	copy(v, r)
}
