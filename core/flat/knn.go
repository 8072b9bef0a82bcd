package flat

import (
	"context"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/kernels"
)

// KNN is one-shot exact search: the k nearest rows of base for each query
// row, as row numbers. It runs the flat index's search over a temporary
// index of base.
func KNN(ctx context.Context, m *metric.Metric, base, queries []float32, k int, outIDs []int64, outDist []float32) error {
	f, err := New(m.Dim, m)
	if err != nil {
		return err
	}
	if err := f.Add(ctx, base, nil, nil); err != nil {
		return err
	}
	return f.Search(ctx, queries, k, nil, outIDs, outDist)
}

// KNNBits is KNN for packed bit vectors of nbytes bytes under hamming_bits.
func KNNBits(ctx context.Context, base, queries []byte, nbytes, k int, outIDs []int64, outDist []float32) error {
	if nbytes < 1 {
		return fmt.Errorf("%w: rows must hold at least one byte", errs.InvalidArgument)
	}
	if err := index.CheckK(k); err != nil {
		return err
	}
	wb, w := metric.Words(base, nbytes)
	wq, _ := metric.Words(queries, nbytes)
	n, nq := len(wb)/w, len(wq)/w
	ks := kernels.Current()
	kk := min(k, n)
	return parallel.For(ctx, nq, 16, func(lo, hi int) error {
		for q := lo; q < hi; q++ {
			var h index.TopK
			h.Reset(outDist[q*k:q*k+kk], outIDs[q*k:q*k+kk])
			a := wq[q*w : (q+1)*w]
			for r := 0; r < n; r++ {
				if v := float32(ks.Hamming(a, wb[r*w:(r+1)*w])); v <= h.Bound() {
					h.Push(v, int64(r))
				}
			}
			h.Finish()
			index.Pad(outDist[q*k+kk:(q+1)*k], outIDs[q*k+kk:(q+1)*k])
		}
		return nil
	})
}
