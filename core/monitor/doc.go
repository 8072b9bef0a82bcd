// Package monitor measures a collection while it serves: latency
// histograms of its searches, writes and deletes over a sliding window
// (p50/p95/p99, operations per second), error counts by class, cache hits
// and misses, and an online estimate of the recall of its index. A store
// owns one Monitor; the registry lists the monitors of every open store so
// that one call renders them all in Prometheus' text format.
//
// The hot path is a handful of atomic adds: recording an operation finds
// its bucket with a bit length (buckets are a fixed log-scale array, four
// per doubling from 1 us to 17 s, values past either end counted in the
// end buckets) and adds one to a counter of the current time slot. A
// window is a ring of slots; a slot whose time has passed is cleared by
// the first operation that lands in it again. Reading takes no lock
// either: it sums the slots still inside the window, so a reader racing a
// rotation may miss the few operations recorded during the clear, which
// is the price of never making a search wait for a reader.
//
// Percentiles are read from the buckets (linear inside a bucket), so they
// are accurate to about 9% of the value, which is what latency alerts need;
// the count and the sum of all operations since the store opened are exact.
package monitor
