package kernels

import (
	"fmt"
	"math/rand"
	"time"
)

// Time measures one kernel of one level on vectors of d values: the wall
// time per call, averaged over repeat calls after a warm-up. It exists for
// benchmarks, which compare kernels across levels and against numpy.
// Kernels: dot, l2sq, l1 (float32), dot_i8, l2_u8 (d bytes), hamming
// (d bits), tile (one 4x4 rank tile).
func Time(kernel string, l Level, d, repeat int) (float64, error) {
	if !Available(l) {
		return 0, fmt.Errorf("level %v is not available on this CPU", l)
	}
	if d < 1 || repeat < 1 {
		return 0, fmt.Errorf("need d >= 1 and repeat >= 1")
	}
	s := sets[l]
	rng := rand.New(rand.NewSource(1))
	f32 := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	var run func()
	var sink float64
	switch kernel {
	case "dot", "l2sq", "l1":
		a, b := f32(d), f32(d)
		fn := map[string]func(a, b []float32) float32{"dot": s.Dot, "l2sq": s.L2Sq, "l1": s.L1}[kernel]
		run = func() { sink += float64(fn(a, b)) }
	case "tile":
		q, x := f32(4*d), f32(4*d)
		var beta, bound [4]float32
		var out [16]float32
		run = func() { sink += float64(s.RankTile(q, x, d, -1, &beta, &bound, &out)) }
	case "dot_i8":
		a, b := make([]int8, d), make([]int8, d)
		for i := range a {
			a[i], b[i] = int8(rng.Intn(256)-128), int8(rng.Intn(256)-128)
		}
		run = func() { sink += float64(s.DotI8(a, b)) }
	case "l2_u8":
		a, b := make([]uint8, d), make([]uint8, d)
		for i := range a {
			a[i], b[i] = uint8(rng.Intn(256)), uint8(rng.Intn(256))
		}
		run = func() { sink += float64(s.L2U8(a, b)) }
	case "hamming":
		a, b := make([]uint64, (d+63)/64), make([]uint64, (d+63)/64)
		for i := range a {
			a[i], b[i] = rng.Uint64(), rng.Uint64()
		}
		run = func() { sink += float64(s.Hamming(a, b)) }
	default:
		return 0, fmt.Errorf("unknown kernel %q (dot, l2sq, l1, tile, dot_i8, l2_u8, hamming)", kernel)
	}
	for i := 0; i < min(repeat, 1000); i++ {
		run()
	}
	start := time.Now()
	for i := 0; i < repeat; i++ {
		run()
	}
	el := time.Since(start)
	_ = sink // calls through func values are never elided; sink only keeps results live
	return float64(el.Nanoseconds()) / float64(repeat), nil
}
