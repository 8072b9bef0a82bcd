package main

/*
#define OXV_NO_PROTOTYPES
#include "oxvec.h"
*/
import "C"

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unsafe"

	"github.com/oxvec/oxvec/core/accel"
	"github.com/oxvec/oxvec/core/calls"
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/kmeans"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels/gpu"
)

// The GPU exports. None loads anything of CUDA before it is called;
// oxv_gpu_search_dirs only records folders.

// gpuStatus is oxv_gpu_status' JSON.
type gpuStatus struct {
	Available bool       `json:"available"`
	Reason    string     `json:"reason"`
	Devices   []gpu.Info `json:"devices"`
}

//export oxv_gpu_search_dirs
func oxv_gpu_search_dirs(dirs *C.char, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	var list []string
	for _, d := range strings.Split(cstring(dirs), ":") {
		if d != "" {
			list = append(list, d)
		}
	}
	gpu.SetSearchDirs(list)
	return C.OXV_OK
}

//export oxv_gpu_status
func oxv_gpu_status(buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	st := gpuStatus{Reason: gpu.Reason(), Devices: []gpu.Info{}}
	st.Available = st.Reason == ""
	if devs, err := gpu.Devices(); err == nil {
		st.Devices = devs
	}
	js, _ := json.Marshal(st)
	return writeText(js, buf, n, needed)
}

//export oxv_gpu_compile
func oxv_gpu_compile(arch *C.char, buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	m, err := gpu.Compile(cstring(arch), 0)
	if err != nil {
		return fail(e, err)
	}
	js, _ := json.Marshal(m)
	return writeText(js, buf, n, needed)
}

// resolveDevice reads a device name argument.
func resolveDevice(device *C.char) (accel.Choice, error) {
	if device == nil {
		return accel.Choice{}, fmt.Errorf("%w: device is NULL", errs.InvalidArgument)
	}
	return accel.Resolve(cstring(device))
}

//export oxv_gpu_pairwise
func oxv_gpu_pairwise(device, spec *C.char, x unsafe.Pointer, nx C.int64_t, y unsafe.Pointer, ny, d C.int64_t, out *C.float, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	choice, err := resolveDevice(device)
	if err != nil {
		return fail(e, err)
	}
	if !choice.OnGPU() {
		return oxv_pairwise(spec, x, nx, y, ny, d, out, cancel, e)
	}
	kind, params, err := parseMetric(spec)
	if err == nil {
		err = rowsArg(x, nx, d, "x")
	}
	if err == nil {
		err = rowsArg(y, ny, d, "y")
	}
	if err == nil && nx*ny > 0 && (out == nil || !plausible(unsafe.Pointer(out))) {
		err = fmt.Errorf("%w: output pointer is NULL or not a valid address", errs.InvalidArgument)
	}
	if err == nil && kind == metric.HammingBits {
		if !choice.Strict {
			return oxv_pairwise(spec, x, nx, y, ny, d, out, cancel, e) // auto: packed bits stay on the CPU
		}
		err = fmt.Errorf("%w: hamming_bits has no GPU kernel: use device=\"cpu\" or \"auto\"", errs.Unsupported)
	}
	if err != nil {
		return fail(e, err)
	}
	if nx == 0 || ny == 0 {
		return C.OXV_OK
	}
	xs, ys := floatsOf(x, int64(nx*d)), floatsOf(y, int64(ny*d))
	if err = index.CheckFinite(xs, int(d), "x"); err == nil {
		err = index.CheckFinite(ys, int(d), "y")
	}
	var m *metric.Metric
	if err == nil {
		m, err = metric.ForData(kind, int(d), params, func() []float32 { return append(append([]float32(nil), xs...), ys...) })
	}
	if err == nil {
		err = accel.Pairwise(contextFor(cancel), choice, m, xs, ys, floats(out, int64(nx*ny)))
	}
	if err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_gpu_knn
func oxv_gpu_knn(device, spec *C.char, base unsafe.Pointer, n C.int64_t, queries unsafe.Pointer, nq, d, k C.int64_t, outIDs *C.int64_t, outDist *C.float, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	choice, err := resolveDevice(device)
	if err != nil {
		return fail(e, err)
	}
	if !choice.OnGPU() {
		return oxv_knn(spec, base, n, queries, nq, d, k, outIDs, outDist, cancel, e)
	}
	kind, params, err := parseMetric(spec)
	if err == nil {
		err = rowsArg(base, n, d, "base")
	}
	if err == nil {
		err = rowsArg(queries, nq, d, "queries")
	}
	if err == nil {
		err = index.CheckK(int(k))
	}
	if err == nil && nq > 0 && (outIDs == nil || outDist == nil || !plausible(unsafe.Pointer(outIDs)) || !plausible(unsafe.Pointer(outDist))) {
		err = fmt.Errorf("%w: output pointers must be valid", errs.InvalidArgument)
	}
	if err == nil && int64(k) > math.MaxInt64/8/max(1, int64(nq)) {
		err = fmt.Errorf("%w: nq*k overflows", errs.InvalidArgument)
	}
	if err == nil && kind == metric.HammingBits {
		if !choice.Strict {
			return oxv_knn(spec, base, n, queries, nq, d, k, outIDs, outDist, cancel, e) // auto: packed bits stay on the CPU
		}
		err = fmt.Errorf("%w: hamming_bits has no GPU kernel: use device=\"cpu\" or \"auto\"", errs.Unsupported)
	}
	if err != nil {
		return fail(e, err)
	}
	if nq == 0 {
		return C.OXV_OK
	}
	bs, qs := floatsOf(base, int64(n*d)), floatsOf(queries, int64(nq*d))
	if err = index.CheckFinite(bs, int(d), "base"); err == nil {
		err = index.CheckFinite(qs, int(d), "queries")
	}
	var m *metric.Metric
	if err == nil {
		m, err = metric.ForData(kind, int(d), params, func() []float32 { return bs })
	}
	if err == nil {
		err = accel.KNN(contextFor(cancel), choice, m, bs, qs, int(k), int64s(outIDs, int64(nq*k)), floats(outDist, int64(nq*k)))
	}
	if err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_gpu_index_search
func oxv_gpu_index_search(h C.oxv_handle, device *C.char, queries *C.float, nq, d, k C.int64_t, outIDs *C.int64_t, outDist *C.float, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	choice, err := resolveDevice(device)
	if err != nil {
		return fail(e, err)
	}
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	f, ok := idx.(*flat.Flat)
	if !ok && choice.Strict {
		return fail(e, fmt.Errorf("%w: only a Flat index searches on the GPU", errs.Unsupported))
	}
	if err := rowsArg(unsafe.Pointer(queries), nq, d, "queries"); err != nil {
		return fail(e, err)
	}
	if err := index.CheckK(int(k)); err != nil {
		return fail(e, err)
	}
	if int64(k) > math.MaxInt64/8/max(1, int64(nq)) {
		return fail(e, fmt.Errorf("%w: nq*k overflows", errs.InvalidArgument))
	}
	if nq > 0 && (outIDs == nil || outDist == nil || !plausible(unsafe.Pointer(outIDs)) || !plausible(unsafe.Pointer(outDist))) {
		return fail(e, fmt.Errorf("%w: output pointers must be valid", errs.InvalidArgument))
	}
	if int(d) != idx.Dim() {
		return fail(e, fmt.Errorf("%w: queries have %d values, the index %d", errs.Dimension, int64(d), idx.Dim()))
	}
	if nq == 0 {
		return C.OXV_OK
	}
	qs := floats(queries, int64(nq*d))
	ids, dist := int64s(outIDs, int64(nq*k)), floats(outDist, int64(nq*k))
	ctx := contextFor(cancel)
	if !ok {
		err = idx.Search(ctx, qs, int(k), nil, ids, dist)
	} else {
		err = accel.SearchFlat(ctx, choice, f, qs, int(k), nil, ids, dist)
	}
	if err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_gpu_index_train
func oxv_gpu_index_train(h C.oxv_handle, device *C.char, x *C.float, n, d C.int64_t, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	choice, err := resolveDevice(device)
	if err != nil {
		return fail(e, err)
	}
	if !choice.OnGPU() {
		return oxv_index_train(h, x, n, d, cancel, e)
	}
	calls.Start()
	defer calls.Done()
	idx, err := lookupIndex(h)
	if err != nil {
		return fail(e, err)
	}
	if err := index.CheckShape(idx, int64(n), int64(d), "training vectors", "vector"); err != nil {
		return fail(e, err)
	}
	if (n > 0 && x == nil) || !plausible(unsafe.Pointer(x)) || !plausible(unsafe.Pointer(cancel)) {
		return fail(e, fmt.Errorf("%w: a pointer argument is not a valid address", errs.InvalidArgument))
	}
	tr, ok := idx.(index.Trainer)
	if !ok {
		return C.OXV_OK
	}
	ctx, finished := progressContext(cancel)
	defer finished()
	if err := tr.Train(accel.Training(ctx, choice), floats(x, int64(n*d))); err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_gpu_assign
func oxv_gpu_assign(device *C.char, x *C.float, n C.int64_t, c *C.float, kc, d C.int64_t, outIdx *C.int64_t, outDist *C.float, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
	choice, err := resolveDevice(device)
	if err == nil {
		err = rowsArg(unsafe.Pointer(x), n, d, "x")
	}
	if err == nil {
		err = rowsArg(unsafe.Pointer(c), kc, d, "centroids")
	}
	if err == nil && kc < 1 {
		err = fmt.Errorf("%w: assignment needs at least one centroid", errs.InvalidArgument)
	}
	if err == nil && n > 0 && (outIdx == nil || outDist == nil || !plausible(unsafe.Pointer(outIdx)) || !plausible(unsafe.Pointer(outDist))) {
		err = fmt.Errorf("%w: output pointers must be valid", errs.InvalidArgument)
	}
	if err != nil {
		return fail(e, err)
	}
	if n == 0 {
		return C.OXV_OK
	}
	xs, cs := floats(x, int64(n*d)), floats(c, int64(kc*d))
	if err = index.CheckFinite(xs, int(d), "x"); err == nil {
		err = index.CheckFinite(cs, int(d), "centroids")
	}
	if err == nil {
		idx, dist := int64s(outIdx, int64(n)), floats(outDist, int64(n))
		ctx := contextFor(cancel)
		if choice.OnGPU() {
			err = choice.Dev.Assign(ctx, cs, xs, int(d), idx, dist)
		} else {
			err = kmeans.Nearest(ctx, cs, xs, int(d), idx, dist)
		}
	}
	if err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}
