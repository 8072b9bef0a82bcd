// Package migrate reads the index files other libraries write - faiss's
// binary format (faiss/impl/index_read.cpp), hnswlib's saveIndex layout
// and Annoy's node array - and turns them into oxvec indexes that keep the
// foreign structure: an HNSW graph's levels, lists and entry point, an
// inverted file's centroids and lists, IVF-PQ's codebook and codes. It
// also writes faiss files back (ToFaiss) for the types faiss has an
// equivalent of.
//
// Every file is untrusted input. A reader never allocates more than the
// file's remaining bytes can fill: each count is checked against them
// before a slice is made, loops are bounded by counts checked that way,
// and nesting is limited. A truncated or inconsistent file is errs.Corrupt,
// a valid file of a kind oxvec cannot represent (another faiss index
// type, a metric without an equivalent, a graph shape oxvec's hnsw cannot
// hold) is errs.Unsupported naming what was found and what is supported.
package migrate
