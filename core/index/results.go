package index

// A search for k neighbours can return no more results than the index
// holds, so every buffer a search would size by k (heaps, candidate lists,
// re-rank and refine buffers, per-query scratch) is sized by Results or
// Candidates instead, and the columns of an output row beyond them are
// padding (PadRows). A k far beyond the index then costs the padding of
// the caller's own output rows and nothing else: time and memory follow
// the index, not k.

// Results is how many results a search for k neighbours among n vectors
// can produce: min(k, n), never negative.
func Results(k, n int) int { return max(0, min(k, n)) }

// Candidates is the length of a candidate list taken factor times longer
// than the results before a re-ranking step (binary's rerank, ivf_pq's
// refine): min(k*factor, n), computed without overflow for any k and
// factor (a factor below 1 counts as 1).
func Candidates(k, factor, n int) int {
	factor = max(factor, 1)
	if k > n/factor { // then k*factor > n
		return max(0, n)
	}
	return max(0, k*factor)
}

// PadRows writes the "no result" marks (id -1, distance +Inf) into columns
// [kk, k) of each of nq output rows of k values: the part of every row a
// search for k among fewer than k vectors cannot fill.
func PadRows(outIDs []int64, outDist []float32, nq, k, kk int) {
	if kk >= k {
		return
	}
	for q := range nq {
		Pad(outDist[q*k+kk:(q+1)*k], outIDs[q*k+kk:(q+1)*k])
	}
}
