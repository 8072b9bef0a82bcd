package index

import "github.com/oxvec/oxvec/core/parallel"

// ProbeChunk is how many queries an inverted-file search hands a worker at
// a time: the worker finds their cells (the coarse search, arithmetic on
// centroids in cache) and then scans those cells' lists (reads from
// memory). Done as two phases over all queries, both workers computed and
// then both waited on memory: two threads ran 1.3x one on wordnet-minilm
// at nprobe 1, where faiss, which works query by query, runs 2x. 32
// queries keep the coarse search's 4-query tiles efficient; smaller
// batches get smaller chunks so every worker has several.
func ProbeChunk(nq int) int {
	return min(32, max(4, nq/(4*parallel.Workers())))
}
