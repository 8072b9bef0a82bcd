package store

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// walBytes frames payloads as WAL records numbered from 1.
func walBytes(payloads ...[]byte) []byte {
	var b []byte
	for i, p := range payloads {
		var h [walHeader]byte
		binary.LittleEndian.PutUint32(h[0:4], uint32(len(p)))
		binary.LittleEndian.PutUint64(h[8:16], uint64(i+1))
		body := append(h[8:16:16], p...)
		binary.LittleEndian.PutUint32(h[4:8], crc32.Checksum(body, castagnoli))
		b = append(append(b, h[:]...), p...)
	}
	return b
}

func seedChanges() [][]byte {
	doc := "a document"
	return [][]byte{
		(&change{op: opAdd, time: 1, keys: []string{"a", "b"}, vecs: make([]float32, 8), docs: []*string{&doc, nil}, metas: []Meta{{"n": int64(1), "f": 2.5, "t": []any{"x", true}}, nil}}).encode(4),
		(&change{op: opUpdate, keys: []string{"a"}, metas: []Meta{{"k": "v"}}}).encode(4),
		(&change{op: opDelete, keys: []string{"b"}}).encode(4),
	}
}

// FuzzWAL feeds arbitrary bytes to the WAL reader and the change decoder:
// they may reject them, never panic, and whatever decodes re-encodes to
// the same change.
func FuzzWAL(f *testing.F) {
	seeds := seedChanges()
	f.Add(walBytes(seeds...))
	f.Add(walBytes(seeds[0])[:30])
	f.Add(seeds[1])
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := scanSegment(data, nil, 1, "fuzz")
		if err != nil {
			t.Fatal(err) // without encryption nothing can fail but the scan itself
		}
		if sc.validEnd > int64(len(data)) || (sc.damage == "" && sc.validEnd != int64(len(data)) && !allZero(data[sc.validEnd:])) {
			t.Fatalf("scan stopped at %d of %d without naming damage", sc.validEnd, len(data))
		}
		payloads := [][]byte{data}
		for _, r := range sc.records {
			payloads = append(payloads, r.payload)
		}
		for _, p := range payloads {
			c, err := decodeChange(p, 4)
			if err != nil {
				continue
			}
			again, err := decodeChange(c.encode(4), 4)
			if err != nil || !reflect.DeepEqual(c, again) {
				t.Fatalf("a decoded change does not survive re-encoding: %v", err)
			}
		}
	})
}

// FuzzSnapshot feeds arbitrary bytes to the snapshot file reader and the
// records decoder.
func FuzzSnapshot(f *testing.F) {
	tab := newTable(4)
	doc := "text"
	tab.set(tab.alloc(), "a", []float32{1, 2, 3, 4}, &doc, Meta{"n": int64(3), "l": []any{"x", 1.5}}, false)
	tab.set(tab.alloc(), "b", []float32{5, 6, 7, 8}, nil, nil, false)
	tab.set(tab.alloc(), "c", []float32{0, 0, 0, 0}, nil, Meta{"b": true}, false)
	tab.drop(1)
	enc := encodeTable(tab)
	var file bytes.Buffer
	dir := f.TempDir()
	if err := writeSealed(filepath.Join(dir, "r"), enc, nil, "x"); err != nil {
		f.Fatal(err)
	}
	sealed, _ := os.ReadFile(filepath.Join(dir, "r"))
	file.Write(sealed)
	f.Add(enc)
	f.Add(file.Bytes())
	f.Add(enc[:25])
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, unsealed(data)} {
			if b == nil {
				continue
			}
			got, err := decodeTable(b, 4)
			if err != nil {
				continue
			}
			again, err := decodeTable(encodeTable(got), 4)
			if err != nil || !reflect.DeepEqual(got.keys, again.keys) || got.live() != again.live() {
				t.Fatalf("a decoded table does not survive re-encoding: %v", err)
			}
		}
	})
}

func unsealed(b []byte) []byte {
	data, err := openSealed(b, nil, "x", "fuzz")
	if err != nil {
		return nil
	}
	return data
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
