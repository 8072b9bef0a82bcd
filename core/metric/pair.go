package metric

import (
	"math"

	"github.com/oxvec/oxvec/kernels"
)

// Pair is m's exact distance between two prepared vectors of m.Dim values.
// Generic metrics accumulate in float64; the SIMD kernels serve the rest.
func (m *Metric) Pair(a, b []float32) float64 {
	b = b[:len(a)]
	switch m.Kind.Class() {
	case ClassL2:
		return m.FromL2(float64(kernels.Current().L2Sq(a, b)))
	case ClassDot:
		if m.Kind == Angular {
			// arccos is ill-conditioned near 1 (a float32 dot of a unit
			// vector with itself gives 1e-4); the chord of unit vectors is
			// not: angle = 2 asin(|a-b|/2)
			chord := math.Sqrt(float64(kernels.Current().L2Sq(a, b)))
			return 2 * math.Asin(math.Min(1, chord/2)) / math.Pi
		}
		return m.FromDot(float64(kernels.Current().Dot(a, b)))
	}
	switch m.Kind {
	case Manhattan:
		return float64(kernels.Current().L1(a, b))
	case Chebyshev:
		var mx float64
		for i := range a {
			mx = math.Max(mx, math.Abs(float64(a[i])-float64(b[i])))
		}
		return mx
	case Minkowski:
		var s float64
		for i := range a {
			s += math.Pow(math.Abs(float64(a[i])-float64(b[i])), m.P)
		}
		return math.Pow(s, 1/m.P)
	case Canberra:
		var s float64
		for i := range a {
			x, y := float64(a[i]), float64(b[i])
			if den := math.Abs(x) + math.Abs(y); den > 0 {
				s += math.Abs(x-y) / den
			}
		}
		return s
	case BrayCurtis:
		var num, den float64
		for i := range a {
			x, y := float64(a[i]), float64(b[i])
			num += math.Abs(x - y)
			den += math.Abs(x + y)
		}
		if den == 0 {
			return 0 // both all zero: identical
		}
		return num / den
	case Hamming:
		n := 0
		for i := range a {
			if a[i] != b[i] {
				n++
			}
		}
		return float64(n) / float64(len(a))
	case Jaccard, Dice:
		var both, either, differ int
		for i := range a {
			x, y := a[i] != 0, b[i] != 0
			if x && y {
				both++
			}
			if x || y {
				either++
			}
			if x != y {
				differ++
			}
		}
		den := either
		if m.Kind == Dice {
			den = 2*both + differ
		}
		if den == 0 {
			return 0 // both all false: identical
		}
		return float64(differ) / float64(den)
	case WeightedJaccard:
		var lo, hi float64
		for i := range a {
			x, y := float64(a[i]), float64(b[i])
			lo += math.Min(x, y)
			hi += math.Max(x, y)
		}
		if hi == 0 {
			return 0
		}
		return 1 - lo/hi
	case Tanimoto:
		var ab, aa, bb float64
		for i := range a {
			x, y := float64(a[i]), float64(b[i])
			ab += x * y
			aa += x * x
			bb += y * y
		}
		den := aa + bb - ab
		if den == 0 {
			return 0 // both zero
		}
		return 1 - ab/den
	case KL:
		var s float64
		for i := range a {
			p, q := float64(a[i]), float64(b[i])
			if p == 0 {
				continue
			}
			if q == 0 {
				return math.Inf(1)
			}
			s += p * math.Log(p/q)
		}
		return math.Max(0, s)
	case JensenShannon:
		var s float64
		for i := range a {
			p, q := float64(a[i]), float64(b[i])
			mid := (p + q) / 2
			if p > 0 {
				s += p * math.Log(p/mid)
			}
			if q > 0 {
				s += q * math.Log(q/mid)
			}
		}
		return math.Sqrt(math.Max(0, s/2))
	case ChiSquare:
		var s float64
		for i := range a {
			x, y := float64(a[i]), float64(b[i])
			if den := x + y; den > 0 {
				s += (x - y) * (x - y) / den
			}
		}
		return s
	case Haversine:
		lat1, lon1, lat2, lon2 := float64(a[0]), float64(a[1]), float64(b[0]), float64(b[1])
		sl, so := math.Sin((lat2-lat1)/2), math.Sin((lon2-lon1)/2)
		h := sl*sl + math.Cos(lat1)*math.Cos(lat2)*so*so
		return 2 * math.Asin(math.Min(1, math.Sqrt(h)))
	}
	panic("metric: no pair function for " + m.Kind.String())
}

// CanBeInfinite reports whether m legitimately returns +Inf for finite
// inputs (kl and bhattacharyya of distributions with disjoint support); for
// other metrics an infinite result means the float32 range overflowed.
func (m *Metric) CanBeInfinite() bool { return m.Kind == KL || m.Kind == Bhattacharyya }
