package flat

import (
	"fmt"
	"math/rand"
	"syscall"
	"testing"

	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
)

func benchSearch(b *testing.B, n, d, nq, k int) { benchSearchMetric(b, metric.L2, n, d, nq, k) }

func benchSearchMetric(b *testing.B, kind metric.Kind, n, d, nq, k int) {
	rng := rand.New(rand.NewSource(1))
	f, _ := Of(d, kind)
	f.Add(bg, randVecs(rng, n, d), nil, nil)
	q := randVecs(rng, nq, d)
	ids := make([]int64, nq*k)
	dist := make([]float32, nq*k)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := 0; i < b.N; i++ {
		if err := f.Search(bg, q, k, nil, ids, dist); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(nq)*float64(b.N)/b.Elapsed().Seconds(), "qps")
	// queries per second of CPU time: on a shared machine wall time counts
	// the time other processes hold the core, CPU time does not
	b.ReportMetric(float64(nq)*float64(b.N)/(cpuSeconds()-cpu0), "cpu-qps")
}

func BenchmarkSearch_1x1(b *testing.B)       { benchSearch(b, 1, 128, 1, 10) }
func BenchmarkSearch_1x10000(b *testing.B)   { benchSearch(b, 10000, 128, 1, 10) }
func BenchmarkSearch_100x10000(b *testing.B) { benchSearch(b, 10000, 128, 100, 10) }

func BenchmarkSearch_1000x9000_1thread(b *testing.B) {
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	benchSearch(b, 9000, 128, 1000, 10)
}

// BenchmarkSearchBatch is the batch throughput bench_flat.py compares with
// faiss: 512 queries over 20,000 rows, one worker, l2 and ip, by dimension.
func BenchmarkSearchBatch(b *testing.B) {
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	for _, m := range []string{"l2", "ip"} {
		for _, d := range []int{50, 128, 384, 768} {
			b.Run(fmt.Sprintf("%s/d=%d", m, d), func(b *testing.B) {
				mt := metric.L2
				if m == "ip" {
					mt = metric.IP
				}
				benchSearchMetric(b, mt, 20000, d, 512, 10)
			})
		}
	}
}

// BenchmarkPanelVsTile: the same searches through the 4x4 rank tile and
// through the 32x12 panel kernel, one worker (run with -count to
// interleave them).
func BenchmarkPanelVsTile(b *testing.B) {
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	defer func() { noPanel = false }()
	for _, c := range []struct{ n, d int }{{20000, 50}, {9000, 128}, {100000, 128}, {100000, 384}, {50000, 768}} {
		for _, path := range []string{"tile", "panel"} {
			b.Run(fmt.Sprintf("n=%d/d=%d/%s", c.n, c.d, path), func(b *testing.B) {
				noPanel = path == "tile"
				benchSearchMetric(b, metric.IP, c.n, c.d, 1000, 10)
			})
		}
	}
}

// cpuSeconds is the user and system CPU time of this process so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
