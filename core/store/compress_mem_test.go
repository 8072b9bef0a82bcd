package store

import (
	"bytes"
	"math/rand"
	"runtime"
	"testing"
)

func TestCompress_EncoderKeepsAboutOneFrameOfHistory(t *testing.T) {
	// the process-wide encoder keeps its history buffer between snapshots;
	// with zstd's default 8 MiB window that was 16 MiB per encoder, kept from
	// the first snapshot on (a 28 MiB RSS step in the server soak)
	data := make([]byte, 3*frameSize)
	rand.New(rand.NewSource(1)).Read(data[:frameSize])
	copy(data[frameSize:], bytes.Repeat(data[:1024], 2*frameSize/1024))
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := live()
	for i := 0; i < 3; i++ {
		z := compress(data)
		if len(z) == 0 {
			t.Fatal("nothing compressed")
		}
	}
	after := live()
	// measured: 17 MiB with the default window, 9 MiB with frameSize's
	if after > before && after-before > 3*frameSize {
		t.Fatalf("compressing kept %d MiB live (bound %d MiB)", (after-before)>>20, 3*frameSize>>20)
	}
	got, err := zdec.DecodeAll(compress(data), nil)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("round trip: %v, equal %v", err, bytes.Equal(got, data))
	}
}
