package format

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"

	"github.com/oxvec/oxvec/core/errs"
)

// File is a parsed container. Parse makes one over bytes that stay owned
// by the caller (a buffer already in memory); Open makes one over a file on
// disk, of which it has read the header and the table of sections only,
// and reads (Section) or maps (Map) each section when asked. A File is not
// safe for concurrent use.
type File struct {
	data    []byte   // the whole container (Parse); nil for an opened file
	disk    *os.File // the open file (Open); nil for parsed bytes
	path    string
	maps    [][]byte // mappings made by Map, released by Close
	kind    string
	entries map[string]entry
	order   []string
}

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errs.Corrupt}, a...)...)
}

// Parse checks the header, the trailer and the section table of data. It does
// not read the sections themselves: Section does, and verifies each one's
// checksum when asked to.
func Parse(data []byte) (*File, error) {
	f := &File{data: data}
	if err := f.parse(int64(len(data)), func(off, n int64) ([]byte, error) { return data[off : off+n], nil }); err != nil {
		return nil, err
	}
	return f, nil
}

// parse checks the container's frame: size is the length of the file,
// read returns n bytes from offset off (within size).
func (f *File) parse(size int64, read func(off, n int64) ([]byte, error)) error {
	if size < headerSize+trailerLen {
		return corrupt("file is %d bytes, shorter than an empty container (%d)", size, headerSize+trailerLen)
	}
	h, err := read(0, headerSize)
	if err != nil {
		return err
	}
	if !bytes.Equal(h[0:8], magic[:]) {
		return corrupt("not an oxvec index file (bad magic %q)", h[0:8])
	}
	if got, want := binary.LittleEndian.Uint32(h[60:64]), crc32.Checksum(h[:60], castagno); got != want {
		return corrupt("header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint32(h[8:12]); v != Version {
		return fmt.Errorf("%w: container version %d, this build reads version %d", errs.Unsupported, v, Version)
	}
	t, err := read(size-trailerLen, trailerLen)
	if err != nil {
		return err
	}
	if !bytes.Equal(t[24:32], endMagic[:]) {
		return corrupt("missing end marker: the file was truncated or not fully written")
	}
	if total := binary.LittleEndian.Uint64(t[16:24]); total != uint64(size) {
		return corrupt("file is %d bytes, its trailer says %d", size, total)
	}
	tableOff := binary.LittleEndian.Uint64(t[0:8])
	n := uint64(binary.LittleEndian.Uint32(t[8:12]))
	tableEnd := uint64(size - trailerLen)
	if tableOff < headerSize || tableOff > tableEnd || (tableEnd-tableOff) != n*entrySize {
		return corrupt("section table out of bounds")
	}
	table, err := read(int64(tableOff), int64(tableEnd-tableOff))
	if err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(t[12:16]) != crc32.Checksum(table, castagno) {
		return corrupt("section table checksum mismatch")
	}
	f.kind, f.entries = cstring(h[16:48]), map[string]entry{}
	for i := uint64(0); i < n; i++ {
		b := table[i*entrySize:]
		e := entry{
			tag:    cstring(b[0:tagLen]),
			offset: int64(binary.LittleEndian.Uint64(b[16:24])),
			length: int64(binary.LittleEndian.Uint64(b[24:32])),
			crc:    binary.LittleEndian.Uint32(b[32:36]),
		}
		if e.offset < headerSize || e.length < 0 || uint64(e.offset) > tableOff || uint64(e.length) > tableOff-uint64(e.offset) {
			return corrupt("section %q out of bounds", e.tag)
		}
		if _, dup := f.entries[e.tag]; dup {
			return corrupt("section %q appears twice", e.tag)
		}
		f.entries[e.tag] = e
		f.order = append(f.order, e.tag)
	}
	return nil
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// Kind is the index type name from the header.
func (f *File) Kind() string { return f.kind }

// Tags lists the sections in file order.
func (f *File) Tags() []string { return append([]string(nil), f.order...) }

// Section returns the bytes of the section with the given tag. For parsed
// bytes they alias the caller's data; for an opened file they are read
// into a buffer of their own (aligned for any Number). With verify, it
// first checks the section's CRC-32C.
func (f *File) Section(tag string, verify bool) ([]byte, error) {
	e, ok := f.entries[tag]
	if !ok {
		return nil, corrupt("section %q is missing", tag)
	}
	var b []byte
	if f.disk == nil {
		b = f.data[e.offset : e.offset+e.length]
	} else {
		var err error
		if b, err = f.read(e.offset, e.length); err != nil {
			return nil, err
		}
	}
	if err := check(e, b, verify); err != nil {
		return nil, err
	}
	return b, nil
}

// check verifies a section's checksum when asked to.
func check(e entry, b []byte, verify bool) error {
	if verify && crc32.Checksum(b, castagno) != e.crc {
		return corrupt("section %q checksum mismatch", e.tag)
	}
	return nil
}
