package metric

import (
	"context"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// Words packs rows of nbytes bytes into rows of whole uint64 words (zero
// padded), the layout the hamming kernels read.
func Words(b []byte, nbytes int) ([]uint64, int) {
	w := (nbytes + 7) / 8
	n := len(b) / nbytes
	out := make([]uint64, n*w)
	for r := 0; r < n; r++ {
		row := b[r*nbytes : (r+1)*nbytes]
		for i, x := range row {
			out[r*w+i/8] |= uint64(x) << (8 * (i % 8))
		}
	}
	return out, w
}

// PairwiseBits writes the number of differing bits between every row of x
// and every row of y (packed bits, nbytes per row) into out.
func PairwiseBits(ctx context.Context, x, y []byte, nbytes int, out []float32) error {
	if nbytes < 1 {
		return fmt.Errorf("%w: rows must hold at least one byte", errs.InvalidArgument)
	}
	wx, w := Words(x, nbytes)
	wy, _ := Words(y, nbytes)
	nx, ny := len(wx)/w, len(wy)/w
	if len(out) < nx*ny {
		return fmt.Errorf("%w: output holds %d values, need %d x %d", errs.InvalidArgument, len(out), nx, ny)
	}
	ks := kernels.Current()
	return parallel.For(ctx, nx, 16, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			a := wx[i*w : (i+1)*w]
			for j := 0; j < ny; j++ {
				out[i*ny+j] = float32(ks.Hamming(a, wy[j*w:(j+1)*w]))
			}
		}
		return nil
	})
}
