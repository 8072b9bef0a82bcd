package diskann

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/pq"
)

type formatFile = format.File

// image is the disk graph: the node blocks stay in the file (or, for an
// index loaded from bytes, in that buffer) and are read a block at a
// time; what a search needs before reading - the PQ codes, the ids, the
// delete list and a cache of the records nearest the medoid - is in
// memory.
type image struct {
	src     io.ReaderAt  // the file (reads are pread) or the blocks' bytes
	file    *format.File // the opened file this image owns, or nil
	base    int64        // offset of the first block in src
	geo     geometry
	n       int // nodes on disk, deleted ones included
	medoid  uint32
	cb      *pq.Codebook
	codes   []uint8          // n x cb.CodeSize
	ids     []int64          // id of each node
	where   map[int64]uint32 // id -> node; nil while ids[i] == i
	deleted []uint64         // bit per node: removed, not yet consolidated
	ndel    int
	cache   map[uint32][]byte // records of the nodes nearest the medoid
	cached  int64             // their bytes
}

// counters are the I/O figures of searches since the last reset, for the
// benchmark's reads per query (Stats).
type counters struct {
	queries, blocks, cacheHits, expanded atomic.Int64
}

func (m *image) live() int { return m.n - m.ndel }

func (m *image) memoryBytes() int64 {
	b := int64(len(m.codes)) + 8*int64(len(m.ids)) + 8*int64(len(m.deleted)) + m.cached + m.cb.MemoryBytes()
	if m.where != nil {
		b += 40 * int64(len(m.where))
	}
	return b
}

func (m *image) close() error {
	if m.file != nil {
		return m.file.Close()
	}
	return nil
}

func (m *image) isDeleted(i uint32) bool { return m.deleted[i>>6]&(1<<(i&63)) != 0 }

// lookup returns the node holding id, if it is live.
func (m *image) lookup(id int64) (uint32, bool) {
	var i uint32
	if m.where == nil {
		if id < 0 || id >= int64(m.n) {
			return 0, false
		}
		i = uint32(id)
	} else {
		v, ok := m.where[id]
		if !ok {
			return 0, false
		}
		i = v
	}
	return i, !m.isDeleted(i)
}

// readBlock reads block b into buf (geo.blockSize bytes).
func (m *image) readBlock(b int64, buf []byte) error {
	_, err := m.src.ReadAt(buf, m.base+b*int64(m.geo.blockSize))
	return err
}

// concurrentReads makes readBlocks issue a step's reads at once, a
// goroutine per extra block. Off: on this project's machine (a virtual
// disk) it gained 1.05x on cold queries and lost 0.76x warm, where the
// reads are page-cache copies shorter than a goroutine's start
// (benchmarks/RESULTS.md, "diskann-reads"); a device with longer
// latencies (a network disk) may differ, and bench_test's A/B measures it.
var concurrentReads = false

// readBlocks reads the blocks named in bs into consecutive blockSize
// slots of buf: one pread each, in turn, or concurrently (concurrentReads)
// - the batched I/O of the DiskANN paper, with goroutines instead of
// io_uring. The first error is returned.
func (m *image) readBlocks(bs []uint32, buf []byte) error {
	size := m.geo.blockSize
	if len(bs) <= 1 || !concurrentReads {
		for j, b := range bs {
			if err := m.readBlock(int64(b), buf[j*size:(j+1)*size]); err != nil {
				return err
			}
		}
		return nil
	}
	var wg sync.WaitGroup
	fails := make([]error, len(bs))
	for j := 1; j < len(bs); j++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fails[j] = m.readBlock(int64(bs[j]), buf[j*size:(j+1)*size])
		}()
	}
	fails[0] = m.readBlock(int64(bs[0]), buf[:size])
	wg.Wait()
	for _, err := range fails {
		if err != nil {
			return err
		}
	}
	return nil
}

// record returns node i's record: from the cache, or from block (the
// node's block, already read by the caller).
func (m *image) decode(i uint32, rec []byte) ([]float32, []uint32, error) {
	vec, nbrs, err := m.geo.view(rec, m.n)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: diskann node %d: %v", errs.Corrupt, i, err)
	}
	return vec, nbrs, nil
}

// fetch reads node i's record into a fresh buffer (the slow path of
// rewrites and the cache fill), checked.
func (m *image) fetch(i uint32, block []byte) ([]float32, []uint32, error) {
	if rec, ok := m.cache[i]; ok {
		return m.decode(i, rec)
	}
	b, at := m.geo.where(i)
	if err := m.readBlock(b, block); err != nil {
		return nil, nil, err
	}
	return m.decode(i, block[at:at+m.geo.record])
}
