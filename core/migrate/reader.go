package migrate

import (
	"encoding/binary"
	"math"
)

// reader decodes little-endian values from a file held in memory. Errors
// are sticky: after the first failed read every read returns zero values
// and err keeps the first failure, so a parser reads on and checks once.
// Every slice it returns is sized by a count already checked against the
// bytes left, so a damaged count cannot make it allocate more than the
// file holds.
type reader struct {
	b    []byte
	off  int
	err  error
	what string // the file kind, for messages
}

func (r *reader) left() int { return len(r.b) - r.off }

// take returns the next n bytes, or nil once the file is short.
func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.left() {
		r.err = corrupt("%s file truncated or damaged: %s needs %d bytes at offset %d, %d left", r.what, what, n, r.off, r.left())
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *reader) u8(what string) uint8 {
	if p := r.take(1, what); p != nil {
		return p[0]
	}
	return 0
}

func (r *reader) u32(what string) uint32 {
	if p := r.take(4, what); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (r *reader) i32(what string) int32 { return int32(r.u32(what)) }

func (r *reader) u64(what string) uint64 {
	if p := r.take(8, what); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (r *reader) i64(what string) int64 { return int64(r.u64(what)) }

func (r *reader) f64(what string) float64 { return math.Float64frombits(r.u64(what)) }

func (r *reader) fourcc(what string) string {
	if p := r.take(4, what); p != nil {
		return string(p)
	}
	return ""
}

// bool8 reads a one-byte bool, 0 or 1 (what faiss writes).
func (r *reader) bool8(what string) bool {
	v := r.u8(what)
	if v > 1 && r.err == nil {
		r.err = corrupt("%s file damaged: %s is byte %d, not a bool", r.what, what, v)
	}
	return v == 1
}

// size reads a count stored as size_t (uint64) and checks that count
// elements of elem bytes fit in what is left (elem 0: the count is only
// checked against max).
func (r *reader) size(what string, elem int, limit int) int {
	v := r.u64(what)
	if r.err != nil {
		return 0
	}
	if v > uint64(limit) || (elem > 0 && v > uint64(r.left()/elem)) {
		r.err = corrupt("%s file truncated or damaged: %s = %d at offset %d, only %d bytes left", r.what, what, v, r.off-8, r.left())
		return 0
	}
	return int(v)
}

// check fails the read with a corruption message when ok is false.
func (r *reader) check(ok bool, format string, a ...any) {
	if r.err == nil && !ok {
		r.err = corrupt(r.what+" file damaged: "+format, a...)
	}
}

func (r *reader) floats(n int, what string) []float32 {
	p := r.take(4*n, what)
	if p == nil {
		return nil
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return v
}

func (r *reader) int64s(n int, what string) []int64 {
	p := r.take(8*n, what)
	if p == nil {
		return nil
	}
	v := make([]int64, n)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(p[8*i:]))
	}
	return v
}

func (r *reader) int32s(n int, what string) []int32 {
	p := r.take(4*n, what)
	if p == nil {
		return nil
	}
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(binary.LittleEndian.Uint32(p[4*i:]))
	}
	return v
}

// vector reads faiss's std::vector layout: a size_t count, then the
// elements.
func (r *reader) vecInt64(what string) []int64 {
	return r.int64s(r.size(what, 8, math.MaxInt32*4), what)
}

func (r *reader) vecInt32(what string) []int32 {
	return r.int32s(r.size(what, 4, math.MaxInt32*4), what)
}

func (r *reader) vecFloat(what string) []float32 {
	return r.floats(r.size(what, 4, math.MaxInt32*4), what)
}

func (r *reader) vecDouble(what string) []float64 {
	n := r.size(what, 8, math.MaxInt32)
	p := r.take(8*n, what)
	if p == nil {
		return nil
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
	}
	return v
}
