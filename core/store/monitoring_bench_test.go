package store

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"

	"github.com/oxvec/oxvec/core/monitor"
	"github.com/oxvec/oxvec/core/parallel"
)

// BenchmarkMonitorOverhead times single-query searches on two stores of
// the same records, monitoring on and off, alternating blocks of searches
// (A B A B ...) so that a shared machine's noise hits both; it reports the
// median ns per search of each (benchmarks/bench_monitoring.py runs it).
func BenchmarkMonitorOverhead(b *testing.B) {
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	for _, c := range []struct {
		name, spec string
		n          int
	}{{"flat", `{"type":"flat"}`, 10000}, {"hnsw", `{"type":"hnsw","m":16,"ef_search":64}`, 10000}} {
		b.Run(c.name, func(b *testing.B) {
			const d, block, rounds = 64, 300, 15
			rng := rand.New(rand.NewSource(7))
			vecs := make([]float32, c.n*d)
			for i := range vecs {
				vecs[i] = float32(rng.NormFloat64())
			}
			open := func(cfg monitor.Config) *Store {
				s, err := Open(b.TempDir(), Options{Create: &Config{Dim: d, Metric: "l2", Index: []byte(c.spec)}, Durability: Never, Monitor: cfg})
				if err != nil {
					b.Fatal(err)
				}
				bt := Batch{}
				for i := 0; i < c.n; i++ {
					bt.Keys = append(bt.Keys, fmt.Sprint(i))
				}
				bt.Vectors = vecs
				if err := s.Add(bg, bt); err != nil {
					b.Fatal(err)
				}
				return s
			}
			on, off := open(monitor.Config{}), open(monitor.Config{Disabled: true})
			defer on.Close()
			defer off.Close()
			queries := make([]float32, block*d)
			for i := range queries {
				queries[i] = float32(rng.NormFloat64())
			}
			run := func(s *Store) float64 {
				t := time.Now()
				for q := 0; q < block; q++ {
					if _, err := s.Search(bg, SearchRequest{Vectors: queries[q*d : (q+1)*d], K: 10}); err != nil {
						b.Fatal(err)
					}
				}
				return float64(time.Since(t).Nanoseconds()) / block
			}
			run(on)
			run(off)
			b.ResetTimer()
			var tOn, tOff []float64
			for i := 0; i < b.N; i++ {
				for r := 0; r < rounds; r++ {
					tOn = append(tOn, run(on))
					tOff = append(tOff, run(off))
				}
			}
			b.ReportMetric(median(tOn), "on_ns/search")
			b.ReportMetric(median(tOff), "off_ns/search")
			b.ReportMetric(median(tOn)/median(tOff), "on/off")
		})
	}
}

// BenchmarkMonitorRecord is the monitor's own cost per call: Start and Done.
func BenchmarkMonitorRecord(b *testing.B) {
	m := monitor.New(monitor.Config{}, "b", func() monitor.Gauges { return monitor.Gauges{} })
	for i := 0; i < b.N; i++ {
		m.Done(monitor.Search, m.Start(), nil)
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
