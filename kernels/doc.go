// Package kernels holds the engine's hot loops: distance kernels over float32
// and quantized codes. Each kernel has a pure-Go reference (the *_generic.go
// files), which also documents exactly what the assembly versions compute.
//
// Callers use the package-level functions (Dot, L2Sq, ...), which are bound
// once at start-up to the best implementation for the CPU.
//
// Preconditions shared by every kernel: the two inputs have the same length
// (callers check once per batch, not per call); lengths may be any value,
// including zero and odd sizes.
package kernels
