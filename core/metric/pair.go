package metric

import (
	"math"

	"github.com/oxvec/oxvec/kernels"
)

// Pair is m's exact distance between two prepared vectors of m.Dim values.
// The function for m's kind is chosen once, in New: a switch per distance
// would cost a noticeable share of a 128-d distance.
func (m *Metric) Pair(a, b []float32) float64 { return m.pair(m, a, b[:len(a)]) }

// pairFuncs holds each kind's exact distance on prepared vectors. Generic
// metrics accumulate in float64 (inputs and divisions in float32 where that
// keeps relative errors far below 1e-5); the SIMD kernels serve the rest.
var pairFuncs = map[Kind]func(m *Metric, a, b []float32) float64{
	L2:        func(m *Metric, a, b []float32) float64 { return math.Max(0, float64(kernels.Current().L2Sq(a, b))) },
	Euclidean: l2Class, SEuclidean: l2Class, Mahalanobis: l2Class, Hellinger: l2Class,
	IP: dotClass, Cosine: dotClass, Correlation: dotClass, Spearman: dotClass, Bhattacharyya: dotClass,
	Angular: func(m *Metric, a, b []float32) float64 {
		// arccos is ill-conditioned near 1 (a float32 dot of a unit vector
		// with itself gives 1e-4); the chord of unit vectors is not:
		// angle = 2 asin(|a-b|/2)
		chord := math.Sqrt(float64(kernels.Current().L2Sq(a, b)))
		return 2 * math.Asin(math.Min(1, chord/2)) / math.Pi
	},
	Manhattan: func(m *Metric, a, b []float32) float64 { return float64(kernels.Current().L1(a, b)) },
	Chebyshev: func(m *Metric, a, b []float32) float64 {
		// |x| as bits: non-negative floats order like their bit patterns,
		// so the maximum needs no float compare and abs no branch
		var mx uint32
		for i := range a {
			if v := math.Float32bits(a[i]-b[i]) &^ (1 << 31); v > mx {
				mx = v
			}
		}
		return float64(math.Float32frombits(mx))
	},
	Minkowski: func(m *Metric, a, b []float32) float64 {
		var s float64
		p, ip := m.P, int(m.P)
		integer := float64(ip) == p && ip <= 8 // integer exponents without math.Pow
		for i := range a {
			v := float64(abs32(a[i] - b[i]))
			if integer {
				t := v
				for k := 1; k < ip; k++ {
					t *= v
				}
				s += t
			} else {
				s += math.Pow(v, p)
			}
		}
		return math.Pow(s, 1/p)
	},
	Canberra: func(m *Metric, a, b []float32) float64 {
		var s float64
		for i := range a {
			x, y := a[i], b[i]
			if den := abs32(x) + abs32(y); den > 0 {
				s += float64(abs32(x-y) / den)
			}
		}
		return s
	},
	BrayCurtis: func(m *Metric, a, b []float32) float64 {
		var num, den float64
		for i := range a {
			num += float64(abs32(a[i] - b[i]))
			den += float64(abs32(a[i] + b[i]))
		}
		if den == 0 {
			return 0 // both all zero: identical
		}
		return num / den
	},
	Hamming: func(m *Metric, a, b []float32) float64 {
		n := 0
		for i := range a {
			if a[i] != b[i] {
				n++
			}
		}
		return float64(n) / float64(len(a))
	},
	Jaccard: booleanPair, Dice: booleanPair,
	WeightedJaccard: func(m *Metric, a, b []float32) float64 {
		var lo, hi float64
		for i := range a {
			x, y := a[i], b[i] // non-negative, finite: plain compares suffice
			if x < y {
				x, y = y, x
			}
			lo += float64(y)
			hi += float64(x)
		}
		if hi == 0 {
			return 0
		}
		return 1 - lo/hi
	},
	Tanimoto: func(m *Metric, a, b []float32) float64 {
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
	},
	KL: func(m *Metric, a, b []float32) float64 {
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
	},
	JensenShannon: func(m *Metric, a, b []float32) float64 {
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
	},
	ChiSquare: func(m *Metric, a, b []float32) float64 {
		var s float64
		for i := range a {
			x, y := a[i], b[i]
			if den := x + y; den > 0 {
				s += float64((x - y) * (x - y) / den)
			}
		}
		return s
	},
	Haversine: func(m *Metric, a, b []float32) float64 {
		lat1, lon1, lat2, lon2 := float64(a[0]), float64(a[1]), float64(b[0]), float64(b[1])
		sl, so := math.Sin((lat2-lat1)/2), math.Sin((lon2-lon1)/2)
		h := sl*sl + math.Cos(lat1)*math.Cos(lat2)*so*so
		return 2 * math.Asin(math.Min(1, math.Sqrt(h)))
	},
}

func l2Class(m *Metric, a, b []float32) float64 {
	return m.FromL2(float64(kernels.Current().L2Sq(a, b)))
}

func dotClass(m *Metric, a, b []float32) float64 {
	return m.FromDot(float64(kernels.Current().Dot(a, b)))
}

// booleanPair is jaccard and dice on booleans (nonzero = true).
func booleanPair(m *Metric, a, b []float32) float64 {
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
}

// abs32 clears the sign bit: branch-free, unlike a compare with 0, whose
// misprediction on random signs costs more than the rest of a distance.
func abs32(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
}

// CanBeInfinite reports whether m legitimately returns +Inf for finite
// inputs (kl and bhattacharyya of distributions with disjoint support); for
// other metrics an infinite result means the float32 range overflowed.
func (m *Metric) CanBeInfinite() bool { return m.Kind == KL || m.Kind == Bhattacharyya }
