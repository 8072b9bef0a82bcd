package migrate

import (
	"encoding/binary"
	"math"
)

// bytesToFloats decodes little-endian float32 values (faiss stores
// IVF-Flat codes as the raw bytes of the vectors).
func bytesToFloats(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
