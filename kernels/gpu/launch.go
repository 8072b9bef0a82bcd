//go:build cgo && !windows

package gpu

import (
	"context"
	"math"
	"unsafe"
)

// The host side of each kernel: device buffers sized by a memory plan, the
// inputs streamed in chunks that fit, results copied back. The loops here
// are the ones emulate/harness.cpp replays on the CPU.

// memoryShare is the part of the device's free memory a call plans for:
// the rest is left to the driver and other users of the GPU.
const memoryShare = 0.7

// maxGridY is CUDA's limit on a grid's y extent: a pairwise launch covers
// at most this many tiles of x rows.
const maxGridY = 65535

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// chunkRows is how many rows of d floats fit in budget bytes, given that
// each row also costs extra bytes elsewhere; at least 1.
func chunkRows(budget int64, d, extra int) int {
	r := budget / int64(4*d+extra)
	return int(max(1, min(r, 1<<30)))
}

// rowsFit checks counts against the kernels' 32-bit row numbers.
func rowsFit(counts ...int) error {
	for _, n := range counts {
		if n > math.MaxInt32 {
			return unsupported("%d rows: the GPU kernels number rows with 32-bit integers; use device=\"cpu\"", n)
		}
	}
	return nil
}

// Pairwise writes the distance (metric kind, minkowski exponent p) of every
// row of x to every row of y into out (nx x ny, row-major). Inputs are
// prepared vectors of d values (core/metric.Prepare).
func (dev *Device) Pairwise(ctx context.Context, kind uint32, p float32, x, y []float32, d int, out []float32) error {
	nx, ny := len(x)/d, len(y)/d
	if nx == 0 || ny == 0 {
		return nil
	}
	if err := rowsFit(nx, ny); err != nil {
		return err
	}
	leave, err := dev.enter()
	if err != nil {
		return err
	}
	defer leave()
	free, err := dev.freeBytes()
	if err != nil {
		return err
	}
	budget := int64(float64(free) * memoryShare)
	// y in chunks of up to half the budget, x rows with their output row
	yc := min(ny, chunkRows(budget/2, d, 0))
	xc := min(nx, chunkRows(budget/2, d, 4*yc), maxGridY*PairTile)
	bx, err := dev.alloc(int64(4 * xc * d))
	if err != nil {
		return err
	}
	by, err := dev.alloc(int64(4 * yc * d))
	if err != nil {
		dev.release(&bx)
		return err
	}
	bo, err := dev.alloc(int64(4 * xc * yc))
	if err != nil {
		dev.release(&bx, &by)
		return err
	}
	defer dev.release(&bx, &by, &bo)
	tmp := out
	if yc < ny {
		tmp = make([]float32, xc*yc) // a y chunk's columns are scattered into out's rows
	}
	for y0 := 0; y0 < ny; y0 += yc {
		yn := min(yc, ny-y0)
		if err := dev.upload(by, y[y0*d:(y0+yn)*d]); err != nil {
			return err
		}
		for x0 := 0; x0 < nx; x0 += xc {
			if err := ctx.Err(); err != nil {
				return err
			}
			xn := min(xc, nx-x0)
			if err := dev.upload(bx, x[x0*d:(x0+xn)*d]); err != nil {
				return err
			}
			if err := dev.launch("oxv_pairwise", ceilDiv(yn, PairTile), ceilDiv(xn, PairTile), PairTile, PairTile,
				int32(kind), p, bx, int32(xn), by, int32(yn), int32(d), bo, int64(yn)); err != nil {
				return err
			}
			if yc == ny {
				if err := dev.download(unsafe.Pointer(&out[x0*ny]), bo, xn*yn); err != nil {
					return err
				}
				continue
			}
			if err := dev.download(unsafe.Pointer(&tmp[0]), bo, xn*yn); err != nil {
				return err
			}
			for i := 0; i < xn; i++ {
				copy(out[(x0+i)*ny+y0:(x0+i)*ny+y0+yn], tmp[i*yn:(i+1)*yn])
			}
		}
	}
	return nil
}

// KNN writes the k nearest rows of base for each query (row numbers and
// distances, nq x k, sorted; -1 and +Inf past the base) for prepared
// inputs of d values. Distances of a query chunk against a base block stay
// on the device; only each query's k best come back. k <= KMax.
func (dev *Device) KNN(ctx context.Context, kind uint32, p float32, base, queries []float32, d, k int, outIDs []int64, outDist []float32) error {
	n, nq := len(base)/d, len(queries)/d
	if k > KMax {
		return unsupported("the GPU keeps at most %d neighbours per query, %d asked: use device=\"cpu\"", KMax, k)
	}
	if nq == 0 || k == 0 {
		return nil
	}
	if err := rowsFit(n, nq); err != nil {
		return err
	}
	if n == 0 { // nothing to find: every slot is padding
		for i := range outIDs[:nq*k] {
			outIDs[i], outDist[i] = -1, float32(math.Inf(1))
		}
		return nil
	}
	leave, err := dev.enter()
	if err != nil {
		return err
	}
	defer leave()
	free, err := dev.freeBytes()
	if err != nil {
		return err
	}
	budget := int64(float64(free) * memoryShare)
	// a query chunk with its k best, then base blocks with their column
	// of the distance block
	qc := min(nq, 4096, chunkRows(budget/4, d, 8*k))
	bc := min(n, chunkRows(budget-int64(qc*(4*d+8*k)), d, 4*qc))
	bufs := make([]buffer, 5)
	sizes := []int64{int64(4 * qc * d), int64(4 * bc * d), int64(4 * qc * bc), int64(4 * qc * k), int64(4 * qc * k)}
	for i, s := range sizes {
		if bufs[i], err = dev.alloc(s); err != nil {
			for j := range i {
				dev.release(&bufs[j])
			}
			return err
		}
	}
	defer func() {
		for i := range bufs {
			dev.release(&bufs[i])
		}
	}()
	bq, bb, scratch, bestD, bestI := bufs[0], bufs[1], bufs[2], bufs[3], bufs[4]
	resident := bc == n // the whole base fits: upload it once
	if resident {
		if err := dev.upload(bb, base); err != nil {
			return err
		}
	}
	ids32 := make([]int32, qc*k)
	for q0 := 0; q0 < nq; q0 += qc {
		qn := min(qc, nq-q0)
		if err := dev.upload(bq, queries[q0*d:(q0+qn)*d]); err != nil {
			return err
		}
		for b0 := 0; b0 < n; b0 += bc {
			if err := ctx.Err(); err != nil {
				return err
			}
			bn := min(bc, n-b0)
			if !resident {
				if err := dev.upload(bb, base[b0*d:(b0+bn)*d]); err != nil {
					return err
				}
			}
			if err := dev.launch("oxv_pairwise", ceilDiv(bn, PairTile), ceilDiv(qn, PairTile), PairTile, PairTile,
				int32(kind), p, bq, int32(qn), bb, int32(bn), int32(d), scratch, int64(bn)); err != nil {
				return err
			}
			fresh := int32(0)
			if b0 == 0 {
				fresh = 1
			}
			if err := dev.launch("oxv_topk", qn, 1, SelThreads, 1,
				scratch, int32(qn), int32(bn), int64(bn), int32(b0), int32(k), fresh, bestD, bestI); err != nil {
				return err
			}
		}
		if err := dev.download(unsafe.Pointer(&outDist[q0*k]), bestD, qn*k); err != nil {
			return err
		}
		if err := dev.download(unsafe.Pointer(&ids32[0]), bestI, qn*k); err != nil {
			return err
		}
		for i, v := range ids32[:qn*k] {
			outIDs[q0*k+i] = int64(v)
		}
	}
	return nil
}

// Assign writes each row of x's nearest centroid (rows of c) by squared
// euclidean distance, and that distance: k-means' assignment step.
func (dev *Device) Assign(ctx context.Context, c, x []float32, d int, assign []int64, dist []float32) error {
	n, kc := len(x)/d, len(c)/d
	if n == 0 {
		return nil
	}
	if kc < 1 {
		return invalid("assignment needs at least one centroid")
	}
	if err := rowsFit(n, kc); err != nil {
		return err
	}
	leave, err := dev.enter()
	if err != nil {
		return err
	}
	defer leave()
	free, err := dev.freeBytes()
	if err != nil {
		return err
	}
	budget := int64(float64(free)*memoryShare) - int64(4*kc*d)
	if budget <= 0 {
		return unsupported("%d centroids of %d values do not fit in the GPU's free memory", kc, d)
	}
	xc := min(n, chunkRows(budget, d, 8))
	bufs := make([]buffer, 4)
	for i, s := range []int64{int64(4 * kc * d), int64(4 * xc * d), int64(4 * xc), int64(4 * xc)} {
		if bufs[i], err = dev.alloc(s); err != nil {
			for j := range i {
				dev.release(&bufs[j])
			}
			return err
		}
	}
	defer func() {
		for i := range bufs {
			dev.release(&bufs[i])
		}
	}()
	bc, bx, bi, bd := bufs[0], bufs[1], bufs[2], bufs[3]
	if err := dev.upload(bc, c); err != nil {
		return err
	}
	idx := make([]int32, xc)
	for x0 := 0; x0 < n; x0 += xc {
		if err := ctx.Err(); err != nil {
			return err
		}
		xn := min(xc, n-x0)
		if err := dev.upload(bx, x[x0*d:(x0+xn)*d]); err != nil {
			return err
		}
		if err := dev.launch("oxv_assign", ceilDiv(xn, AssignRows), 1, AssignRows, 1,
			bx, int32(xn), bc, int32(kc), int32(d), bi, bd); err != nil {
			return err
		}
		if err := dev.download(unsafe.Pointer(&idx[0]), bi, xn); err != nil {
			return err
		}
		if err := dev.download(unsafe.Pointer(&dist[x0]), bd, xn); err != nil {
			return err
		}
		for i, v := range idx[:xn] {
			assign[x0+i] = int64(v)
		}
	}
	return nil
}
