package gpu_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/kmeans"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/kernels/gpu"
)

// These tests run kernels.cu itself, compiled as C++ with the emulation
// header (emulate/cuda_emu.h), and compare what it computes with the CPU
// engine: so the kernels' logic is tested on every run, GPU or not.

var harness struct {
	once sync.Once
	path string
	err  error
}

// harnessBinary compiles emulate/harness.cpp once per test run.
func harnessBinary(t *testing.T) string {
	t.Helper()
	harness.once.Do(func() {
		if runtime.GOOS != "linux" {
			harness.err = fmt.Errorf("the CUDA emulation is tested on Linux (ucontext fibers)")
			return
		}
		cxx := os.Getenv("CXX")
		if cxx == "" {
			cxx = "g++"
		}
		if _, err := exec.LookPath(cxx); err != nil {
			harness.err = fmt.Errorf("no C++ compiler (%s): %v", cxx, err)
			return
		}
		dir, err := os.MkdirTemp("", "oxvec-gpu-emu")
		if err != nil {
			harness.err = err
			return
		}
		harness.path = filepath.Join(dir, "harness")
		out, err := exec.Command(cxx, "-std=c++17", "-O1", "-o", harness.path, "emulate/harness.cpp").CombinedOutput()
		if err != nil {
			harness.err = fmt.Errorf("compiling the emulation harness: %v\n%s", err, out)
		}
	})
	if harness.err != nil {
		if os.Getenv("OXVEC_REQUIRE_EMULATION") != "" {
			t.Fatal(harness.err)
		}
		t.Skip(harness.err)
	}
	return harness.path
}

func writeRaw(t *testing.T, dir, name string, data any) string {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := binary.Write(f, binary.LittleEndian, data); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

func readRaw[T any](t *testing.T, path string, n int) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := make([]T, n)
	if err := binary.Read(f, binary.LittleEndian, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// emulate runs the harness in both thread orders and insists they agree bit
// for bit: a kernel whose result depends on the order of the threads
// between two barriers has a race on the GPU.
func emulate(t *testing.T, args []string, outs ...string) {
	t.Helper()
	bin := harnessBinary(t)
	var first [][]byte
	for _, order := range []string{"fwd", "rev"} {
		a := append([]string{args[0], order}, args[1:]...)
		if out, err := exec.Command(bin, a...).CombinedOutput(); err != nil {
			t.Fatalf("harness %v: %v\n%s", a, err, out)
		}
		for i, o := range outs {
			b, err := os.ReadFile(o)
			if err != nil {
				t.Fatal(err)
			}
			if order == "fwd" {
				first = append(first, b)
			} else if string(b) != string(first[i]) {
				t.Fatalf("harness %v: output %s differs between thread orders: the kernel races", a, filepath.Base(o))
			}
		}
	}
}

// metricCase is a metric with data from its domain.
type metricCase struct {
	name   string
	kind   metric.Kind
	params metric.Params
	data   func(r *rand.Rand) float32
}

func gauss(r *rand.Rand) float32    { return float32(r.NormFloat64()) }
func positive(r *rand.Rand) float32 { return float32(r.ExpFloat64()) }

// sparse has zeros and repeats, so the boolean and counting metrics see
// equal, one-sided and both-zero positions.
func sparse(r *rand.Rand) float32 {
	if r.IntN(3) == 0 {
		return 0
	}
	return float32(r.IntN(3))
}

// histogram is non-negative with zeros (kl then meets q == 0 < p: +inf).
func histogram(r *rand.Rand) float32 {
	if r.IntN(4) == 0 {
		return 0
	}
	return float32(r.ExpFloat64())
}

func p(v float64) *float64 { return &v }

// Cases lists every metric the device computes.
var cases = []metricCase{
	{"l2", metric.L2, metric.Params{}, gauss},
	{"euclidean", metric.Euclidean, metric.Params{}, gauss},
	{"ip", metric.IP, metric.Params{}, gauss},
	{"cosine", metric.Cosine, metric.Params{}, gauss},
	{"angular", metric.Angular, metric.Params{}, gauss},
	{"manhattan", metric.Manhattan, metric.Params{}, gauss},
	{"chebyshev", metric.Chebyshev, metric.Params{}, gauss},
	{"minkowski p=3", metric.Minkowski, metric.Params{P: p(3)}, gauss},
	{"minkowski p=1.5", metric.Minkowski, metric.Params{P: p(1.5)}, gauss},
	{"canberra", metric.Canberra, metric.Params{}, sparse},
	{"braycurtis", metric.BrayCurtis, metric.Params{}, positive},
	{"correlation", metric.Correlation, metric.Params{}, gauss},
	{"spearman", metric.Spearman, metric.Params{}, gauss},
	{"hamming", metric.Hamming, metric.Params{}, sparse},
	{"jaccard", metric.Jaccard, metric.Params{}, sparse},
	{"weighted_jaccard", metric.WeightedJaccard, metric.Params{}, histogram},
	{"dice", metric.Dice, metric.Params{}, sparse},
	{"tanimoto", metric.Tanimoto, metric.Params{}, gauss},
	{"kl", metric.KL, metric.Params{}, positive},
	{"kl with zeros", metric.KL, metric.Params{}, histogram},
	{"jensenshannon", metric.JensenShannon, metric.Params{}, histogram},
	{"hellinger", metric.Hellinger, metric.Params{}, histogram},
	{"bhattacharyya", metric.Bhattacharyya, metric.Params{}, positive},
	{"chisquare", metric.ChiSquare, metric.Params{}, histogram},
	{"seuclidean", metric.SEuclidean, metric.Params{}, gauss},
	{"mahalanobis", metric.Mahalanobis, metric.Params{}, gauss},
}

func rows(r *rand.Rand, n, d int, f func(*rand.Rand) float32) []float32 {
	x := make([]float32, n*d)
	for i := range x {
		x[i] = f(r)
	}
	// keep every row inside its metric's domain: a non-zero, non-constant
	// row with a positive sum
	for i := 0; i < n; i++ {
		x[i*d] += 1
	}
	return x
}

// close is the float32 agreement the device owes the CPU: the kernels sum
// in float32 in a fixed order, the CPU in float64 or SIMD lanes.
func close(got, want float32, d int) bool {
	if math.IsInf(float64(want), 1) || math.IsInf(float64(got), 1) {
		return got == want
	}
	tol := 2e-5*float64(d)*1e-1 + 2e-5
	return math.Abs(float64(got-want)) <= tol*math.Max(1, math.Abs(float64(want)))
}

// setup binds c to d dimensions with data x (seuclidean and mahalanobis
// fit their parameter to it, as oxvec.pairwise does) and returns the
// metric with both inputs prepared.
func setup(t *testing.T, c metricCase, d int, x, y []float32) (*metric.Metric, []float32, []float32) {
	t.Helper()
	m, err := metric.ForData(c.kind, d, c.params, func() []float32 { return append(append([]float32(nil), x...), y...) })
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	px, err := m.PrepareCopy(x, "x")
	if err != nil {
		t.Fatal(err)
	}
	py, err := m.PrepareCopy(y, "y")
	if err != nil {
		t.Fatal(err)
	}
	return m, px, py
}

func TestEmulatedPairwise_MatchesCPUForEveryMetric(t *testing.T) {
	seed := uint64(19)
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	// tile tails: 37 and 29 rows are not multiples of 16; depths 1, 17, 40
	// leave part of a 16-value slice
	const nx, ny = 37, 29
	for ci, c := range cases {
		for _, d := range []int{1, 17, 40} {
			if (c.kind == metric.Correlation || c.kind == metric.Spearman || c.kind == metric.Mahalanobis) && d < 3 {
				continue // a 1-value row is constant; a covariance needs more rows than that
			}
			r := rand.New(rand.NewPCG(seed, uint64(ci*100+d)))
			x, y := rows(r, nx, d, c.data), rows(r, ny, d, c.data)
			m, px, py := setup(t, c, d, x, y)
			want := make([]float32, nx*ny)
			if err := m.Pairwise(context.Background(), x, y, want); err != nil {
				t.Fatalf("%s d=%d: cpu: %v", c.name, d, err)
			}
			out := filepath.Join(dir, "out")
			emulate(t, []string{"pairwise", strconv.Itoa(int(c.kind)), strconv.FormatFloat(m.P, 'g', -1, 32),
				strconv.Itoa(nx), strconv.Itoa(ny), strconv.Itoa(d),
				writeRaw(t, dir, "x", px), writeRaw(t, dir, "y", py), out}, out)
			got := readRaw[float32](t, out, nx*ny)
			bad := 0
			for i := range got {
				if !close(got[i], want[i], d) {
					if bad < 3 {
						t.Errorf("%s d=%d pair (%d,%d): emulated kernel %v, cpu %v", c.name, d, i/ny, i%ny, got[i], want[i])
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%s d=%d: %d of %d pairs differ", c.name, d, bad, len(got))
			}
		}
	}
}

// checkKNN asserts that ids/dist (nq rows of k) are a k-NN answer for the
// distance matrix all (nq x n): each row lists distinct rows whose true
// distances are the ones reported, in order, and its r-th distance is the
// r-th smallest; missing neighbours (k > n) are -1 at +inf.
func checkKNN(t *testing.T, what string, ids []int32, dist []float32, all []float32, nq, n, k, d int, want []float32) {
	t.Helper()
	kk := min(k, n)
	for q := 0; q < nq; q++ {
		seen := map[int32]bool{}
		for r := 0; r < k; r++ {
			id, v := ids[q*k+r], dist[q*k+r]
			if r >= kk {
				if id != -1 || !math.IsInf(float64(v), 1) {
					t.Fatalf("%s q%d rank %d: past the base, got (%d, %v), want (-1, +inf)", what, q, r, id, v)
				}
				continue
			}
			if id < 0 || int(id) >= n || seen[id] {
				t.Fatalf("%s q%d rank %d: id %d is out of range or repeated", what, q, r, id)
			}
			seen[id] = true
			if !close(v, all[q*n+int(id)], d) {
				t.Fatalf("%s q%d rank %d: row %d reported at %v, its distance is %v", what, q, r, id, v, all[q*n+int(id)])
			}
			if !close(v, want[q*kk+r], d) {
				t.Fatalf("%s q%d rank %d: distance %v, cpu k-NN has %v", what, q, r, v, want[q*kk+r])
			}
			if r > 0 && v < dist[q*k+r-1] {
				t.Fatalf("%s q%d: distances not sorted at rank %d", what, q, r)
			}
		}
	}
}

func TestEmulatedKNN_MatchesCPUAcrossChunks(t *testing.T) {
	seed := uint64(7)
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	const nq, n, d = 12, 300, 19
	pick := map[string]bool{"l2": true, "cosine": true, "kl with zeros": true, "hamming": true, "minkowski p=1.5": true, "jaccard": true}
	for ci, c := range cases {
		if !pick[c.name] {
			continue
		}
		r := rand.New(rand.NewPCG(seed, uint64(ci)))
		base, queries := rows(r, n, d, c.data), rows(r, nq, d, c.data)
		m, pb, pq := setup(t, c, d, base, queries)
		all := make([]float32, nq*n)
		if err := m.Pairwise(context.Background(), queries, base, all); err != nil {
			t.Fatal(err)
		}
		ks := []int{1, 10, 64}
		if c.kind == metric.L2 {
			ks = append(ks, gpu.KMax)
		}
		for _, k := range ks {
			// query chunks of 5 and base blocks of 100 rows: three blocks
			// merge into each running list, as a large base would
			wantIDs, want := make([]int64, nq*k), make([]float32, nq*k)
			if err := flat.KNN(context.Background(), m, base, queries, k, wantIDs, want); err != nil {
				t.Fatal(err)
			}
			ids, dist := filepath.Join(dir, "ids"), filepath.Join(dir, "dist")
			emulate(t, []string{"knn", strconv.Itoa(int(c.kind)), strconv.FormatFloat(m.P, 'g', -1, 32),
				strconv.Itoa(nq), strconv.Itoa(n), strconv.Itoa(d), strconv.Itoa(k), "5", "100",
				writeRaw(t, dir, "q", pq), writeRaw(t, dir, "b", pb), ids, dist}, ids, dist)
			checkKNN(t, fmt.Sprintf("%s k=%d", c.name, k), readRaw[int32](t, ids, nq*k), readRaw[float32](t, dist, nq*k), all, nq, n, k, d, want)
		}
	}
}

func TestEmulatedKNN_PadsWhenKExceedsTheBase(t *testing.T) {
	dir := t.TempDir()
	const nq, n, d, k = 3, 5, 4, 9
	r := rand.New(rand.NewPCG(1, 2))
	base, queries := rows(r, n, d, gauss), rows(r, nq, d, gauss)
	m, _ := metric.New(metric.L2, d, metric.Params{})
	all := make([]float32, nq*n)
	if err := m.Pairwise(context.Background(), queries, base, all); err != nil {
		t.Fatal(err)
	}
	wantIDs, want := make([]int64, nq*n), make([]float32, nq*n)
	if err := flat.KNN(context.Background(), m, base, queries, n, wantIDs, want); err != nil {
		t.Fatal(err)
	}
	ids, dist := filepath.Join(dir, "ids"), filepath.Join(dir, "dist")
	emulate(t, []string{"knn", "1", "0", strconv.Itoa(nq), strconv.Itoa(n), strconv.Itoa(d), strconv.Itoa(k), "2", "3",
		writeRaw(t, dir, "q", queries), writeRaw(t, dir, "b", base), ids, dist}, ids, dist)
	checkKNN(t, "l2 k>n", readRaw[int32](t, ids, nq*k), readRaw[float32](t, dist, nq*k), all, nq, n, k, d, want)
}

func TestEmulatedAssign_MatchesKMeansNearest(t *testing.T) {
	dir := t.TempDir()
	const n = 300
	for _, d := range []int{5, 33} { // 33: two slices of 32 values
		for _, kc := range []int{1, 7, 40} { // 40: two groups of 32 centroids
			r := rand.New(rand.NewPCG(uint64(d), uint64(kc)))
			x, c := rows(r, n, d, gauss), rows(r, kc, d, gauss)
			wantIdx, want := make([]int64, n), make([]float32, n)
			if err := kmeans.Nearest(context.Background(), c, x, d, wantIdx, want); err != nil {
				t.Fatal(err)
			}
			idx, dist := filepath.Join(dir, "idx"), filepath.Join(dir, "dist")
			emulate(t, []string{"assign", strconv.Itoa(n), strconv.Itoa(kc), strconv.Itoa(d),
				writeRaw(t, dir, "x", x), writeRaw(t, dir, "c", c), idx, dist}, idx, dist)
			gotIdx, got := readRaw[int32](t, idx, n), readRaw[float32](t, dist, n)
			for i := range gotIdx {
				if int64(gotIdx[i]) != wantIdx[i] && !close(got[i], want[i], d) {
					t.Fatalf("d=%d k=%d row %d: centroid %d at %v, cpu %d at %v", d, kc, i, gotIdx[i], got[i], wantIdx[i], want[i])
				}
				if !close(got[i], want[i], d) {
					t.Fatalf("d=%d k=%d row %d: distance %v, cpu %v", d, kc, i, got[i], want[i])
				}
			}
		}
	}
}
