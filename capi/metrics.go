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
	"unsafe"

	"github.com/oxvec/oxvec/core/calls"
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels"
)

// metricSpec is the JSON that names a metric in the distance calls:
// {"metric": "minkowski", "metric_params": {"p": 3}}.
type metricSpec struct {
	Metric       string          `json:"metric"`
	MetricParams json.RawMessage `json:"metric_params,omitempty"`
}

func parseMetric(spec *C.char) (metric.Kind, metric.Params, error) {
	var s metricSpec
	if spec == nil {
		return 0, metric.Params{}, fmt.Errorf("%w: metric spec is NULL", errs.InvalidArgument)
	}
	if err := index.DecodeSpec([]byte(cstring(spec)), &s); err != nil {
		return 0, metric.Params{}, err
	}
	kind, err := metric.Parse(s.Metric)
	if err != nil {
		return 0, metric.Params{}, err
	}
	p, err := metric.DecodeParams(s.MetricParams)
	return kind, p, err
}

// rowsArg validates a row count and dimension pair.
func rowsArg(p unsafe.Pointer, n, d C.int64_t, what string) error {
	if n < 0 || d < 1 || d > index.MaxDim {
		return fmt.Errorf("%w: %s: %d rows of %d values is not a valid shape", errs.InvalidArgument, what, int64(n), int64(d))
	}
	if n > 0 && p == nil || !plausible(p) {
		return fmt.Errorf("%w: %s pointer is NULL or not a valid address", errs.InvalidArgument, what)
	}
	if int64(n) > math.MaxInt64/int64(d)/8 {
		return fmt.Errorf("%w: %s is too large", errs.InvalidArgument, what)
	}
	return nil
}

//export oxv_pairwise
func oxv_pairwise(spec *C.char, x unsafe.Pointer, nx C.int64_t, y unsafe.Pointer, ny, d C.int64_t, out *C.float, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
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
	if err != nil {
		return fail(e, err)
	}
	if nx == 0 || ny == 0 {
		return C.OXV_OK
	}
	ctx := contextFor(cancel)
	res := floats(out, int64(nx*ny))
	if kind == metric.HammingBits {
		err = metric.PairwiseBits(ctx, bytesOf(x, int64(nx*d)), bytesOf(y, int64(ny*d)), int(d), res)
	} else {
		xs, ys := floatsOf(x, int64(nx*d)), floatsOf(y, int64(ny*d))
		if err = index.CheckFinite(xs, int(d), "x"); err == nil {
			err = index.CheckFinite(ys, int(d), "y")
		}
		var m *metric.Metric
		if err == nil {
			m, err = metric.ForData(kind, int(d), params, func() []float32 { return append(append([]float32(nil), xs...), ys...) })
		}
		if err == nil {
			err = m.Pairwise(ctx, xs, ys, res)
		}
	}
	if err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_knn
func oxv_knn(spec *C.char, base unsafe.Pointer, n C.int64_t, queries unsafe.Pointer, nq, d, k C.int64_t, outIDs *C.int64_t, outDist *C.float, cancel *C.int32_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	calls.Start()
	defer calls.Done()
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
	if err != nil {
		return fail(e, err)
	}
	if nq == 0 {
		return C.OXV_OK
	}
	ctx := contextFor(cancel)
	ids, dist := int64s(outIDs, int64(nq*k)), floats(outDist, int64(nq*k))
	if kind == metric.HammingBits {
		err = flat.KNNBits(ctx, bytesOf(base, int64(n*d)), bytesOf(queries, int64(nq*d)), int(d), int(k), ids, dist)
	} else {
		bs, qs := floatsOf(base, int64(n*d)), floatsOf(queries, int64(nq*d))
		if err = index.CheckFinite(bs, int(d), "base"); err == nil {
			var m *metric.Metric
			if m, err = metric.ForData(kind, int(d), params, func() []float32 { return bs }); err == nil {
				err = flat.KNN(ctx, m, bs, qs, int(k), ids, dist)
			}
		}
	}
	if err != nil {
		return fail(e, err)
	}
	return C.OXV_OK
}

//export oxv_fit_mahalanobis
func oxv_fit_mahalanobis(x *C.float, n, d C.int64_t, shrinkage C.double, outVI *C.double, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	if err := rowsArg(unsafe.Pointer(x), n, d, "data"); err != nil {
		return fail(e, err)
	}
	if outVI == nil || !plausible(unsafe.Pointer(outVI)) {
		return fail(e, fmt.Errorf("%w: output pointer is NULL", errs.InvalidArgument))
	}
	xs := floats(x, int64(n*d))
	if err := index.CheckFinite(xs, int(d), "data"); err != nil {
		return fail(e, err)
	}
	vi, err := metric.FitMahalanobis(xs, int(d), float64(shrinkage))
	if err != nil {
		return fail(e, err)
	}
	copy(float64s(outVI, int64(d*d)), vi)
	return C.OXV_OK
}

// metricInfo is one entry of oxv_metrics' catalogue.
type metricInfo struct {
	Name     string   `json:"name"`
	Aliases  []string `json:"aliases"`
	IsMetric bool     `json:"is_metric"`
	Class    string   `json:"class"`
	Domain   string   `json:"domain"`
}

var classNames = map[metric.Class]string{metric.ClassL2: "l2", metric.ClassDot: "dot", metric.ClassGeneric: "generic"}
var domainNames = map[metric.Domain]string{
	metric.AnyReal: "any real", metric.NonZero: "non-zero vectors", metric.NonConstant: "non-constant vectors",
	metric.NonNegative: "non-negative values", metric.Distribution: "non-negative values with a positive sum",
	metric.LatLon: "(latitude, longitude) in radians", metric.Bits: "packed bits (uint8)",
}

//export oxv_metrics
func oxv_metrics(buf *C.char, n C.size_t, needed *C.size_t, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	var all []metricInfo
	for _, name := range metric.Names() {
		k, _ := metric.Parse(name)
		all = append(all, metricInfo{name, k.Aliases(), k.IsMetric(), classNames[k.Class()], domainNames[k.Domain()]})
	}
	js, _ := json.Marshal(all)
	return writeText(js, buf, n, needed)
}

// writeText copies a NUL-terminated text into a caller buffer, reporting
// the size it needs.
func writeText(text []byte, buf *C.char, n C.size_t, needed *C.size_t) C.int {
	if needed != nil {
		*needed = C.size_t(len(text) + 1)
	}
	if b := cbytes(buf, n); len(b) > 0 {
		b[copy(b[:len(b)-1], text)] = 0
	}
	return C.OXV_OK
}

//export oxv_set_simd_level
func oxv_set_simd_level(level *C.char, e *C.oxv_error) (rc C.int) {
	defer recoverInto(&rc, e)
	l, err := kernels.ParseLevel(cstring(level))
	if err == nil {
		err = kernels.SetLevel(l)
	}
	if err != nil {
		return fail(e, fmt.Errorf("%w: %v", errs.InvalidArgument, err))
	}
	return C.OXV_OK
}

//export oxv_simd_level
func oxv_simd_level(current, best *C.char, n C.size_t) (rc C.int) {
	defer recoverInto(&rc, nil)
	writeText([]byte(kernels.Current().Level.String()), current, n, nil)
	writeText([]byte(kernels.Best().String()), best, n, nil)
	return C.OXV_OK
}
