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

// firstBelowU16Generic returns the smallest i with x[i] < lim, or len(x).
func firstBelowU16Generic(x []uint16, lim uint16) int {
	for i, v := range x {
		if v < lim {
			return i
		}
	}
	return len(x)
}

// hammingRowsGeneric sets out[r] = Hamming(q[:w], row r of codes) for
// r < len(out), rows of w words.
func hammingRowsGeneric(q, codes []uint64, w int, out []uint16) {
	q = q[:w]
	for r := range out {
		c := codes[r*w : r*w+w]
		n := 0
		for i, x := range q {
			n += bits.OnesCount64(x ^ c[i])
		}
		out[r] = uint16(n)
	}
}
