package kernels

// dotGeneric returns sum(a[i]*b[i]) over i < len(a).
func dotGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// l2SqGeneric returns sum((a[i]-b[i])^2) over i < len(a).
func l2SqGeneric(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0 := a[i] - b[i]
		d1 := a[i+1] - b[i+1]
		d2 := a[i+2] - b[i+2]
		d3 := a[i+3] - b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// l1Generic returns sum(|a[i]-b[i]|) over i < len(a).
func l1Generic(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(a); i += 2 {
		s0 += abs(a[i] - b[i])
		s1 += abs(a[i+1] - b[i+1])
	}
	for ; i < len(a); i++ {
		s0 += abs(a[i] - b[i])
	}
	return s0 + s1
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// rankTileGeneric sets out[4*i+j] = beta[j] + alpha*dot(q[i*d:(i+1)*d],
// x[j*d:(j+1)*d]) for i, j < 4, and returns the mask of entries with
// out[4*i+j] <= bound[i] (bit 4*i+j).
func rankTileGeneric(q, x []float32, d int, alpha float32, beta, bound *[4]float32, out *[16]float32) uint32 {
	var mask uint32
	for i := 0; i < 4; i++ {
		qi := q[i*d : (i+1)*d]
		for j := 0; j < 4; j++ {
			v := beta[j] + alpha*dotGeneric(qi, x[j*d:(j+1)*d])
			out[4*i+j] = v
			if v <= bound[i] {
				mask |= 1 << (4*i + j)
			}
		}
	}
	return mask
}

// dotRowsGeneric sets out[j] = dot(q[:d], x[j*d:(j+1)*d]) for j < len(out).
func dotRowsGeneric(q, x []float32, d int, out []float32) {
	q = q[:d]
	for j := range out {
		out[j] = dotGeneric(q, x[j*d:(j+1)*d])
	}
}

// firstAtMostGeneric returns the smallest i with x[i] <= b, or len(x).
func firstAtMostGeneric(x []float32, b float32) int {
	for i, v := range x {
		if v <= b {
			return i
		}
	}
	return len(x)
}

// firstAtLeastGeneric returns the smallest i with x[i] >= b, or len(x).
func firstAtLeastGeneric(x []float32, b float32) int {
	for i, v := range x {
		if v >= b {
			return i
		}
	}
	return len(x)
}

// argMinGeneric returns the smallest i with x[i] = min(x), 0 for an empty x.
func argMinGeneric(x []float32) int {
	best := 0
	for i, v := range x {
		if v < x[best] {
			best = i
		}
	}
	return best
}

// l2SqRowsGeneric sets out[j] = l2Sq(q[:d], x row j) for j < len(out).
func l2SqRowsGeneric(q, x []float32, d int, out []float32) {
	q = q[:d]
	for j := range out {
		out[j] = l2SqGeneric(q, x[j*d:(j+1)*d])
	}
}

// dotColsGeneric sets out[j] = sum(q[i]*x[i*len(out)+j]) over i < d.
func dotColsGeneric(q, x []float32, d int, out []float32) {
	clear(out)
	n := len(out)
	for i, w := range q[:d] {
		for j, v := range x[i*n : (i+1)*n] {
			out[j] += w * v
		}
	}
}

// matMul4Generic is dotColsGeneric for each of 4 strided rows of q.
func matMul4Generic(q []float32, qstride int, x []float32, d, n int, out []float32, ostride int) {
	for r := range 4 {
		dotColsGeneric(q[r*qstride:r*qstride+d], x, d, out[r*ostride:r*ostride+n])
	}
}

// adc8Generic sets out[i] = sum(lut[j*256+codes[i*m+j]]) over j < m.
func adc8Generic(lut []float32, codes []uint8, m int, out []float32) {
	tables := lut[:256*m]
	for i := range out {
		var s float32
		for j, c := range codes[i*m : (i+1)*m] {
			s += tables[j*256+int(c)]
		}
		out[i] = s
	}
}

// addScaledGeneric sets out[i] = a[i] + s*b[i].
func addScaledGeneric(a, b []float32, s float32, out []float32) {
	a, b = a[:len(out)], b[:len(out)]
	for i := range out {
		out[i] = a[i] + s*b[i]
	}
}

// l2SqGatherGeneric sets out[i] = l2Sq(q, base row rows[i]) for i < len(rows).
func l2SqGatherGeneric(q, base []float32, d int, rows []uint32, out []float32) {
	q = q[:d]
	for i, r := range rows {
		out[i] = l2SqGeneric(q, base[int(r)*d:int(r+1)*d])
	}
}

// dotGatherGeneric sets out[i] = dot(q, base row rows[i]) for i < len(rows).
func dotGatherGeneric(q, base []float32, d int, rows []uint32, out []float32) {
	q = q[:d]
	for i, r := range rows {
		out[i] = dotGeneric(q, base[int(r)*d:int(r+1)*d])
	}
}
