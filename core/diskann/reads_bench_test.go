package diskann

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/oxvec/oxvec/core/index"
)

// BenchmarkDiskANN_ColdReads is the A/B of readBlocks' serial and
// concurrent reads (concurrentReads):
// on an index file (OXVEC_DISKANN_INDEX) and float32 .npy queries
// (OXVEC_DISKANN_QUERIES), one thread searches the queries at l = 48,
// beam width 4, after the file's pages were dropped (cold: the reads go
// to the device) and again warm, serial and concurrent reads interleaved
// three times. benchmarks/bench_diskann_reads.py runs it and writes the
// RESULTS.md section.
func BenchmarkDiskANN_ColdReads(b *testing.B) {
	path, qpath := os.Getenv("OXVEC_DISKANN_INDEX"), os.Getenv("OXVEC_DISKANN_QUERIES")
	if path == "" || qpath == "" {
		b.Skip("set OXVEC_DISKANN_INDEX and OXVEC_DISKANN_QUERIES")
	}
	idx, err := index.LoadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	defer idx.Close()
	q, err := readNpyF32(qpath, idx.Dim())
	if err != nil {
		b.Fatal(err)
	}
	nq := len(q) / idx.Dim()
	ids, dist := make([]int64, 10), make([]float32, 10)
	sp := &index.SearchParams{Ef: 48, BeamWidth: 4}
	pass := func() time.Duration {
		t := time.Now()
		for i := range nq {
			if err := idx.Search(bg, q[i*idx.Dim():(i+1)*idx.Dim()], 10, sp, ids, dist); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(t) / time.Duration(nq)
	}
	for rep := range 3 {
		for _, serial := range []bool{true, false} {
			concurrentReads = !serial
			if err := dropPages(path); err != nil {
				b.Fatal(err)
			}
			cold := pass()
			warm := pass()
			fmt.Printf("{\"rep\": %d, \"serial\": %v, \"queries\": %d, \"cold_us\": %.1f, \"warm_us\": %.1f}\n", rep, serial, nq, float64(cold.Microseconds()), float64(warm.Microseconds()))
		}
	}
	concurrentReads = false
}

func dropPages(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}

// readNpyF32 reads a little-endian float32 .npy of rows of dim.
func readNpyF32(path string, dim int) ([]float32, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(raw) < 10 {
		return nil, fmt.Errorf("%s: not an .npy file", path)
	}
	at := 10 + int(binary.LittleEndian.Uint16(raw[8:]))
	if raw[6] >= 2 {
		at = 12 + int(binary.LittleEndian.Uint32(raw[8:]))
	}
	body := raw[min(at, len(raw)):]
	out := make([]float32, len(body)/4/dim*dim)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	return out, nil
}
