//go:build !amd64 || noasm

package kernels

// Prefetch is a hint with no portable form: here it does nothing.
func Prefetch(p *uint32) {}

// PrefetchRow is a hint with no portable form: here it does nothing.
func PrefetchRow(row []float32) {}
