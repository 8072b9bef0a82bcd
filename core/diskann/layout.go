package diskann

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"

	"github.com/oxvec/oxvec/core/format"
)

// blockAlign is the unit of a read: a disk sector and a page. The blocks
// section starts at a multiple of it and every read covers whole blocks.
const blockAlign = 4096

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// geometry is where a node's record lies. A record is the node's vector
// (dim float32, as the metric prepared it), its neighbour count (uint32),
// r neighbour slots (uint32, the first count used, the rest zero) and the
// CRC-32C of those bytes (uint32). Records never straddle a block: when
// several fit in 4 KiB a block holds perBlock of them (5 at 128-d, r =
// 64), and a record larger than 4 KiB gets a block of whole 4 KiB units to
// itself, so a node is always one aligned read.
type geometry struct {
	dim, r    int
	record    int // bytes of a record
	perBlock  int // records per block
	blockSize int // bytes of a block, a multiple of blockAlign
}

func newGeometry(dim, r int) geometry {
	g := geometry{dim: dim, r: r, record: 4*dim + 4 + 4*r + 4}
	if g.record <= blockAlign {
		g.perBlock, g.blockSize = blockAlign/g.record, blockAlign
	} else {
		g.perBlock, g.blockSize = 1, (g.record+blockAlign-1)/blockAlign*blockAlign
	}
	return g
}

// blocks is the number of blocks n nodes take.
func (g geometry) blocks(n int) int { return (n + g.perBlock - 1) / g.perBlock }

// where returns the block of node i and the record's offset in it.
func (g geometry) where(i uint32) (block int64, at int) {
	return int64(i) / int64(g.perBlock), int(i%uint32(g.perBlock)) * g.record
}

// encode writes node's record into rec (g.record bytes).
func (g geometry) encode(rec []byte, vec []float32, nbrs []uint32) {
	for j, v := range vec[:g.dim] {
		binary.LittleEndian.PutUint32(rec[4*j:], math.Float32bits(v))
	}
	o := 4 * g.dim
	binary.LittleEndian.PutUint32(rec[o:], uint32(len(nbrs)))
	o += 4
	for j := range g.r {
		var v uint32
		if j < len(nbrs) {
			v = nbrs[j]
		}
		binary.LittleEndian.PutUint32(rec[o+4*j:], v)
	}
	o += 4 * g.r
	binary.LittleEndian.PutUint32(rec[o:], crc32.Checksum(rec[:o], castagnoli))
}

// view is decode without copies: the vector and the neighbours alias rec,
// which must be 4-byte aligned (records start at multiples of their
// size, a multiple of 4, in 8-byte aligned buffers).
func (g geometry) view(rec []byte, n int) ([]float32, []uint32, error) {
	o := 4*g.dim + 4 + 4*g.r
	if binary.LittleEndian.Uint32(rec[o:]) != crc32.Checksum(rec[:o], castagnoli) {
		return nil, nil, errRecordChecksum
	}
	vec, err := format.View[float32](rec[:4*g.dim])
	if err != nil {
		return nil, nil, err
	}
	c := int(binary.LittleEndian.Uint32(rec[4*g.dim:]))
	if c > g.r {
		return nil, nil, fmt.Errorf("%d neighbours, more than r = %d", c, g.r)
	}
	nbrs, err := format.View[uint32](rec[4*g.dim+4 : 4*g.dim+4+4*c])
	if err != nil {
		return nil, nil, err
	}
	for _, v := range nbrs {
		if int64(v) >= int64(n) {
			return nil, nil, fmt.Errorf("neighbour %d of %d nodes", v, n)
		}
	}
	return vec, nbrs, nil
}

var errRecordChecksum = errors.New("record checksum mismatch")

// alignedBytes returns n zero bytes starting at an 8-byte boundary.
func alignedBytes(n int) []byte { return format.AsBytes(make([]uint64, (n+7)/8))[:n] }
