package pq

import (
	"context"
	"fmt"
	"unsafe"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/kmeans"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// Codebook is a product quantizer: m sub-spaces of dim/m values, each with
// 2^nbits centroids. The PQ index and IVF-PQ (on residuals) both use it.
type Codebook struct {
	Dim, M, NBits int
	KSub, DSub    int // centroids per sub-space, values per sub-vector
	CodeSize      int // bytes per code: m for 8 bits, ceil(m/2) for 4
	Centroids     []float32
	Iters         int       // k-means iterations when training; 0: k-means's default (20)
	cnorms        []float32 // |centroid|^2
	// cols holds each sub-space's centroids column-wise (m blocks of
	// dsub rows of ksub values) for the table kernel, DotCols: a table
	// computed one centroid at a time was half of an IVF-PQ search.
	cols []float32
}

// NewCodebook checks the shape; the codebook is untrained.
func NewCodebook(dim, m, nbits int) (*Codebook, error) {
	if m < 1 || dim%m != 0 {
		return nil, fmt.Errorf("%w: m must divide dim (%d); got m = %d", errs.InvalidArgument, dim, m)
	}
	if nbits != 8 && nbits != 4 {
		return nil, fmt.Errorf("%w: nbits must be 8 or 4, got %d", errs.InvalidArgument, nbits)
	}
	return &Codebook{Dim: dim, M: m, NBits: nbits, KSub: 1 << nbits, DSub: dim / m, CodeSize: (m*nbits + 7) / 8}, nil
}

// Trained reports whether the centroids are set.
func (c *Codebook) Trained() bool { return c.Centroids != nil }

// Train runs k-means in every sub-space of x (n rows), at most 256 points
// per centroid sampled, sub-space j seeded with seed+j.
func (c *Codebook) Train(ctx context.Context, x []float32, n int, seed uint64) error {
	if n < c.KSub {
		return fmt.Errorf("%w: training pq with nbits=%d needs at least %d vectors (about %d or more is better), got %d", errs.InvalidArgument, c.NBits, c.KSub, 39*c.KSub, n)
	}
	cents := make([]float32, c.M*c.KSub*c.DSub)
	err := parallel.For(ctx, c.M, 1, func(lo, hi int) error {
		sub := make([]float32, n*c.DSub)
		for j := lo; j < hi; j++ {
			c.gather(x, n, j, sub)
			res, err := kmeans.Train(ctx, sub, c.DSub, kmeans.Params{K: c.KSub, Seed: seed + uint64(j), Iters: c.Iters})
			if err != nil {
				return err
			}
			copy(cents[j*c.KSub*c.DSub:], res.Centroids)
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.SetCentroids(cents)
	return nil
}

// gather copies sub-vector j of every row of x into sub.
func (c *Codebook) gather(x []float32, n, j int, sub []float32) {
	for i := range n {
		copy(sub[i*c.DSub:(i+1)*c.DSub], x[i*c.Dim+j*c.DSub:i*c.Dim+(j+1)*c.DSub])
	}
}

// SetCentroids installs centroids (trained or loaded), their norms and
// their column-wise copy.
func (c *Codebook) SetCentroids(cents []float32) {
	c.Centroids = cents
	c.cols = make([]float32, len(cents))
	for j := range c.M {
		kernels.Columns(cents[j*c.KSub*c.DSub:(j+1)*c.KSub*c.DSub], c.KSub, c.DSub, c.cols[j*c.KSub*c.DSub:(j+1)*c.KSub*c.DSub])
	}
	c.cnorms = make([]float32, c.M*c.KSub)
	for i := range c.cnorms {
		var s float32
		for _, v := range cents[i*c.DSub : (i+1)*c.DSub] {
			s += v * v
		}
		c.cnorms[i] = s
	}
}

// Encode returns the codes of x (n rows): per sub-space the nearest
// centroid by l2, found as k-means assigns (kmeans.Nearest). Sub-quantizer
// 2i of a 4-bit code is the low nibble of byte i, 2i+1 the high one.
func (c *Codebook) Encode(ctx context.Context, x []float32, n int) ([]uint8, error) {
	codes := make([]uint8, n*c.CodeSize)
	grain := 1
	if c.NBits == 4 {
		grain = 2 // both nibbles of a byte are written by one worker
	}
	err := parallel.For(ctx, c.M, grain, func(lo, hi int) error {
		sub := make([]float32, n*c.DSub)
		near, dist := make([]int64, n), make([]float32, n)
		for j := lo; j < hi; j++ {
			c.gather(x, n, j, sub)
			if err := kmeans.Nearest(ctx, c.Centroids[j*c.KSub*c.DSub:(j+1)*c.KSub*c.DSub], sub, c.DSub, near, dist); err != nil {
				return err
			}
			for i, k := range near {
				if c.NBits == 8 {
					codes[i*c.CodeSize+j] = uint8(k)
				} else {
					codes[i*c.CodeSize+j/2] |= uint8(k) << ((j & 1) * 4)
				}
			}
		}
		return nil
	})
	return codes, err
}

// TableRows is the number of table rows a code reads: m, or for 4-bit codes
// with an odd m one more (a zero row for the unused high nibble).
func (c *Codebook) TableRows() int {
	if c.NBits == 8 {
		return c.M
	}
	return 2 * c.CodeSize
}

// NewTables returns room for nq queries' distance tables, one after another.
func (c *Codebook) NewTables(nq int) [][256]float32 { return make([][256]float32, nq*c.TableRows()) }

// MemoryBytes is what the codebook holds: centroids, their column-wise
// copy and norms.
func (c *Codebook) MemoryBytes() int64 {
	return int64(len(c.Centroids)+len(c.cols)+len(c.cnorms)) * 4
}

// Tables fills lut with the distances from q's sub-vectors to every
// centroid: squared l2 (l2 true) or inner products (|q-c|^2 = |q|^2 -
// 2<q,c> + |c|^2). q holds nq <= 4 queries (rows of Dim values) and lut
// their tables one after another (nq * TableRows rows, as NewTables(nq)
// gives). With 4 queries each sub-space's centroids are read once for the
// 4 (MatMul4): the centroids (393 KB for 384-d) come from L2, and reading
// them once per query made the tables a third of an IVF-PQ search.
func (c *Codebook) Tables(q []float32, nq int, lut [][256]float32, l2 bool, ks *kernels.Set) {
	rows := c.TableRows()
	flat := flatTables(lut)
	for j := range c.M {
		cols := c.cols[j*c.KSub*c.DSub : (j+1)*c.KSub*c.DSub]
		if nq == 4 {
			ks.MatMul4(q[j*c.DSub:], c.Dim, cols, c.DSub, c.KSub, flat[j*256:], rows*256)
		} else {
			for r := range nq {
				ks.DotCols(q[r*c.Dim+j*c.DSub:r*c.Dim+(j+1)*c.DSub], cols, c.DSub, lut[r*rows+j][:c.KSub])
			}
		}
		if !l2 {
			continue
		}
		norms := c.cnorms[j*c.KSub : (j+1)*c.KSub]
		for r := range nq {
			qs := q[r*c.Dim+j*c.DSub : r*c.Dim+(j+1)*c.DSub]
			qq := ks.Dot(qs, qs)
			row := lut[r*rows+j][:c.KSub]
			for k, dot := range row {
				row[k] = max(0, qq-2*dot+norms[k])
			}
		}
	}
}

// Scan sets out[i] to the ADC sum of code i of codes (len(out) codes of
// CodeSize bytes): the 8-bit kernel for 8-bit codes, Go for 4-bit ones.
func (c *Codebook) Scan(lut [][256]float32, codes []uint8, out []float32, ks *kernels.Set) {
	if c.NBits == 8 {
		ks.ADC8(flatTables(lut), codes, c.M, out)
		return
	}
	cs := c.CodeSize
	for i := range out {
		out[i] = adc4(lut, codes[i*cs:(i+1)*cs])
	}
}

// flatTables views tables as one slice of 256 values per row (the rows of
// a [][256]float32 from make are one array).
func flatTables(lut [][256]float32) []float32 {
	if len(lut) == 0 {
		return nil
	}
	return unsafe.Slice(&lut[0][0], 256*len(lut))
}

// Decode writes the reconstruction of code into out (Dim values).
func (c *Codebook) Decode(code []uint8, out []float32) {
	for j := range c.M {
		var k int
		if c.NBits == 8 {
			k = int(code[j])
		} else {
			k = int(code[j/2]>>((j&1)*4)) & 15
		}
		copy(out[j*c.DSub:(j+1)*c.DSub], c.Centroids[(j*c.KSub+k)*c.DSub:(j*c.KSub+k+1)*c.DSub])
	}
}

// adc4 sums one 4-bit code's table entries (an odd m leaves a zero row).
func adc4(lut [][256]float32, c []uint8) float32 {
	lut = lut[:2*len(c)]
	var a0, a1 float32
	for i, b := range c {
		a0 += lut[2*i][b&15]
		a1 += lut[2*i+1][b>>4]
	}
	return a0 + a1
}

// CellTables returns, for a coarse centroid cen (Dim values), the
// per-sub-space table |c_jk|^2 + 2<cen_j, c_jk>: the part of
// |q - cen - r|^2 that does not depend on the query (faiss's precomputed
// table), in m rows.
func (c *Codebook) CellTables(cen []float32, out [][256]float32, ks *kernels.Set) {
	for j := range c.M {
		row := out[j][:c.KSub]
		ks.DotCols(cen[j*c.DSub:(j+1)*c.DSub], c.cols[j*c.KSub*c.DSub:(j+1)*c.KSub*c.DSub], c.DSub, row)
		norms := c.cnorms[j*c.KSub : (j+1)*c.KSub]
		for k, dot := range row {
			row[k] = norms[k] + 2*dot
		}
	}
}

// Combine sets out = pre - 2*lut, row by row: one cell's table for
// IVF-PQ with l2 (|q - cell - r|^2 = |q - cell|^2 + pre - 2<q, r>), so the
// scan reads one table instead of two.
func (c *Codebook) Combine(pre, lut, out [][256]float32, ks *kernels.Set) {
	ks.AddScaled(flatTables(pre), flatTables(lut), -2, flatTables(out[:len(pre)]))
}
