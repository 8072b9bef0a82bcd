// Package metric names the distance functions oxvec offers and holds their
// scalar reference implementations. Every distance is "smaller is closer".
//
// Each metric has one canonical name and a few aliases users know from scipy,
// faiss, hnswlib and Chroma; Parse accepts any of them, case-insensitively.
package metric

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

// Kind identifies a metric. The numeric values are stored in index files:
// never renumber them.
type Kind uint32

const (
	// L2 is the squared euclidean distance sum((a-b)^2), as faiss and
	// hnswlib report it.
	L2 Kind = 1
	// IP is 1 - <a,b>, the inner-product distance of hnswlib and Chroma.
	// Negate and add one to get faiss's inner-product score.
	IP Kind = 2
	// Cosine is 1 - <a,b>/(|a||b|). Vectors are normalised on insert and
	// queries on search; a zero vector has no direction and is rejected.
	Cosine Kind = 3
)

type info struct {
	name    string
	aliases []string
}

var registry = map[Kind]info{
	L2:     {"l2", []string{"sqeuclidean", "squared_l2", "l2sq"}},
	IP:     {"ip", []string{"dot", "inner_product", "innerproduct"}},
	Cosine: {"cosine", []string{"cos", "cosine_distance"}},
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
