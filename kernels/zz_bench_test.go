package kernels

import "testing"

func BenchmarkZZTables(b *testing.B) {
	s := Current()
	const m, dsub, ksub, D = 48, 8, 256, 384
	cols := make([]float32, m*dsub*ksub)
	for i := range cols {
		cols[i] = float32(i%7) * 0.1
	}
	q := make([]float32, 4*D)
	out := make([]float32, 4*m*256)
	b.Run("dotcols", func(b *testing.B) {
		for range b.N {
			for r := range 4 {
				for j := range m {
					s.DotCols(q[r*D+j*dsub:r*D+(j+1)*dsub], cols[j*dsub*ksub:], dsub, out[(r*m+j)*256:(r*m+j)*256+ksub])
				}
			}
		}
	})
	b.Run("matmul4", func(b *testing.B) {
		for range b.N {
			for j := range m {
				s.MatMul4(q[j*dsub:], D, cols[j*dsub*ksub:], dsub, ksub, out[j*256:], m*256)
			}
		}
	})
}
