package devicetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/oxvec/oxvec/core/accel"
	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/kmeans"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels/gpu"
)

var skipReason string

// TestMain builds the fake driver and points the engine at it and at the
// test venv's NVRTC (the device path compiles the real kernels to PTX and
// the fake driver checks it got them).
func TestMain(m *testing.M) {
	if runtime.GOOS != "linux" {
		skipReason = "the fake driver is a Linux shared object"
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "oxvec-fake-cuda")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cxx := os.Getenv("CXX")
	if cxx == "" {
		cxx = "g++"
	}
	lib := filepath.Join(dir, "libcuda.so.1")
	if out, err := exec.Command(cxx, "-std=c++17", "-O1", "-shared", "-fPIC", "-o", lib, "../emulate/fake_cuda.cpp").CombinedOutput(); err != nil {
		skipReason = fmt.Sprintf("cannot build the fake driver with %s: %v\n%s", cxx, err, out)
	}
	os.Setenv("OXVEC_LIBCUDA", lib)
	os.Setenv("OXVEC_GPU_CACHE", filepath.Join(dir, "cache"))
	for d, _ := os.Getwd(); d != "/" && d != "."; d = filepath.Dir(d) {
		if m, _ := filepath.Glob(filepath.Join(d, ".venv", "lib", "python3*", "site-packages", "nvidia", "cuda_nvrtc", "lib")); len(m) > 0 {
			gpu.SetSearchDirs(m)
			break
		}
	}
	os.Exit(m.Run())
}

func device(t *testing.T) accel.Choice {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if _, err := gpu.NVRTCVersion(); err != nil {
		t.Skip(err)
	}
	c, err := accel.Resolve("cuda")
	if err != nil {
		t.Fatal(err)
	}
	if !c.OnGPU() || c.Dev.Name != "oxvec emulated device" || c.Dev.Arch != "sm_80" {
		t.Fatalf("resolved %+v", c.Dev)
	}
	return c
}

func rows(r *rand.Rand, n, d int, positive bool) []float32 {
	x := make([]float32, n*d)
	for i := range x {
		if positive {
			x[i] = float32(r.ExpFloat64())
		} else {
			x[i] = float32(r.NormFloat64())
		}
	}
	return x
}

func close(got, want float32) bool {
	if math.IsInf(float64(want), 1) {
		return got == want
	}
	return math.Abs(float64(got-want)) <= 1e-4*math.Max(1, math.Abs(float64(want)))
}

var kinds = []metric.Kind{metric.L2, metric.Euclidean, metric.IP, metric.Cosine, metric.Angular, metric.Manhattan,
	metric.Chebyshev, metric.Minkowski, metric.Canberra, metric.BrayCurtis, metric.Correlation, metric.Spearman,
	metric.Hamming, metric.Jaccard, metric.WeightedJaccard, metric.Dice, metric.Tanimoto, metric.KL,
	metric.JensenShannon, metric.Hellinger, metric.Bhattacharyya, metric.ChiSquare, metric.SEuclidean, metric.Mahalanobis}

func bind(t *testing.T, kind metric.Kind, d int, data []float32) *metric.Metric {
	t.Helper()
	var p metric.Params
	if kind == metric.Minkowski {
		three := 3.0
		p.P = &three
	}
	m, err := metric.ForData(kind, d, p, func() []float32 { return data })
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tight gives the fake device 40,000 bytes of memory for the rest of the
// test: every input then streams in chunks (x and y of pairwise, with y's
// columns scattered into out's rows; base blocks of k-NN merged into the
// running lists).
func tight(t *testing.T) { t.Setenv("OXVEC_FAKE_CUDA_MEM", "40000") }

func TestDevicePairwise_MatchesTheCPUThroughTheWholeDriverPath(t *testing.T) {
	t.Run("256KiB", func(t *testing.T) { pairwiseCase(t, 90, 600, 24) })
	t.Run("40kB", func(t *testing.T) { tight(t); pairwiseCase(t, 50, 400, 24) })
}

func pairwiseCase(t *testing.T, nx, ny, d int) {
	c := device(t)
	r := rand.New(rand.NewPCG(3, 4))
	for _, kind := range kinds {
		positive := kind.Domain() == metric.NonNegative || kind.Domain() == metric.Distribution
		x, y := rows(r, nx, d, positive), rows(r, ny, d, positive)
		m := bind(t, kind, d, append(append([]float32(nil), x...), y...))
		got, want := make([]float32, nx*ny), make([]float32, nx*ny)
		if err := accel.Pairwise(context.Background(), c, m, x, y, got); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if err := m.Pairwise(context.Background(), x, y, want); err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !close(got[i], want[i]) {
				t.Fatalf("%s pair %d: device %v, cpu %v", kind, i, got[i], want[i])
			}
		}
	}
}

func TestDeviceKNN_AndFlatSearch_MatchTheCPU(t *testing.T) {
	t.Run("256KiB", func(t *testing.T) { knnCase(t) })
	t.Run("40kB", func(t *testing.T) { tight(t); knnCase(t) })
}

func knnCase(t *testing.T) {
	c := device(t)
	const n, nq, d, k = 700, 30, 16, 12
	r := rand.New(rand.NewPCG(5, 6))
	base, q := rows(r, n, d, false), rows(r, nq, d, false)
	for _, kind := range []metric.Kind{metric.L2, metric.Cosine, metric.Manhattan} {
		m := bind(t, kind, d, base)
		ids, dist := make([]int64, nq*k), make([]float32, nq*k)
		wids, wdist := make([]int64, nq*k), make([]float32, nq*k)
		if err := accel.KNN(context.Background(), c, m, base, q, k, ids, dist); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		flat.KNN(context.Background(), m, base, q, k, wids, wdist)
		for i := range ids {
			if ids[i] != wids[i] || !close(dist[i], wdist[i]) {
				t.Fatalf("%s result %d: device (%d, %v), cpu (%d, %v)", kind, i, ids[i], dist[i], wids[i], wdist[i])
			}
		}
		// a flat index with its own ids: rows map back to them
		f, _ := flat.New(d, m)
		own := make([]int64, n)
		for i := range own {
			own[i] = int64(1000 + 3*i)
		}
		if err := f.Add(context.Background(), base, own, nil); err != nil {
			t.Fatal(err)
		}
		if err := accel.SearchFlat(context.Background(), c, f, q, k, nil, ids, dist); err != nil {
			t.Fatal(err)
		}
		f.Search(context.Background(), q, k, nil, wids, wdist)
		for i := range ids {
			if ids[i] != wids[i] || !close(dist[i], wdist[i]) {
				t.Fatalf("%s flat result %d: device (%d, %v), cpu (%d, %v)", kind, i, ids[i], dist[i], wids[i], wdist[i])
			}
		}
	}
}

// The device breaks ties by row, so at the k-th place an equally distant
// row may stand in for the CPU's lowest id; within the results, runs of
// equal distances come ordered by id, as on the CPU.
func TestDeviceFlatSearch_OrdersTiesByIDWithinTheResults(t *testing.T) {
	c := device(t)
	const d = 8
	m := bind(t, metric.L2, d, nil)
	f, _ := flat.New(d, m)
	// five copies of one vector under descending ids: every distance ties
	r := rand.New(rand.NewPCG(11, 12))
	v := rows(r, 1, d, false)
	var base []float32
	for range 5 {
		base = append(base, v...)
	}
	if err := f.Add(context.Background(), base, []int64{50, 40, 30, 20, 10}, nil); err != nil {
		t.Fatal(err)
	}
	ids, dist := make([]int64, 4), make([]float32, 4)
	wids, wdist := make([]int64, 4), make([]float32, 4)
	if err := accel.SearchFlat(context.Background(), c, f, v, 4, nil, ids, dist); err != nil {
		t.Fatal(err)
	}
	f.Search(context.Background(), v, 4, nil, wids, wdist)
	for i := range ids {
		if dist[i] != wdist[i] || (i > 0 && ids[i] <= ids[i-1]) {
			t.Fatalf("device %v %v, cpu %v %v: distances must agree and tied ids ascend", ids, dist, wids, wdist)
		}
	}
}

func TestDeviceKNN_PadsAndRefusesWhatItCannotDo(t *testing.T) {
	c := device(t)
	r := rand.New(rand.NewPCG(7, 8))
	base, q := rows(r, 5, 4, false), rows(r, 2, 4, false)
	m := bind(t, metric.L2, 4, base)
	ids, dist := make([]int64, 2*8), make([]float32, 2*8)
	if err := accel.KNN(context.Background(), c, m, base, q, 8, ids, dist); err != nil {
		t.Fatal(err)
	}
	for qi := 0; qi < 2; qi++ {
		for rk := 5; rk < 8; rk++ {
			if ids[qi*8+rk] != -1 || !math.IsInf(float64(dist[qi*8+rk]), 1) {
				t.Fatalf("rank %d past the base: (%d, %v)", rk, ids[qi*8+rk], dist[qi*8+rk])
			}
		}
	}
	// an empty base: padding only
	if err := c.Dev.KNN(context.Background(), uint32(metric.L2), 0, nil, q, 4, 3, ids[:6], dist[:6]); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		if ids[i] != -1 || !math.IsInf(float64(dist[i]), 1) {
			t.Fatalf("empty base slot %d: (%d, %v)", i, ids[i], dist[i])
		}
	}
	if err := c.Dev.Assign(context.Background(), nil, q, 4, make([]int64, 2), make([]float32, 2)); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("no centroids: %v", err)
	}
	big := make([]int64, 2*300)
	if err := accel.KNN(context.Background(), c, m, base, q, 300, big, make([]float32, 600)); !errors.Is(err, errs.Unsupported) {
		t.Fatalf("k=300 on a strict device: %v, want unsupported", err)
	}
	hv, _ := metric.New(metric.Haversine, 2, metric.Params{})
	if err := accel.Pairwise(context.Background(), c, hv, []float32{0, 0}, []float32{0, 1}, make([]float32, 1)); !errors.Is(err, errs.Unsupported) {
		t.Fatalf("haversine on a strict device: %v, want unsupported", err)
	}
	// auto on the same device falls back to the CPU for both
	auto, _ := accel.Resolve("auto")
	if !auto.OnGPU() {
		t.Fatal("auto must find the device")
	}
	if err := accel.KNN(context.Background(), auto, m, base, q, 300, big, make([]float32, 600)); err != nil {
		t.Fatalf("auto k=300: %v", err)
	}
	if _, err := accel.Resolve("cuda:1"); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("cuda:1 of one device: %v", err)
	}
}

func TestDeviceAssign_MatchesKMeansNearestAndTrainsThroughTheContext(t *testing.T) {
	c := device(t)
	const n, kc, d = 1000, 40, 12
	r := rand.New(rand.NewPCG(9, 10))
	x, cs := rows(r, n, d, false), rows(r, kc, d, false)
	idx, dist := make([]int64, n), make([]float32, n)
	widx, wdist := make([]int64, n), make([]float32, n)
	if err := c.Dev.Assign(context.Background(), cs, x, d, idx, dist); err != nil {
		t.Fatal(err)
	}
	kmeans.Nearest(context.Background(), cs, x, d, widx, wdist)
	for i := range idx {
		if (idx[i] != widx[i] && !close(dist[i], wdist[i])) || !close(dist[i], wdist[i]) {
			t.Fatalf("row %d: device (%d, %v), cpu (%d, %v)", i, idx[i], dist[i], widx[i], wdist[i])
		}
	}
	res, err := kmeans.Train(accel.Training(context.Background(), c), x, d, kmeans.Params{K: 8, Iters: 5})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, s := range res.Sizes {
		total += s
	}
	if len(res.Centroids) != 8*d || total != n {
		t.Fatalf("training on the device: %d centroid values, sizes sum %d", len(res.Centroids), total)
	}
}
