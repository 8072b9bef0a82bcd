package gpu

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestSource_ShapesMatchTheDefines(t *testing.T) {
	want := map[string]int{"PAIR_TILE": PairTile, "PAIR_DEPTH": PairTile, "SEL_THREADS": SelThreads, "KMAX": KMax,
		"ASSIGN_ROWS": AssignRows, "ASSIGN_CENTROIDS": AssignCentroids}
	for name, v := range want {
		m := regexp.MustCompile(`(?m)^#define ` + name + ` (\d+)$`).FindStringSubmatch(Source)
		if m == nil {
			t.Fatalf("kernels.cu does not #define %s", name)
		}
		if got, _ := strconv.Atoi(m[1]); got != v {
			t.Errorf("kernels.cu: %s = %d, Go launches with %d", name, got, v)
		}
	}
}

func TestSource_DefinesEveryKernel(t *testing.T) {
	for _, k := range Kernels {
		if !strings.Contains(Source, `extern "C" __global__ void `+k+"(") {
			t.Errorf("kernels.cu has no kernel %s", k)
		}
	}
}
