//go:build race

package hnsw

// raceEnabled: the race detector slows graph builds about tenfold, so the
// recall tests shrink their data under it (they run at full size without).
const raceEnabled = true
