package format

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"github.com/oxvec/oxvec/core/errs"
)

const (
	// Version is the container version this package writes and reads.
	Version    = 1
	headerSize = 64
	entrySize  = 48
	trailerLen = 32
	align      = 64
	tagLen     = 16
	kindLen    = 32
)

var (
	magic    = [8]byte{'O', 'X', 'V', 'E', 'C', 'I', 'D', 'X'}
	endMagic = [8]byte{'O', 'X', 'V', 'E', 'C', 'E', 'N', 'D'}
	castagno = crc32.MakeTable(crc32.Castagnoli)
)

type entry struct {
	tag    string
	offset int64
	length int64
	crc    uint32
}

// Writer streams sections into the container. Call Section for each section,
// then Close to write the table and trailer. Errors are sticky.
type Writer struct {
	w       *bufio.Writer
	off     int64
	entries []entry
	err     error
}

// NewWriter writes the header for an index of the given type name.
func NewWriter(w io.Writer, kind string) (*Writer, error) {
	if len(kind) == 0 || len(kind) > kindLen {
		return nil, fmt.Errorf("%w: index type name %q must be 1..%d bytes", errs.InvalidArgument, kind, kindLen)
	}
	fw := &Writer{w: bufio.NewWriterSize(w, 1<<20)}
	var h [headerSize]byte
	copy(h[0:8], magic[:])
	binary.LittleEndian.PutUint32(h[8:12], Version)
	copy(h[16:48], kind)
	binary.LittleEndian.PutUint32(h[60:64], crc32.Checksum(h[:60], castagno))
	fw.write(h[:])
	return fw, fw.err
}

func (fw *Writer) write(b []byte) {
	if fw.err != nil {
		return
	}
	n, err := fw.w.Write(b)
	fw.off += int64(n)
	if err != nil {
		fw.err = fmt.Errorf("%w: %v", errs.IO, err)
	}
}

func (fw *Writer) pad() {
	if r := fw.off % align; r != 0 {
		fw.write(make([]byte, align-r))
	}
}

// sectionWriter counts and checksums what a section writes.
type sectionWriter struct {
	fw  *Writer
	crc hash.Hash32
	n   int64
}

func (s *sectionWriter) Write(b []byte) (int, error) {
	s.fw.write(b)
	if s.fw.err != nil {
		return 0, s.fw.err
	}
	s.crc.Write(b)
	s.n += int64(len(b))
	return len(b), nil
}

// Section starts a section with the given tag at the next 64-byte boundary
// and lets fill write its bytes.
func (fw *Writer) Section(tag string, fill func(w io.Writer) error) error {
	if fw.err != nil {
		return fw.err
	}
	if len(tag) == 0 || len(tag) > tagLen {
		return fmt.Errorf("%w: section tag %q must be 1..%d bytes", errs.InvalidArgument, tag, tagLen)
	}
	fw.pad()
	sw := &sectionWriter{fw: fw, crc: crc32.New(castagno)}
	start := fw.off
	if err := fill(sw); err != nil && fw.err == nil {
		fw.err = err
	}
	fw.entries = append(fw.entries, entry{tag: tag, offset: start, length: sw.n, crc: sw.crc.Sum32()})
	return fw.err
}

// Bytes adds a section holding b.
func (fw *Writer) Bytes(tag string, b []byte) error {
	return fw.Section(tag, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// Close writes the section table and the trailer and flushes.
func (fw *Writer) Close() error {
	fw.pad()
	tableOff := fw.off
	table := make([]byte, entrySize*len(fw.entries))
	for i, e := range fw.entries {
		b := table[i*entrySize:]
		copy(b[0:tagLen], e.tag)
		binary.LittleEndian.PutUint64(b[16:24], uint64(e.offset))
		binary.LittleEndian.PutUint64(b[24:32], uint64(e.length))
		binary.LittleEndian.PutUint32(b[32:36], e.crc)
	}
	fw.write(table)
	var t [trailerLen]byte
	binary.LittleEndian.PutUint64(t[0:8], uint64(tableOff))
	binary.LittleEndian.PutUint32(t[8:12], uint32(len(fw.entries)))
	binary.LittleEndian.PutUint32(t[12:16], crc32.Checksum(table, castagno))
	binary.LittleEndian.PutUint64(t[16:24], uint64(fw.off+trailerLen))
	copy(t[24:32], endMagic[:])
	fw.write(t[:])
	if fw.err == nil {
		if err := fw.w.Flush(); err != nil {
			fw.err = fmt.Errorf("%w: %v", errs.IO, err)
		}
	}
	return fw.err
}
