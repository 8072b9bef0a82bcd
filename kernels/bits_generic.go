package kernels

import "math/bits"

// hammingGeneric returns sum(popcount(a[i]^b[i])) over i < len(a).
func hammingGeneric(a, b []uint64) int {
	b = b[:len(a)]
	n := 0
	for i, x := range a {
		n += bits.OnesCount64(x ^ b[i])
	}
	return n
}
