package format

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/oxvec/oxvec/core/errs"
)

// Open opens the container at path and checks its frame (header, trailer,
// section table) as Parse does, reading only those: no section is read
// until Section or Map asks for it, so a loader can leave a large section
// on disk. The File holds the open file until Close.
func Open(path string) (*File, error) {
	disk, err := os.Open(path)
	if err != nil {
		return nil, ioError("open "+path, err)
	}
	st, err := disk.Stat()
	if err == nil && st.IsDir() {
		err = fmt.Errorf("%s is a directory", path)
	}
	if err != nil {
		disk.Close()
		return nil, ioError("read "+path, err)
	}
	f := &File{disk: disk, path: path}
	if err := f.parse(st.Size(), f.read); err != nil {
		disk.Close()
		return nil, err
	}
	return f, nil
}

// read returns n bytes of the opened file from off, in a new buffer whose
// start is aligned for any Number (View needs that).
func (f *File) read(off, n int64) ([]byte, error) {
	b := AsBytes(make([]uint64, (n+7)/8))[:n:n]
	if _, err := f.disk.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("%w: reading %s: %v", errs.IO, f.path, err)
	}
	return b, nil
}

// Map returns the bytes of a section as Section does, but for an opened
// file maps them read-only instead of reading them, where the platform can
// (elsewhere it reads): then no page is read until used, unless verify
// asks for the checksum, which reads them all. The bytes are valid until
// Close and must not be written.
func (f *File) Map(tag string, verify bool) ([]byte, error) {
	e, ok := f.entries[tag]
	if !ok {
		return nil, corrupt("section %q is missing", tag)
	}
	if f.disk == nil || e.length == 0 || !canMap {
		return f.Section(tag, verify)
	}
	region, b, err := mapRange(f.disk, e.offset, e.length)
	if err != nil {
		return nil, fmt.Errorf("%w: mmap %s: %v", errs.IO, f.path, err)
	}
	f.maps = append(f.maps, region)
	if err := check(e, b, verify); err != nil {
		return nil, err
	}
	return b, nil
}

// Mapped reports whether Map has mapped any section of the file.
func (f *File) Mapped() bool { return len(f.maps) > 0 }

// Close releases an opened file and every section Map mapped; the bytes
// of those sections must not be used afterwards. It does nothing for
// parsed bytes, and nothing the second time.
func (f *File) Close() error {
	var first error
	for _, m := range f.maps {
		if err := unmap(m); err != nil && first == nil {
			first = fmt.Errorf("%w: munmap %s: %v", errs.IO, f.path, err)
		}
	}
	f.maps = nil
	if f.disk != nil {
		if err := f.disk.Close(); err != nil && first == nil {
			first = fmt.Errorf("%w: closing %s: %v", errs.IO, f.path, err)
		}
		f.disk = nil
	}
	return first
}

// ioError classes a failed open or read: a missing file is errs.NotFound,
// anything else errs.IO.
func ioError(what string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s: %v", errs.NotFound, what, err)
	}
	return fmt.Errorf("%w: %s: %v", errs.IO, what, err)
}
