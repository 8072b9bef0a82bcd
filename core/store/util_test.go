package store

import (
	"encoding/binary"
	"math"
)

func float32Bytes(x float32) []byte {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
	return b[:]
}
