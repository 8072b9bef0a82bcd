//go:build 386 || amd64 || arm || arm64 || loong64 || mips64le || mipsle || ppc64le || riscv64 || wasm

package format

// The engine's only reinterpretation of memory: bulk numeric arrays are
// stored little-endian, which is also the byte order of every platform this
// file builds on, so they are written and read (or memory-mapped) as they lie
// in memory, without a per-value conversion.

import (
	"fmt"
	"unsafe"

	"github.com/oxvec/oxvec/core/errs"
)

// Number is an element type that may be viewed as raw bytes.
type Number interface {
	~uint8 | ~int8 | ~uint16 | ~int16 | ~uint32 | ~int32 | ~uint64 | ~int64 | ~float32 | ~float64
}

// AsBytes views s as its bytes, without copying.
func AsBytes[T Number](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(zero)))
}

// View views b as a slice of T, without copying. b's length must be a
// multiple of T's size and its start aligned for T, which holds for every
// section of a container read into or mapped at an aligned address.
func View[T Number](b []byte) ([]T, error) {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(b)%size != 0 {
		return nil, fmt.Errorf("%w: section of %d bytes is not a whole number of %d-byte values", errs.Corrupt, len(b), size)
	}
	if len(b) == 0 {
		return nil, nil
	}
	if uintptr(unsafe.Pointer(&b[0]))%uintptr(size) != 0 {
		return nil, fmt.Errorf("%w: section is not aligned in memory", errs.Internal)
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size), nil
}

// Put adds a section holding the values of s as they lie in memory.
func Put[T Number](w *Writer, tag string, s []T) error { return w.Bytes(tag, AsBytes(s)) }
