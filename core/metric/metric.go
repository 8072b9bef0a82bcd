// Package metric defines every distance oxvec offers: names and aliases,
// parameters, the preparation of vectors (normalising, centring, ranking,
// whitening), and exact distance functions. Every distance is "smaller is
// closer".
//
// A metric is used in three shapes, chosen by its Class:
//
//   - ClassL2: the distance is a monotone function of the squared euclidean
//     distance between prepared vectors (l2, euclidean, seuclidean,
//     mahalanobis, hellinger). Searchers rank with the SIMD kernels and
//     apply FromL2 to the results.
//   - ClassDot: the distance is a decreasing function of the inner product
//     of prepared vectors (ip, cosine, angular, correlation, spearman,
//     bhattacharyya). Searchers rank by 1 - <a,b> and apply FromDot.
//   - ClassGeneric: everything else, computed pair by pair with Pair.
//
// docs/metrics.md states each formula, domain and convention.
package metric

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

// Kind identifies a metric. The numbers are stored in index files: never
// renumber them.
type Kind uint32

const (
	L2              Kind = 1  // sum (a-b)^2
	IP              Kind = 2  // 1 - <a,b>
	Cosine          Kind = 3  // 1 - <a,b>/(|a||b|)
	Euclidean       Kind = 4  // sqrt(sum (a-b)^2)
	Angular         Kind = 5  // arccos(cosine similarity)/pi
	Manhattan       Kind = 6  // sum |a-b|
	Chebyshev       Kind = 7  // max |a-b|
	Minkowski       Kind = 8  // (sum |a-b|^p)^(1/p)
	Canberra        Kind = 9  // sum |a-b|/(|a|+|b|)
	BrayCurtis      Kind = 10 // sum |a-b| / sum |a+b|
	Correlation     Kind = 11 // 1 - pearson r
	Spearman        Kind = 12 // 1 - spearman rho
	Hamming         Kind = 13 // share of unequal positions
	HammingBits     Kind = 14 // differing bits of packed bit vectors
	Jaccard         Kind = 15 // on booleans (nonzero = true)
	WeightedJaccard Kind = 16 // 1 - sum min / sum max (Ruzicka)
	Dice            Kind = 17 // on booleans (nonzero = true)
	Tanimoto        Kind = 18 // 1 - <a,b>/(|a|^2+|b|^2-<a,b>)
	KL              Kind = 19 // sum p log(p/q), p and q normalised
	JensenShannon   Kind = 20 // sqrt of the JS divergence (natural log)
	Hellinger       Kind = 21 // |sqrt p - sqrt q| / sqrt 2
	Bhattacharyya   Kind = 22 // -ln sum sqrt(p q)
	ChiSquare       Kind = 23 // sum (a-b)^2/(a+b)
	Mahalanobis     Kind = 24 // sqrt((a-b)' VI (a-b))
	SEuclidean      Kind = 25 // sqrt(sum (a-b)^2 / V)
	Haversine       Kind = 26 // great-circle angle between (lat, lon) in radians
)

// Class is how a searcher computes a metric; see the package comment.
type Class int

const (
	ClassL2 Class = iota
	ClassDot
	ClassGeneric
)

// Domain is what inputs a metric accepts beyond finite values.
type Domain int

const (
	AnyReal      Domain = iota
	NonZero             // a zero vector has no direction
	NonConstant         // a constant vector has no correlation
	NonNegative         // counts, weights or histograms
	Distribution        // non-negative with a positive sum; normalised to sum 1
	LatLon              // dim 2: latitude in [-pi/2, pi/2], longitude, radians
	Bits                // packed bits (uint8 bytes), not float32
)

type info struct {
	name    string
	aliases []string
	class   Class
	domain  Domain
	metric  bool // a true metric: symmetric, triangle inequality
}

var registry = map[Kind]info{
	L2:              {"l2", []string{"sqeuclidean", "squared_l2", "l2sq"}, ClassL2, AnyReal, false},
	Euclidean:       {"euclidean", []string{"l2_distance"}, ClassL2, AnyReal, true},
	IP:              {"ip", []string{"dot", "inner_product", "innerproduct"}, ClassDot, AnyReal, false},
	Cosine:          {"cosine", []string{"cos", "cosine_distance"}, ClassDot, NonZero, false},
	Angular:         {"angular", []string{"angle", "arccos"}, ClassDot, NonZero, true},
	Manhattan:       {"manhattan", []string{"l1", "cityblock", "taxicab"}, ClassGeneric, AnyReal, true},
	Chebyshev:       {"chebyshev", []string{"linf", "chessboard", "maximum"}, ClassGeneric, AnyReal, true},
	Minkowski:       {"minkowski", []string{"lp"}, ClassGeneric, AnyReal, true},
	Canberra:        {"canberra", nil, ClassGeneric, AnyReal, true},
	BrayCurtis:      {"braycurtis", []string{"bray_curtis"}, ClassGeneric, AnyReal, false},
	Correlation:     {"correlation", []string{"pearson"}, ClassDot, NonConstant, false},
	Spearman:        {"spearman", []string{"spearmanr", "rank_correlation"}, ClassDot, NonConstant, false},
	Hamming:         {"hamming", nil, ClassGeneric, AnyReal, true},
	HammingBits:     {"hamming_bits", []string{"bit_hamming", "hamming_packed"}, ClassGeneric, Bits, true},
	Jaccard:         {"jaccard", nil, ClassGeneric, AnyReal, true},
	WeightedJaccard: {"weighted_jaccard", []string{"ruzicka"}, ClassGeneric, NonNegative, true},
	Dice:            {"dice", []string{"sorensen", "sorensen_dice"}, ClassGeneric, AnyReal, false},
	Tanimoto:        {"tanimoto", nil, ClassGeneric, AnyReal, false},
	KL:              {"kl", []string{"kullback_leibler", "kl_divergence", "relative_entropy"}, ClassGeneric, Distribution, false},
	JensenShannon:   {"jensenshannon", []string{"jensen_shannon", "js"}, ClassGeneric, Distribution, true},
	Hellinger:       {"hellinger", nil, ClassL2, Distribution, true},
	Bhattacharyya:   {"bhattacharyya", nil, ClassDot, Distribution, false},
	ChiSquare:       {"chisquare", []string{"chi2", "chi_square"}, ClassGeneric, NonNegative, false},
	Mahalanobis:     {"mahalanobis", nil, ClassL2, AnyReal, true},
	SEuclidean:      {"seuclidean", []string{"standardized_euclidean"}, ClassL2, AnyReal, true},
	Haversine:       {"haversine", []string{"great_circle"}, ClassGeneric, LatLon, true},
}

var byName = func() map[string]Kind {
	m := map[string]Kind{}
	for k, in := range registry {
		m[in.name] = k
		for _, a := range in.aliases {
			m[a] = k
		}
	}
	return m
}()

// Parse returns the metric with the given canonical name or alias.
func Parse(name string) (Kind, error) {
	if k, ok := byName[strings.ToLower(strings.TrimSpace(name))]; ok {
		return k, nil
	}
	return 0, fmt.Errorf("%w: unknown metric %q (known: %s)", errs.InvalidArgument, name, strings.Join(Names(), ", "))
}

// Names lists the canonical metric names, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for _, in := range registry {
		out = append(out, in.name)
	}
	sort.Strings(out)
	return out
}

// String returns the canonical name.
func (k Kind) String() string {
	if in, ok := registry[k]; ok {
		return in.name
	}
	return fmt.Sprintf("metric(%d)", uint32(k))
}

// Valid reports whether k is a known metric.
func (k Kind) Valid() bool {
	_, ok := registry[k]
	return ok
}

// Class is how searchers compute k.
func (k Kind) Class() Class { return registry[k].class }

// Domain is what inputs k accepts.
func (k Kind) Domain() Domain { return registry[k].domain }

// IsMetric reports whether k is a true metric (symmetric, zero only for
// equal inputs, triangle inequality).
func (k Kind) IsMetric() bool { return registry[k].metric }

// Aliases lists k's other names.
func (k Kind) Aliases() []string { return append([]string(nil), registry[k].aliases...) }
