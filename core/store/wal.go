package store

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
)

// A WAL record on disk:
//
//	[0:4)   payload length (uint32, little-endian)
//	[4:8)   CRC-32C of bytes [8:16+length)
//	[8:16)  sequence number (uint64)
//	[16:)   payload (sealed with the sequence number as associated data
//	        when the store is encrypted)
const walHeader = 16

// maxRecord bounds one record (and so one batch): 1 GiB.
const maxRecord = 1 << 30

// segmentChunk: a segment file is allocated (sparse) in whole chunks
// before records are written into it, as etcd preallocates its segments.
// A crash can tear the last record - it is then followed by zeros - but
// cannot make the file shorter, so a segment whose size is not a whole
// number of chunks, or whose records run past its end, was cut: damage,
// never a torn write. Zeros after the last record are the unused rest.
const segmentChunk = 64 << 10

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Durability says when an acknowledged change is on stable storage.
type Durability int

const (
	// Always: fsync'd before the call returns (group-committed).
	Always Durability = iota
	// Interval: fsync'd by a background flush at most Interval later; a
	// crash can lose the changes of that window.
	Interval
	// Never: the operating system writes when it likes; a crash of the
	// machine (not of the process) can lose recent changes.
	Never
)

// ParseDurability reads "always", "interval" or "never".
func ParseDurability(s string) (Durability, error) {
	switch strings.ToLower(s) {
	case "", "always":
		return Always, nil
	case "interval":
		return Interval, nil
	case "never":
		return Never, nil
	}
	return 0, fmt.Errorf("%w: durability must be \"always\", \"interval\" or \"never\", got %q", errs.InvalidArgument, s)
}

func segmentName(start uint64) string { return fmt.Sprintf("wal-%020d.log", start) }

// segments lists the WAL segments of dir by their first sequence number.
func segments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errs.IO, err)
	}
	var out []uint64
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "wal-") && strings.HasSuffix(n, ".log") {
			if v, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(n, "wal-"), ".log"), 10, 64); err == nil {
				out = append(out, v)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// wal appends records to the current segment and makes them durable.
type wal struct {
	dir  string
	seal *sealer
	mode Durability

	mu       sync.Mutex // appends and rotation
	f        *os.File
	off      int64  // where the next record goes in the current segment
	size     int64  // the segment's allocated size, a multiple of segmentChunk
	start    uint64 // first sequence number of the current segment
	next     uint64 // sequence number of the next record
	appended uint64 // last sequence number written

	syncMu sync.Mutex
	synced atomic.Uint64 // last sequence number known durable
	syncs  atomic.Int64  // fsyncs done by committers (tests see group commit)

	stop chan struct{}
	done chan struct{}
	err  atomic.Value // a background flush error, reported by the next commit
	// broken is why the log stopped taking records (a failed write or
	// rotation), reported by every later append instead of "closed"
	broken error
}

// openWAL starts appending at sequence number next, in a new segment (an
// existing segment is never appended to: its tail may be torn).
func openWAL(dir string, next uint64, seal *sealer, mode Durability, every time.Duration) (*wal, error) {
	w := &wal{dir: dir, seal: seal, mode: mode, next: next, appended: next - 1}
	w.synced.Store(next - 1)
	if err := w.newSegment(); err != nil {
		return nil, err
	}
	if mode == Interval {
		w.stop, w.done = make(chan struct{}), make(chan struct{})
		go w.flushEvery(every)
	}
	return w, nil
}

func (w *wal) newSegment() error {
	path := filepath.Join(w.dir, segmentName(w.next))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("%w: creating %s: %v", errs.IO, path, err)
	}
	// the first chunk is allocated and durable before the manifest lists
	// the segment, so a listed segment is never shorter than a chunk
	if err := f.Truncate(segmentChunk); err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("%w: allocating %s: %v", errs.IO, path, err)
	}
	if err := syncDir(w.dir); err != nil {
		f.Close()
		return err
	}
	w.f, w.start, w.off, w.size = f, w.next, 0, segmentChunk
	return nil
}

// append writes one record and returns its sequence number. The record is
// durable only after commit(seq).
func (w *wal) append(payload []byte) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return 0, w.gone()
	}
	seq := w.next
	var seqb [8]byte
	binary.LittleEndian.PutUint64(seqb[:], seq)
	body := w.seal.seal(payload, seqb[:])
	if len(body) > maxRecord {
		return 0, fmt.Errorf("%w: a batch of %d bytes exceeds the %d-byte WAL record limit; split it", errs.InvalidArgument, len(body), maxRecord)
	}
	rec := make([]byte, walHeader+len(body))
	binary.LittleEndian.PutUint32(rec[0:4], uint32(len(body)))
	binary.LittleEndian.PutUint64(rec[8:16], seq)
	copy(rec[16:], body)
	binary.LittleEndian.PutUint32(rec[4:8], crc32.Checksum(rec[8:], castagnoli))
	err := error(nil)
	if end := w.off + int64(len(rec)); end > w.size {
		// grow by whole chunks before writing: the record's fsync makes the
		// new size durable with it
		grown := (end + segmentChunk - 1) / segmentChunk * segmentChunk
		if err = w.f.Truncate(grown); err == nil {
			w.size = grown
		}
	}
	if err == nil {
		_, err = w.f.WriteAt(rec, w.off)
	}
	if err != nil {
		// the file may now end in part of a record: later records would
		// follow garbage, so this log is finished
		w.f.Close()
		w.f = nil
		w.broken = fmt.Errorf("%w: writing the WAL: %v", errs.IO, err)
		return 0, w.broken
	}
	w.off += int64(len(rec))
	w.next++
	w.appended = seq
	return seq, nil
}

// commit returns once record seq is as durable as the mode promises.
func (w *wal) commit(seq uint64) error {
	if e, _ := w.err.Load().(error); e != nil {
		return e
	}
	if w.mode != Always {
		return nil
	}
	return w.syncTo(seq)
}

// syncTo fsyncs up to seq. Concurrent committers share one fsync: whoever
// gets syncMu first syncs everything appended so far.
func (w *wal) syncTo(seq uint64) error {
	if w.synced.Load() >= seq {
		return nil
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if w.synced.Load() >= seq {
		return nil
	}
	w.mu.Lock()
	f, upto := w.f, w.appended
	w.mu.Unlock()
	if f == nil {
		return fmt.Errorf("%w: the WAL is closed", errs.IO)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("%w: fsync of the WAL: %v", errs.IO, err)
	}
	w.syncs.Add(1)
	w.synced.Store(upto)
	return nil
}

func (w *wal) flushEvery(every time.Duration) {
	defer close(w.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.mu.Lock()
			upto := w.appended
			w.mu.Unlock()
			if err := w.syncTo(upto); err != nil {
				w.err.Store(err)
			}
		}
	}
}

// rotate makes everything appended durable and starts a new segment at the
// next sequence number, which it returns.
func (w *wal) rotate() (uint64, error) {
	w.syncMu.Lock() // lock order: syncMu, then mu (as in syncTo)
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return 0, w.gone()
	}
	if err := w.f.Sync(); err != nil {
		return 0, fmt.Errorf("%w: fsync of the WAL: %v", errs.IO, err)
	}
	w.synced.Store(w.appended)
	err := w.f.Close()
	w.f = nil
	if err == nil {
		err = w.newSegment()
	} else {
		err = fmt.Errorf("%w: closing a WAL segment: %v", errs.IO, err)
	}
	if err != nil {
		w.broken = err
		return 0, err
	}
	return w.next, nil
}

// gone is the error of a call on a log without a file: why it broke, or
// that it was closed.
func (w *wal) gone() error {
	if w.broken != nil {
		return w.broken
	}
	return errs.Closed
}

func (w *wal) close() error {
	if w.stop != nil {
		close(w.stop)
		<-w.done
		w.stop = nil
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Sync()
	if err == nil {
		w.synced.Store(w.appended) // committers still waiting are done
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	if err != nil {
		return fmt.Errorf("%w: closing the WAL: %v", errs.IO, err)
	}
	return nil
}

// walRecord is one record read back.
type walRecord struct {
	seq     uint64
	payload []byte
	off     int64 // where the record starts in its segment
}

// segmentScan is what reading one segment found.
type segmentScan struct {
	records  []walRecord
	validEnd int64 // offset after the last good record
	size     int64
	damage   string // why reading stopped before the end, or ""
	damageAt int64
	// later: whether a valid record follows the damage (then it is not a
	// torn tail but damage in the middle)
	later bool
	// pastEnd: the damage is a record or header running past the end of
	// the file; in a chunked segment only a cut can do that
	pastEnd bool
	// dataEnd: after the last byte that is not zero (what quarantine keeps)
	dataEnd int64
}

// readSegment reads records until the end or the first bad one.
func readSegment(path string, seal *sealer, firstSeq uint64) (*segmentScan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %v", errs.IO, path, err)
	}
	return scanSegment(data, seal, firstSeq, filepath.Base(path))
}

// scanSegment reads the records of a segment's bytes.
func scanSegment(data []byte, seal *sealer, firstSeq uint64, name string) (*segmentScan, error) {
	sc := &segmentScan{size: int64(len(data))}
	off := int64(0)
	expect := firstSeq
	sc.dataEnd = int64(len(data))
	for sc.dataEnd > 0 && data[sc.dataEnd-1] == 0 {
		sc.dataEnd--
	}
	for off < int64(len(data)) {
		if off >= sc.dataEnd {
			break // only the zeros of the unused allocation remain
		}
		rec, n, why := decodeRecord(data[off:], expect)
		if why != "" {
			sc.damage, sc.damageAt = why, off
			sc.later = validRecordAfter(data, off+1)
			sc.pastEnd = why == "header cut short" || why == "record cut short"
			break
		}
		payload, err := seal.open(rec.payload, seqBytes(rec.seq))
		if err != nil {
			return nil, fmt.Errorf("%w (WAL record %d in %s)", err, rec.seq, name)
		}
		rec.payload, rec.off = payload, off
		sc.records = append(sc.records, rec)
		off += n
		expect++
	}
	sc.validEnd = off
	return sc, nil
}

func seqBytes(seq uint64) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seq)
	return b[:]
}

// decodeRecord checks one record at the start of b; why says what is wrong.
func decodeRecord(b []byte, expect uint64) (walRecord, int64, string) {
	if len(b) < walHeader {
		return walRecord{}, 0, "header cut short"
	}
	n := int64(binary.LittleEndian.Uint32(b[0:4]))
	if n > maxRecord || walHeader+n > int64(len(b)) {
		return walRecord{}, 0, "record cut short"
	}
	if binary.LittleEndian.Uint32(b[4:8]) != crc32.Checksum(b[8:walHeader+n], castagnoli) {
		return walRecord{}, 0, "checksum mismatch"
	}
	seq := binary.LittleEndian.Uint64(b[8:16])
	if seq != expect {
		return walRecord{}, 0, fmt.Sprintf("sequence %d where %d was expected", seq, expect)
	}
	return walRecord{seq: seq, payload: b[walHeader : walHeader+n]}, walHeader + n, ""
}

// validRecordAfter reports whether any offset after from starts a record
// with a correct checksum: then the damage is not a torn tail.
func validRecordAfter(data []byte, from int64) bool {
	for off := from; off+walHeader <= int64(len(data)); off++ {
		n := int64(binary.LittleEndian.Uint32(data[off : off+4]))
		if n == 0 || n > maxRecord || off+walHeader+n > int64(len(data)) {
			continue
		}
		if binary.LittleEndian.Uint32(data[off+4:off+8]) == crc32.Checksum(data[off+8:off+walHeader+n], castagnoli) {
			return true
		}
	}
	return false
}

// syncDir fsyncs a directory, making creations and renames in it durable.
func syncDir(dir string) error { return format.SyncDir(dir) }
