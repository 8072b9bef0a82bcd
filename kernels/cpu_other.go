//go:build !amd64 || noasm

package kernels

func detect() (sets [AVX512 + 1]*Set) {
	sets[Generic] = &generic
	return sets
}
