package diskann

import (
	"context"
	"math"

	"github.com/oxvec/oxvec/core/parallel"
)

// codes8 is the build's one-byte copy of the vectors it links: the walks
// and RobustPrune of the in-memory build rank on squared l2 of these codes
// rather than of the float32 rows, a quarter of the memory traffic (which
// a million-vector build waits on) and a cheaper kernel - core/hnsw builds
// on the same codes. A code is round(x/scale) + 128 with one scale for
// every dimension, so code distances are scale^-2 times the rows' up to
// rounding: the same order, and alpha pruning (a ratio of distances) is
// unchanged by the scale. Searches still rank on the exact vectors.
type codes8 struct {
	stride int // bytes per row: dim rounded up to 64 (the gather kernel's unit), padded with the code of 0
	data   []uint8
}

const code8Zero = 128

// encode8 returns the codes of the n rows of x (dim values each), in
// parallel over the cores.
func encode8(ctx context.Context, x []float32, dim int) (*codes8, error) {
	n := len(x) / dim
	var maxAbs float32
	for _, v := range x {
		maxAbs = max(maxAbs, float32(math.Abs(float64(v))))
	}
	inv := 127 / max(maxAbs, 1e-30)
	c := &codes8{stride: (dim + 63) / 64 * 64}
	c.data = make([]uint8, n*c.stride)
	err := parallel.For(ctx, n, 4096, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			dst := c.data[i*c.stride : (i+1)*c.stride]
			for j, v := range x[i*dim : (i+1)*dim] {
				q := int32(math.Round(float64(v * inv)))
				dst[j] = uint8(min(127, max(-127, q)) + code8Zero)
			}
			for j := dim; j < c.stride; j++ {
				dst[j] = code8Zero
			}
		}
		return nil
	})
	return c, err
}

func (c *codes8) row(i uint32) []uint8 { return c.data[int(i)*c.stride : int(i+1)*c.stride] }
