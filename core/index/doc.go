// Package index defines what every oxvec index type has in common: the Index
// interface, search parameters, the top-k selection shared by all searchers,
// and the registry that builds an index from a JSON spec or a saved file.
//
// Conventions every implementation keeps:
//
//   - Vectors travel as one flat []float32 of n*Dim() values, row-major. The
//     index copies what it keeps; it never retains a caller's slice.
//   - Distances are "smaller is closer" for every metric. Results of a query
//     are sorted by (distance, id) ascending, so ties resolve to the lower id
//     and the output is deterministic whatever the internal row order.
//   - When fewer than k results exist, the tail of a result row is padded with
//     id -1 and distance +Inf. Searching an empty index is not an error.
//   - Ids are non-negative int64 chosen by the caller, or assigned by the index
//     from a counter that never hands out the same id twice.
//   - Every method is safe for concurrent use; long calls poll ctx.Err() and
//     return ErrCanceled soon after the context is canceled.
//
// What the types share is here too, so that a type is its algorithm and its
// sections: Base (dimension, bound metric, the lock and the closed state,
// with guards that refuse a closed index), the checks every call runs first
// (CheckAdd, CheckSearch, CheckTrain), and the persistence around the
// container of package format: Base.SaveWith writes the header, the
// metric's sections and the shared meta fields; Loader and Sections read
// them back, checking each section against the meta section before a
// loader copies anything.
package index
