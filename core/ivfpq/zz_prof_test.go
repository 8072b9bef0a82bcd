package ivfpq_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/oxvec/oxvec/core/index"
	_ "github.com/oxvec/oxvec/core/ivf"
	_ "github.com/oxvec/oxvec/core/ivfpq"
	_ "github.com/oxvec/oxvec/core/opq"
)

func TestZZProf(t *testing.T) {
	path := os.Getenv("PROF_INDEX")
	if path == "" {
		t.Skip()
	}
	ix, err := index.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	qf := os.Getenv("PROF_Q")
	if qf == "" {
		qf = "/tmp/prof/queries.f32"
	}
	raw, _ := os.ReadFile(qf)
	q := unsafe.Slice((*float32)(unsafe.Pointer(&raw[0])), len(raw)/4)
	nq := len(q) / ix.Dim()
	np, _ := strconv.Atoi(os.Getenv("PROF_NPROBE"))
	reps, _ := strconv.Atoi(os.Getenv("PROF_REPS"))
	k := 10
	ids, dist := make([]int64, nq*k), make([]float32, nq*k)
	sp := &index.SearchParams{NProbe: np}
	t0 := time.Now()
	for range reps {
		if err := ix.Search(context.Background(), q, k, sp, ids, dist); err != nil {
			t.Fatal(err)
		}
	}
	el := time.Since(t0)
	t.Logf("nprobe %d: %.0f QPS", np, float64(nq*reps)/el.Seconds())
}
