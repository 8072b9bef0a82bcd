package index

import (
	"context"
	"io"

	"github.com/oxvec/oxvec/core/metric"
)

// Index is a set of vectors, each with an int64 id, searchable by distance.
type Index interface {
	// Dim is the number of float32 values per vector.
	Dim() int
	// Metric is the distance the index ranks by.
	Metric() metric.Kind
	// Len is the number of vectors currently searchable.
	Len() int

	// Add inserts len(vectors)/Dim() vectors. With ids == nil the index
	// assigns fresh ids and, when assigned is not nil, writes them there;
	// otherwise ids holds one non-negative id per vector. The batch is
	// validated first and is added entirely or not at all.
	Add(ctx context.Context, vectors []float32, ids []int64, assigned []int64) error

	// Search finds the k nearest vectors of each of len(queries)/Dim()
	// queries and writes them row by row into outIDs and outDist, which
	// hold nq*k values each. p may be nil for the defaults.
	Search(ctx context.Context, queries []float32, k int, p *SearchParams, outIDs []int64, outDist []float32) error

	// Remove deletes the vectors with the given ids and reports how many
	// existed. Ids that are not present are ignored.
	Remove(ctx context.Context, ids []int64) (int, error)

	// Save writes the index in the container format of package format.
	Save(w io.Writer) error

	// Info describes the index for callers and tools.
	Info() Info

	// Close releases the index. Calls after Close return errs.Closed.
	Close() error
}

// SearchParams are per-call search knobs. Zero values mean "the index's
// default"; an index ignores knobs that do not apply to it.
type SearchParams struct {
	// Ef is the candidate list size of graph searches.
	Ef int
	// NProbe is the number of inverted lists an IVF search visits.
	NProbe int
	// Filter, when not nil, restricts results to an allow-list.
	Filter *Filter
	// Recall, when > 0, asks an index with a learned search policy
	// (ivf_flat's TrainPolicy) to choose each query's nprobe for this
	// target mean recall.
	Recall float32
	// BeamWidth is the number of nodes a disk graph search (diskann)
	// reads per step.
	BeamWidth int
}

// Info describes an index. It is encoded as JSON across the C ABI.
type Info struct {
	Type        string `json:"type"`
	Dim         int    `json:"dim"`
	Metric      string `json:"metric"`
	Len         int    `json:"len"`
	MemoryBytes int64  `json:"memory_bytes"`
	// Quantize names the codes a search walks on where a type chooses them
	// (hnsw: "int8" or "none"); empty for the others.
	Quantize string `json:"quantize,omitempty"`
}

// Compacter is implemented by index types that keep the memory of removed
// vectors until asked to give it back.
type Compacter interface {
	Compact() error
}

// Trainer is implemented by index types that learn from data before they
// can hold vectors (IVF, PQ, ...). Add and Search on an untrained index
// return errs.State.
type Trainer interface {
	Train(ctx context.Context, vectors []float32) error
	Trained() bool
	// MinTrain is the fewest training vectors Train accepts.
	MinTrain() int
}
