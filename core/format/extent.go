package format

import (
	"fmt"
	"io"

	"github.com/oxvec/oxvec/core/errs"
)

// A type that searches its file where it lies (DiskANN's node blocks)
// reads small pieces of one section on every search instead of reading or
// mapping the section once. Extent says where a section lies, ReadAt reads
// any range of the container, and Align places the next section at a
// larger boundary than 64 bytes (a disk sector, a page).

// Extent returns the offset of section tag from the start of the
// container, its length and its CRC-32C (as the table records them).
func (f *File) Extent(tag string) (off, length int64, crc uint32, err error) {
	e, ok := f.entries[tag]
	if !ok {
		return 0, 0, 0, corrupt("section %q is missing", tag)
	}
	return e.offset, e.length, e.crc, nil
}

// ReadAt reads len(p) bytes of the container from off: with pread on an
// opened file, by copying for parsed bytes. Unlike the rest of File it is
// safe for concurrent use (until Close). A short read is errs.Corrupt (the
// frame was checked, so the file shrank under us or off is wrong).
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.disk == nil {
		if off < 0 || off > int64(len(f.data)) || int64(len(p)) > int64(len(f.data))-off {
			return 0, corrupt("read of %d bytes at %d beyond the container's %d", len(p), off, len(f.data))
		}
		return copy(p, f.data[off:]), nil
	}
	n, err := f.disk.ReadAt(p, off)
	if err == io.EOF {
		return n, corrupt("%s ends inside a read of %d bytes at %d", f.path, len(p), off)
	}
	if err != nil {
		return n, fmt.Errorf("%w: reading %s: %v", errs.IO, f.path, err)
	}
	return n, nil
}

// Path is the path an opened file was opened from, "" for parsed bytes.
func (f *File) Path() string { return f.path }

// Fd is the descriptor of an opened file (for posix_fadvise and the
// like), or -1 for parsed bytes.
func (f *File) Fd() int {
	if f.disk == nil {
		return -1
	}
	return int(f.disk.Fd())
}

// Align pads the container so that the next section starts at a multiple
// of n bytes, n a multiple of 64 (a sector or a page: 4096). The padding
// lies between sections, where readers never look.
func (fw *Writer) Align(n int64) error {
	if n < align || n%align != 0 {
		return fmt.Errorf("%w: alignment %d is not a multiple of %d", errs.InvalidArgument, n, align)
	}
	if r := fw.off % n; r != 0 {
		fw.write(make([]byte, n-r))
	}
	return fw.err
}
