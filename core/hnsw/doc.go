// Package hnsw is a hierarchical navigable small world graph (Malkov and
// Yashunin, 2016): approximate nearest-neighbour search in logarithmic time,
// the index most users run.
//
// What it adds to the textbook algorithm, and to hnswlib:
//
//   - Concurrency: searches run while other goroutines add and remove.
//     Neighbour lists are read with atomic loads and written under a per-node
//     lock, so a search may see a list mid-update (harmless for a greedy
//     walk) but never a torn value.
//   - Memory: bulk state is pointer-free (vectors, fixed-stride uint32
//     adjacency), invisible to the garbage collector. Level-0 lists, where
//     almost all the work happens, are separate from the sparse upper ones.
//   - Deletes: removing a vector reconnects the nodes that pointed to it
//     (each picks new neighbours from its own and the removed node's lists),
//     so the graph stays navigable; the slot is reused by later adds, and
//     Compact renumbers the graph to give memory back.
//   - Filters: an allow-list is applied inside the walk; when it admits few
//     vectors the search scans them exactly instead.
//   - Files: Save writes the container of package format with 64-byte
//     aligned sections, so Load can map a file and search it in place.
//
// Distances follow the metric's class (package metric): l2-family metrics
// walk the graph on squared euclidean distances of prepared vectors, dot
// family ones on 1 - <a,b>, the rest on their exact distance; results are
// converted to the metric's distance at the end.
package hnsw
