//go:build !noasm

package kernels

// Prefetch asks the CPU to bring the two cache lines at p into cache (a
// hint: it reads nothing and cannot fault). Graph searches use it for the
// neighbour list they will read next.
func Prefetch(p *uint32) { prefetch2(p) }
