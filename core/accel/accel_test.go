package accel

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/flat"
	"github.com/oxvec/oxvec/core/metric"
)

func noDriver(t *testing.T) {
	t.Helper()
	for _, p := range []string{"/dev/nvidiactl", "/proc/driver/nvidia/version"} {
		if _, err := os.Stat(p); err == nil {
			t.Skip("this machine has an NVIDIA driver; benchmarks/gpu_check.py tests the device path")
		}
	}
}

func TestResolve_CudaWithoutAGPUIsUnsupportedAndSaysWhatIsMissing(t *testing.T) {
	noDriver(t)
	for _, name := range []string{"cuda", "cuda:0", "CUDA:1"} {
		_, err := Resolve(name)
		if !errors.Is(err, errs.Unsupported) || !strings.Contains(err.Error(), "libcuda.so.1") {
			t.Fatalf("Resolve(%q) = %v; want unsupported naming libcuda.so.1", name, err)
		}
	}
}

func TestResolve_AutoAndCPURunOnTheCPU(t *testing.T) {
	noDriver(t)
	for _, name := range []string{"auto", "cpu", "", " Auto "} {
		c, err := Resolve(name)
		if err != nil || c.OnGPU() {
			t.Fatalf("Resolve(%q) = %+v, %v; want the CPU", name, c, err)
		}
	}
}

func TestResolve_MalformedNamesAreInvalidArguments(t *testing.T) {
	for _, name := range []string{"gpu", "cuda:", "cuda:-1", "cuda:x", "tpu"} {
		if _, err := Resolve(name); !errors.Is(err, errs.InvalidArgument) {
			t.Errorf("Resolve(%q) = %v; want invalid argument", name, err)
		}
	}
}

func TestAuto_GivesTheCPUResults(t *testing.T) {
	noDriver(t)
	c, _ := Resolve("auto")
	m, _ := metric.New(metric.Cosine, 3, metric.Params{})
	x := []float32{1, 2, 3, 3, 1, 2, 0, 1, 0}
	got, want := make([]float32, 9), make([]float32, 9)
	if err := Pairwise(context.Background(), c, m, x, x, got); err != nil {
		t.Fatal(err)
	}
	m.Pairwise(context.Background(), x, x, want)
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("auto pairwise %v, cpu %v", got, want)
		}
	}
	ids, dist := make([]int64, 6), make([]float32, 6)
	wids, wdist := make([]int64, 6), make([]float32, 6)
	if err := KNN(context.Background(), c, m, x, x, 2, ids, dist); err != nil {
		t.Fatal(err)
	}
	flat.KNN(context.Background(), m, x, x, 2, wids, wdist)
	for i := range ids {
		if ids[i] != wids[i] || dist[i] != wdist[i] {
			t.Fatalf("auto knn %v %v, cpu %v %v", ids, dist, wids, wdist)
		}
	}
}

func TestRefusal_NamesWhatTheGPUCannotDo(t *testing.T) {
	if r := refusal(metric.Haversine, 0); !strings.Contains(r, "haversine") {
		t.Errorf("haversine: %q", r)
	}
	if r := refusal(metric.L2, 257); !strings.Contains(r, "256") {
		t.Errorf("k=257: %q", r)
	}
	if r := refusal(metric.JensenShannon, 256); r != "" {
		t.Errorf("jensenshannon k=256: %q", r)
	}
	// without a device nothing runs on the GPU and nothing is refused
	if on, err := (Choice{Strict: true}).runs(metric.Haversine, 0); on || err != nil {
		t.Fatalf("no device: %v %v", on, err)
	}
}
