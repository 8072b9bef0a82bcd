//go:build !amd64 || noasm

package kernels

// Prefetch is a hint with no portable form: here it does nothing.
func Prefetch(p *uint32) {}
