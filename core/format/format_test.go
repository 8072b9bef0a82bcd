package format

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

func sample(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, "flat")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Bytes("meta", []byte(`{"dim":3}`)); err != nil {
		t.Fatal(err)
	}
	if err := w.Section("vectors", func(w io.Writer) error {
		_, err := w.Write(AsBytes([]float32{1, 2, 3, 4, 5, 6}))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFormat_RoundTrip(t *testing.T) {
	data := sample(t)
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if f.Kind() != "flat" {
		t.Fatalf("kind %q", f.Kind())
	}
	meta, err := f.Section("meta", true)
	if err != nil || string(meta) != `{"dim":3}` {
		t.Fatalf("meta %q %v", meta, err)
	}
	raw, err := f.Section("vectors", true)
	if err != nil {
		t.Fatal(err)
	}
	vec, err := View[float32](raw)
	if err != nil || len(vec) != 6 || vec[5] != 6 {
		t.Fatalf("vectors %v %v", vec, err)
	}
	for _, tag := range f.Tags() {
		e := f.entries[tag]
		if e.offset%align != 0 {
			t.Fatalf("section %q at offset %d is not 64-byte aligned", tag, e.offset)
		}
	}
}

func TestFormat_EveryTruncationIsDetected(t *testing.T) {
	data := sample(t)
	for n := 0; n < len(data); n++ {
		if _, err := Parse(data[:n]); !errors.Is(err, errs.Corrupt) {
			t.Fatalf("truncated to %d of %d bytes: got %v, want errs.Corrupt", n, len(data), err)
		}
	}
}

func TestFormat_EveryBitFlipIsDetected(t *testing.T) {
	data := sample(t)
	for i := range data {
		bad := append([]byte(nil), data...)
		bad[i] ^= 0x10
		f, err := Parse(bad)
		if err == nil {
			for _, tag := range f.Tags() {
				if _, err = f.Section(tag, true); err != nil {
					break
				}
			}
		}
		// A flip inside padding bytes is harmless and may go unnoticed;
		// anything that reaches the parsed content must not.
		if err == nil && !isPadding(t, data, i) {
			t.Fatalf("flip at byte %d went unnoticed", i)
		}
		if err != nil && !errors.Is(err, errs.Corrupt) && !errors.Is(err, errs.Unsupported) {
			t.Fatalf("flip at byte %d: error %v is not errs.Corrupt", i, err)
		}
	}
}

// isPadding reports whether byte i of a sample file lies outside every
// checksummed range (header, sections, table, trailer).
func isPadding(t *testing.T, data []byte, i int) bool {
	f, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if i < headerSize || i >= len(data)-trailerLen-entrySize*len(f.entries) {
		return false // header, table and trailer are all checksummed or checked
	}
	for _, e := range f.entries {
		if int64(i) >= e.offset && int64(i) < e.offset+e.length {
			return false
		}
	}
	return true
}

func FuzzParse(f *testing.F) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, "flat")
	_ = w.Bytes("meta", []byte("x"))
	_ = w.Close()
	f.Add(buf.Bytes())
	f.Add([]byte("OXVECIDX"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		for _, tag := range file.Tags() {
			_, _ = file.Section(tag, true)
		}
	})
}
