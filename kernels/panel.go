package kernels

// The shape of RankPanel's block: PanelQueries queries (two AVX-512
// registers of float32) by PanelRows stored rows (24 accumulators of the
// 32 registers).
const (
	PanelQueries = 32
	PanelRows    = 12
)

// PackPanel writes up to PanelQueries rows of d values from q (len(q)/d of
// them) into qt coordinate by coordinate, qt[PanelQueries*c+i] = q[i*d+c],
// zeros for the missing queries: RankPanel's query layout. qt must hold
// PanelQueries*d values.
func PackPanel(q []float32, d int, qt []float32) {
	nq := len(q) / d
	for i := nq; i < PanelQueries; i++ {
		for c := 0; c < d; c++ {
			qt[PanelQueries*c+i] = 0
		}
	}
	for i := 0; i < nq; i++ {
		for c, v := range q[i*d : (i+1)*d] {
			qt[PanelQueries*c+i] = v
		}
	}
}

// rankPanelGeneric is RankPanel's plain loop: for each row r and query i,
// out[32*r+i] = beta[r] + alpha*sum(qt[32*c+i]*x[r*d+c] for c < d), and
// bit i of masks[r] tells out[32*r+i] <= bound[i]. The loop runs over c
// outside i so that qt is read in order, as the assembly does.
func rankPanelGeneric(qt, x []float32, d int, alpha float32, beta []float32, bound *[PanelQueries]float32, out *[PanelQueries * PanelRows]float32, masks *[PanelRows]uint32) uint32 {
	var any uint32
	for r := 0; r < PanelRows; r++ {
		var acc [PanelQueries]float32
		for c, v := range x[r*d : (r+1)*d] {
			col := (*[PanelQueries]float32)(qt[PanelQueries*c:])
			for i := range acc {
				acc[i] += col[i] * v
			}
		}
		var m uint32
		for i, s := range acc {
			v := beta[r] + alpha*s
			out[PanelQueries*r+i] = v
			if v <= bound[i] {
				m |= 1 << i
			}
		}
		masks[r] = m
		any |= m
	}
	return any
}
