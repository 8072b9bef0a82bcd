//go:build race

package migrate

// stride thins the byte-by-byte tests under the race detector, which
// makes each read about ten times slower; the fuzz target and the plain
// run cover every byte.
const stride = 5
