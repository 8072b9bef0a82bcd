// Package text is the engine's keyword side: an analyzer that turns text
// into index terms and an inverted index scored with BM25.
//
// The analyzer is fixed (English) so that a store's index and its queries
// always agree; k1 and b are query-time parameters because the index keeps
// raw term frequencies and document lengths.
package text
