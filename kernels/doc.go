// Package kernels holds the engine's hot loops: distance kernels over float32
// vectors and over quantized codes, in assembly for each x86-64 level and in
// pure Go for every platform.
//
// Each kernel has a pure-Go reference (the *_generic.go files). The doc
// comment of an assembly routine names the loop it computes, and the generic
// twin is exactly that loop; tests compare every level against it. The
// assembly is generated with avo from kernels/_generate and never edited by
// hand (make kernels regenerates it).
//
// Callers take the kernel set of the CPU once per call with Current() and
// use its function fields; the set is chosen at start-up from the CPU's
// features (klauspost/cpuid), can be capped with the environment variable
// OXVEC_SIMD=generic|avx2|avx512 read at start-up, and can be switched with
// SetLevel (tests use it to cover every level the CPU has). Building with the
// noasm tag leaves only the generic level.
//
// Preconditions shared by every kernel: the second input is at least as long
// as the first, and lengths may be anything, including zero and odd sizes.
// Kernels never check this themselves: callers check lengths once per batch.
package kernels
