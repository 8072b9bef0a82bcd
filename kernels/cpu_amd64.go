//go:build !noasm

package kernels

import "github.com/klauspost/cpuid/v2"

func detect() (sets [AVX512 + 1]*Set) {
	sets[Generic] = &generic
	c := cpuid.CPU
	if c.Supports(cpuid.AVX2, cpuid.FMA3) {
		s := Set{
			Level: AVX2, Dot: dotAVX2, L2Sq: l2SqAVX2, L1: l1AVX2, RankTile: rankTileAVX2, DotRows: dotRowsAVX2, L2SqRows: l2SqRowsAVX2, DotCols: dotColsAVX2, MatMul4: matMul4AVX2, L2SqGather: l2SqGatherAVX2, DotGather: dotGatherAVX2, L2U8Gather: l2U8GatherAVX2,
			DotI8: dotI8AVX2, L2U8: l2U8AVX2, Hamming: hammingGeneric, HammingRows: hammingRowsGeneric, DotU8F32: dotU8F32AVX2, DotU4F32: dotU4F32AVX2,
			ADC8: adc8Scalar, AddScaled: addScaledAVX2Full, FirstBelowU16: firstBelowU16Generic, ArgMin: argMinGeneric, EncodeU8: encodeU8Generic,
			FirstAtMost: firstAtMostGeneric, FirstAtLeast: firstAtLeastGeneric,
		}
		s.DotU8F32Rows4 = func(w, v []float32, d int, codes []uint8, stride int, out []float32) {
			dotU8F32Rows4Via(dotU8F32AVX2, w, v, d, codes, stride, out)
		}
		s.DotU4F32Rows4 = func(w, v []float32, h int, codes []uint8, stride int, out []float32) {
			dotU4F32Rows4Via(dotU4F32AVX2, w, v, h, codes, stride, out)
		}
		if c.Supports(cpuid.POPCNT) {
			s.Hamming, s.HammingRows = hammingAVX2, hammingRowsAsm
		}
		sets[AVX2] = &s
		if c.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.AVX512VL, cpuid.BMI2) {
			z := s
			z.Level, z.Dot, z.L2Sq, z.L1, z.RankTile, z.DotRows, z.L2U8 = AVX512, dotAVX512, l2SqAVX512, l1AVX512, rankTileAVX512, dotRowsAVX512, l2U8AVX512
			z.RankPanel = rankPanelAVX512
			z.L2SqGather, z.DotGather, z.L2U8Gather = l2SqGatherAVX512, dotGatherAVX512, l2U8GatherAVX512
			z.DotU8F32, z.DotU4F32, z.DotCols, z.AddScaled = dotU8F32AVX512, dotU4F32AVX512, dotColsAVX512, addScaledAVX512Full
			z.MatMul4, z.L2SqRows, z.FirstBelowU16, z.ArgMin = matMul4AVX512, l2SqRowsAVX512, firstBelowU16AVX512, argMinAVX512
			z.FirstAtMost, z.FirstAtLeast, z.EncodeU8 = firstAtMostAVX512, firstAtLeastAVX512, encodeU8AVX512
			z.DotU8F32Rows4 = func(w, v []float32, d int, codes []uint8, stride int, out []float32) {
				if v == nil {
					dotU8F32Rows4AVX512(w, d, codes, stride, out)
				} else {
					dotU8F32Rows4SqAVX512(w, v, d, codes, stride, out)
				}
			}
			z.DotU4F32Rows4 = func(w, v []float32, h int, codes []uint8, stride int, out []float32) {
				if v == nil {
					dotU4F32Rows4AVX512(w, h, codes, stride, out)
				} else {
					dotU4F32Rows4SqAVX512(w, v, h, codes, stride, out)
				}
			}
			if c.Supports(cpuid.AVX512VNNI) {
				z.DotI8, z.DotU8I8Rows4 = dotI8VNNI, dotU8I8Rows4VNNI
			}
			if c.Supports(cpuid.AVX512VPOPCNTDQ) {
				z.Hamming, z.HammingRows = hammingAVX512, hammingRowsVPOPCNT
			}
			sets[AVX512] = &z
		}
	}
	return sets
}

// hammingRowsAsm picks the unrolled scan for the common code sizes.
func hammingRowsAsm(q, codes []uint64, w int, out []uint16) {
	switch w {
	case 2:
		hammingRows2POPCNT(q, codes, out)
	case 4:
		hammingRows4POPCNT(q, codes, out)
	case 6:
		hammingRows6POPCNT(q, codes, out)
	case 8:
		hammingRows8POPCNT(q, codes, out)
	default:
		hammingRowsPOPCNT(q, codes, w, out)
	}
}

// hammingRowsVPOPCNT is hammingRowsAsm with the vector scan for 128-bit
// codes (8 at a time; the last few go through the scalar one).
func hammingRowsVPOPCNT(q, codes []uint64, w int, out []uint16) {
	if w != 2 {
		hammingRowsAsm(q, codes, w, out)
		return
	}
	hammingRows2AVX512(q, codes, out)
	k := len(out) &^ 7
	hammingRows2POPCNT(q, codes[2*k:], out[k:])
}

// addScaledAVX512Full and addScaledAVX2Full finish the values after the
// last whole vector in Go.
func addScaledAVX512Full(a, b []float32, s float32, out []float32) {
	addScaledAVX512(a, b, s, out)
	k := len(out) &^ 15
	addScaledGeneric(a[k:], b[k:], s, out[k:])
}

func addScaledAVX2Full(a, b []float32, s float32, out []float32) {
	addScaledAVX2(a, b, s, out)
	k := len(out) &^ 7
	addScaledGeneric(a[k:], b[k:], s, out[k:])
}

// matMul4AVX2 runs the one-query kernel per row.
func matMul4AVX2(q []float32, qstride int, x []float32, d, n int, out []float32, ostride int) {
	for r := range 4 {
		dotColsAVX2(q[r*qstride:r*qstride+d], x, d, out[r*ostride:r*ostride+n])
	}
}
