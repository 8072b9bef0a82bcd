package hnsw

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"unsafe"

	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/parallel"
)

// readNpy returns the raw data bytes of a version 1 or 2 .npy file.
func readNpy(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Skipf("bigann-10k not found (%v): set OXVEC_BIGANN to its folder", err)
	}
	if !bytes.HasPrefix(b, []byte("\x93NUMPY")) {
		tb.Fatalf("%s: not .npy", path)
	}
	if b[6] == 1 {
		return b[10+int(binary.LittleEndian.Uint16(b[8:])):]
	}
	return b[12+int(binary.LittleEndian.Uint32(b[8:])):]
}

func bigannDir() string {
	if d := os.Getenv("OXVEC_BIGANN"); d != "" {
		return d
	}
	return "../../../shared/datasets/bigann-10k"
}

// bigann10k loads bigann-10k (9,000 uint8 SIFT rows of 128, 1,000 queries,
// exact top 100) as float32, built with one worker (a deterministic graph).
func bigann10k(b *testing.B) (*HNSW, []float32, []int32) {
	dir := bigannDir()
	u8 := func(n string) []float32 {
		raw := readNpy(b, filepath.Join(dir, n))
		f := make([]float32, len(raw))
		for i, v := range raw {
			f[i] = float32(v)
		}
		return f
	}
	base, queries := u8("base.npy"), u8("queries.npy")
	raw := readNpy(b, filepath.Join(dir, "gt_ids.npy"))
	gt := make([]int32, len(raw)/4)
	for i := range gt {
		gt[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	// OXVEC_BIGANN_CACHE names a file the graph is saved to once and loaded
	// from after: A/B runs (and callgrind) then search the same graph
	if c := os.Getenv("OXVEC_BIGANN_CACHE"); c != "" {
		if idx, err := index.LoadFile(c); err == nil {
			return idx.(*HNSW), queries, gt
		}
		h := build(b, metric.L2, 128, base, Params{M: 16, EfConstruction: 200})
		if err := index.SaveFile(h, c); err != nil {
			b.Fatal(err)
		}
		return h, queries, gt
	}
	h := build(b, metric.L2, 128, base, Params{M: 16, EfConstruction: 200})
	return h, queries, gt
}

// BenchmarkSearch_Bigann10k is the issue-26 case: bigann-10k, default
// configuration, 1 thread, ef 20 (recall@10 about 0.95; OXVEC_BIGANN_EF
// sets another), the 1,000 queries in one batch.
func BenchmarkSearch_Bigann10k(b *testing.B) {
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	h, queries, gt := bigann10k(b)
	searchBench(b, h, queries, gt)
}

// searchBench times searches of 1,000 queries (k = 10) on one thread, and
// reports thread-CPU QPS, recall@10 against gt (top 100 per query) and the
// distances computed per query.
func searchBench(b *testing.B, h *HNSW, queries []float32, gt []int32) {
	const k, nq = 10, 1000
	ids, dist := make([]int64, nq*k), make([]float32, nq*k)
	p := &index.SearchParams{Ef: 20}
	if ef, err := strconv.Atoi(os.Getenv("OXVEC_BIGANN_EF")); err == nil {
		p.Ef = ef
	}
	CountDistances(true)
	if err := h.Search(bg, queries, k, p, ids, dist); err != nil {
		b.Fatal(err)
	}
	walk, rerank := CountDistances(false)
	hit := 0
	for q := 0; q < nq; q++ {
		for _, id := range ids[q*k : (q+1)*k] {
			for _, g := range gt[q*100 : q*100+k] {
				if int64(g) == id {
					hit++
				}
			}
		}
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := make([]float64, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := threadCPU()
		if err := h.Search(bg, queries, k, p, ids, dist); err != nil {
			b.Fatal(err)
		}
		cpu = append(cpu, threadCPU()-t)
	}
	b.StopTimer()
	sort.Float64s(cpu)
	b.ReportMetric(float64(b.N*nq)/b.Elapsed().Seconds(), "qps")
	b.ReportMetric(nq/cpu[len(cpu)/2], "cpu-qps")
	b.ReportMetric(nq/cpu[0], "best-cpu-qps")
	b.ReportMetric(float64(hit)/float64(nq*k), "recall")
	b.ReportMetric(float64(walk)/nq, "walk/q")
	b.ReportMetric(float64(rerank)/nq, "rerank/q")
}

// threadCPU is the calling thread's CPU time in seconds (the search runs
// on it with one worker): immune to other processes holding the core.
func threadCPU() float64 {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}

// BenchmarkSearch_Wordnet is BenchmarkSearch_Bigann10k on wordnet-minilm
// (116,659 x 384, cosine; `make bench-data`, folder in OXVEC_WORDNET),
// graph built with all workers and cached in OXVEC_WORDNET_CACHE.
func BenchmarkSearch_Wordnet(b *testing.B) {
	dir := os.Getenv("OXVEC_WORDNET")
	if dir == "" {
		b.Skip("set OXVEC_WORDNET to the wordnet-minilm folder")
	}
	f32 := func(n string) []float32 {
		raw := readNpy(b, filepath.Join(dir, n))
		f := make([]float32, len(raw)/4)
		for i := range f {
			f[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return f
	}
	queries := f32("queries.npy")
	raw := readNpy(b, filepath.Join(dir, "gt_ids.npy"))
	gt := make([]int32, len(raw)/4)
	for i := range gt {
		gt[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	var h *HNSW
	c := os.Getenv("OXVEC_WORDNET_CACHE")
	if idx, err := index.LoadFile(c); c != "" && err == nil {
		h = idx.(*HNSW)
	} else {
		h = build(b, metric.Cosine, 384, f32("base.npy"), Params{M: 16, EfConstruction: 200})
		if c != "" {
			if err := index.SaveFile(h, c); err != nil {
				b.Fatal(err)
			}
		}
	}
	parallel.SetWorkers(1)
	defer parallel.SetWorkers(0)
	searchBench(b, h, queries, gt)
}
