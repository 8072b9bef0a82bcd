package kernels

// dotI8Generic returns sum(int32(a[i])*int32(b[i])) over i < len(a).
func dotI8Generic(a, b []int8) int32 {
	b = b[:len(a)]
	var s int32
	for i, x := range a {
		s += int32(x) * int32(b[i])
	}
	return s
}

// l2U8Generic returns sum((int(a[i])-int(b[i]))^2) over i < len(a).
func l2U8Generic(a, b []uint8) uint32 {
	b = b[:len(a)]
	var s uint32
	for i, x := range a {
		d := int32(x) - int32(b[i])
		s += uint32(d * d)
	}
	return s
}

// l2U8GatherGeneric sets out[i] = l2U8(q, base row rows[i]) for rows of
// stride bytes.
func l2U8GatherGeneric(q, base []uint8, stride int, rows []uint32, out []uint32) {
	q = q[:stride]
	for i, r := range rows {
		out[i] = l2U8Generic(q, base[int(r)*stride:int(r+1)*stride])
	}
}

// dotU8I8Rows4Generic is DotU8I8Rows4's reference (tests only: no level
// binds it).
func dotU8I8Rows4Generic(q []uint8, x []int8, d int, bias, add []float32, mul *[4]float32, out []float32) {
	n := len(out) / 4
	for i := range 4 {
		for j := range n {
			var s int32
			for t := range d {
				s += int32(q[i*d+t]) * int32(x[j*d+t])
			}
			out[i*n+j] = add[j] + mul[i]*(float32(s)-bias[j])
		}
	}
}

// encodeU8Generic is EncodeU8.
func encodeU8Generic(x []float32, out []uint8) float32 {
	var top float32
	for _, v := range x {
		if v < 0 {
			v = -v
		}
		if v > top {
			top = v
		}
	}
	s := float32(1)
	if top > 0 {
		s = 127 / top
	}
	for i, v := range x {
		out[i] = uint8(int32(v*s + 128.5)) // v*s+128 in [1, 255]: truncation rounds
	}
	return s
}

// dotU8F32Generic returns sum(w[i]*float32(c[i])) over i < len(w).
func dotU8F32Generic(w []float32, c []uint8) float32 {
	c = c[:len(w)]
	var s float32
	for i, x := range w {
		s += x * float32(c[i])
	}
	return s
}

// dotU4F32Generic returns sum(lo[i]*float32(c[i]&15) + hi[i]*float32(c[i]>>4)) over i < len(lo).
func dotU4F32Generic(lo, hi []float32, c []uint8) float32 {
	hi, c = hi[:len(lo)], c[:len(lo)]
	var s float32
	for i, x := range lo {
		s += x*float32(c[i]&15) + hi[i]*float32(c[i]>>4)
	}
	return s
}
