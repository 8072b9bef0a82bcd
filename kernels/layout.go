package kernels

// Columns writes the rows x cols matrix a (row by row) column by column
// into out (cols rows of rows values) and returns out, allocated when nil:
// the layout DotCols and MatMul4 read.
func Columns(a []float32, rows, cols int, out []float32) []float32 {
	if out == nil {
		out = make([]float32, rows*cols)
	}
	for i := range rows {
		for j, v := range a[i*cols : (i+1)*cols] {
			out[j*rows+i] = v
		}
	}
	return out
}
