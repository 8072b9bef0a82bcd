package migrate

import (
	"bytes"
	"encoding/binary"
	"math"
)

// writer encodes faiss's little-endian values into a buffer.
type writer struct{ bytes.Buffer }

func (w *writer) u8(v uint8)      { w.WriteByte(v) }
func (w *writer) u32(v uint32)    { w.Write(binary.LittleEndian.AppendUint32(nil, v)) }
func (w *writer) i32(v int32)     { w.u32(uint32(v)) }
func (w *writer) u64(v uint64)    { w.Write(binary.LittleEndian.AppendUint64(nil, v)) }
func (w *writer) i64(v int64)     { w.u64(uint64(v)) }
func (w *writer) f64(v float64)   { w.u64(math.Float64bits(v)) }
func (w *writer) fourcc(h string) { w.WriteString(h) }

func (w *writer) floats(v []float32) {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	w.Write(b)
}

func (w *writer) int64s(v []int64) {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	w.Write(b)
}

func (w *writer) int32s(v []int32) {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	w.Write(b)
}

// std::vector layouts: a size_t count, then the elements.
func (w *writer) vecInt64(v []int64)   { w.u64(uint64(len(v))); w.int64s(v) }
func (w *writer) vecInt32(v []int32)   { w.u64(uint64(len(v))); w.int32s(v) }
func (w *writer) vecFloat(v []float32) { w.u64(uint64(len(v))); w.floats(v) }
func (w *writer) vecDouble(v []float64) {
	w.u64(uint64(len(v)))
	for _, x := range v {
		w.f64(x)
	}
}
