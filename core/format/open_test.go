package format

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/oxvec/oxvec/core/errs"
)

func TestOpen_ReadsAndMapsWhatParseSees(t *testing.T) {
	data := sample(t)
	path := filepath.Join(t.TempDir(), "f.oxv")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	parsed, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Kind() != "flat" || len(f.Tags()) != len(parsed.Tags()) {
		t.Fatalf("kind %q, tags %v, parsed %v", f.Kind(), f.Tags(), parsed.Tags())
	}
	for _, tag := range parsed.Tags() {
		want, _ := parsed.Section(tag, true)
		for name, get := range map[string]func(string, bool) ([]byte, error){"Section": f.Section, "Map": f.Map} {
			got, err := get(tag, true)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s(%q) = %q, %v; want %q", name, tag, got, err, want)
			}
			if len(got) > 0 && uintptr(unsafe.Pointer(&got[0]))%8 != 0 {
				t.Fatalf("%s(%q) is not 8-byte aligned", name, tag)
			}
		}
	}
	if canMap && !f.Mapped() {
		t.Fatal("Map mapped nothing")
	}
	if _, err := f.Map("nope", false); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("missing section: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestOpen_EveryTruncationIsDetected(t *testing.T) {
	data := sample(t)
	path := filepath.Join(t.TempDir(), "f.oxv")
	for n := 0; n < len(data); n++ {
		if err := os.WriteFile(path, data[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := Open(path)
		if !errors.Is(err, errs.Corrupt) {
			t.Fatalf("truncated to %d of %d bytes: got %v, want errs.Corrupt", n, len(data), err)
		}
		if f != nil {
			f.Close()
		}
	}
}

func TestOpen_MapChecksTheChecksumOnlyWhenAsked(t *testing.T) {
	data := sample(t)
	parsed, _ := Parse(data)
	e := parsed.entries["vectors"]
	data[e.offset] ^= 1
	path := filepath.Join(t.TempDir(), "f.oxv")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Map("vectors", false); err != nil {
		t.Fatalf("unverified map: %v", err)
	}
	if _, err := f.Map("vectors", true); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("verified map of a damaged section: %v", err)
	}
	if _, err := f.Section("vectors", true); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("verified read of a damaged section: %v", err)
	}
}

func TestOpen_MissingFileIsNotFoundAndDirectoryIsIO(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing.oxv")); !errors.Is(err, errs.NotFound) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := Open(dir); !errors.Is(err, errs.IO) {
		t.Fatalf("directory: %v", err)
	}
}
