package format

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/oxvec/oxvec/core/errs"
)

// File is a parsed container over bytes that stay owned by the caller (a
// buffer read from disk, or a memory mapping).
type File struct {
	data    []byte
	kind    string
	entries map[string]entry
	order   []string
}

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errs.Corrupt}, a...)...)
}

// HeaderSize is the length of the fixed header at the start of a file.
const HeaderSize = headerSize

// KindOf reads the index type name from a file's header (at least
// HeaderSize bytes), checking the magic and the header checksum.
func KindOf(h []byte) (string, error) {
	if len(h) < headerSize || !bytes.Equal(h[0:8], magic[:]) {
		return "", corrupt("not an oxvec index file")
	}
	if binary.LittleEndian.Uint32(h[60:64]) != crc32.Checksum(h[:60], castagno) {
		return "", corrupt("header checksum mismatch")
	}
	return cstring(h[16:48]), nil
}

// Parse checks the header, the trailer and the section table of data. It does
// not read the sections themselves: Section does, and verifies each one's
// checksum when asked to.
func Parse(data []byte) (*File, error) {
	if len(data) < headerSize+trailerLen {
		return nil, corrupt("file is %d bytes, shorter than an empty container (%d)", len(data), headerSize+trailerLen)
	}
	h := data[:headerSize]
	if !bytes.Equal(h[0:8], magic[:]) {
		return nil, corrupt("not an oxvec index file (bad magic %q)", h[0:8])
	}
	if got, want := binary.LittleEndian.Uint32(h[60:64]), crc32.Checksum(h[:60], castagno); got != want {
		return nil, corrupt("header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint32(h[8:12]); v != Version {
		return nil, fmt.Errorf("%w: container version %d, this build reads version %d", errs.Unsupported, v, Version)
	}
	t := data[len(data)-trailerLen:]
	if !bytes.Equal(t[24:32], endMagic[:]) {
		return nil, corrupt("missing end marker: the file was truncated or not fully written")
	}
	if total := binary.LittleEndian.Uint64(t[16:24]); total != uint64(len(data)) {
		return nil, corrupt("file is %d bytes, its trailer says %d", len(data), total)
	}
	tableOff := binary.LittleEndian.Uint64(t[0:8])
	n := uint64(binary.LittleEndian.Uint32(t[8:12]))
	tableEnd := uint64(len(data) - trailerLen)
	if tableOff < headerSize || tableOff > tableEnd || (tableEnd-tableOff) != n*entrySize {
		return nil, corrupt("section table out of bounds")
	}
	table := data[tableOff:tableEnd]
	if binary.LittleEndian.Uint32(t[12:16]) != crc32.Checksum(table, castagno) {
		return nil, corrupt("section table checksum mismatch")
	}
	f := &File{data: data, kind: cstring(h[16:48]), entries: map[string]entry{}}
	for i := uint64(0); i < n; i++ {
		b := table[i*entrySize:]
		e := entry{
			tag:    cstring(b[0:tagLen]),
			offset: int64(binary.LittleEndian.Uint64(b[16:24])),
			length: int64(binary.LittleEndian.Uint64(b[24:32])),
			crc:    binary.LittleEndian.Uint32(b[32:36]),
		}
		if e.offset < headerSize || e.length < 0 || uint64(e.offset) > tableOff || uint64(e.length) > tableOff-uint64(e.offset) {
			return nil, corrupt("section %q out of bounds", e.tag)
		}
		if _, dup := f.entries[e.tag]; dup {
			return nil, corrupt("section %q appears twice", e.tag)
		}
		f.entries[e.tag] = e
		f.order = append(f.order, e.tag)
	}
	return f, nil
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

// Section returns the bytes of the section with the given tag, aliasing the
// file's data. With verify, it first checks the section's CRC-32C.
func (f *File) Section(tag string, verify bool) ([]byte, error) {
	e, ok := f.entries[tag]
	if !ok {
		return nil, corrupt("section %q is missing", tag)
	}
	b := f.data[e.offset : e.offset+e.length]
	if verify && crc32.Checksum(b, castagno) != e.crc {
		return nil, corrupt("section %q checksum mismatch", tag)
	}
	return b, nil
}
