package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

// Recovery rules (docs/store.md, "Recovery"):
//
//   - A torn tail - the end of the last segment cut or garbled, no valid
//     record after it - is what a crash in the middle of a write leaves. If
//     the store was not closed cleanly, an open repairs it: the bytes it
//     cannot read move to a quarantine file beside the log (never deleted)
//     and the open reports it.
//   - After a clean close (recorded in the manifest) the WAL must replay to
//     exactly the change the close recorded: a damaged end is corruption.
//   - Damage followed by valid records, a gap in the sequence, a record
//     that does not decode and a segment the manifest lists but the
//     directory lacks are corruption too.
//
// Corruption refuses the open with a RecoveryError unless the caller asks
// for RecoverPointInTime, which opens with every change before the damage
// and quarantines the rest. RecoverStrict treats a torn tail as corruption
// as well.

// RecoveryMode says what an open does about WAL damage.
type RecoveryMode int

const (
	// RecoverAuto repairs a torn tail after a crash; other damage is an error.
	RecoverAuto RecoveryMode = iota
	// RecoverPointInTime opens at the last intact change before any damage
	// and quarantines everything after it.
	RecoverPointInTime
	// RecoverStrict refuses any damage, a torn tail included.
	RecoverStrict
)

var recoveryNames = [...]string{"auto", "point_in_time", "strict"}

func (m RecoveryMode) String() string { return recoveryNames[m] }

// ParseRecovery reads "auto" (or ""), "point_in_time" or "strict".
func ParseRecovery(s string) (RecoveryMode, error) {
	if s == "" {
		return RecoverAuto, nil
	}
	for i, n := range recoveryNames {
		if s == n {
			return RecoveryMode(i), nil
		}
	}
	return 0, fmt.Errorf("%w: recovery must be \"auto\", \"point_in_time\" or \"strict\", got %q", errs.InvalidArgument, s)
}

// Recovery reports what the last open found and did. It is part of Info.
type Recovery struct {
	Mode       string `json:"mode"`
	CleanClose bool   `json:"clean_close"` // the previous writer closed the store cleanly
	Replayed   int    `json:"replayed"`    // WAL records applied after the snapshot
	// Quarantined lists the WAL bytes the open could not use, moved aside
	// (left in place by a read-only open: then File is empty).
	Quarantined []Quarantined `json:"quarantined,omitempty"`
	// NotReplayed says why a read-only open stopped replaying early.
	NotReplayed string `json:"not_replayed,omitempty"`
}

// Quarantined is one run of WAL bytes set aside by recovery.
type Quarantined struct {
	Segment string `json:"segment"`
	Offset  int64  `json:"offset"`
	Bytes   int64  `json:"bytes"`
	File    string `json:"file,omitempty"`
	Reason  string `json:"reason"`
}

// RecoveryError reports WAL damage that the open will not repair by itself.
type RecoveryError struct {
	Segment  string
	Offset   int64
	Reason   string
	LastGood uint64 // last sequence number applied
	// Lost describes the changes the damage affects.
	Lost string
}

func (e *RecoveryError) Error() string {
	return fmt.Sprintf("%v: the WAL is damaged: %s at byte %d of %s. The store holds every change up to %d intact; %s. Nothing was changed on disk. Restore from a backup (oxvec.restore), or open with recovery=\"point_in_time\" to keep the changes up to %d and move the rest to quarantine files",
		errs.Corrupt, e.Reason, e.Offset, e.Segment, e.LastGood, e.Lost, e.LastGood)
}

func (e *RecoveryError) Unwrap() error { return errs.Corrupt }

// damage is where replay stopped before the end of the WAL.
type damage struct {
	seg    int // index into the segment list
	off    int64
	reason string
	// torn: the end of the last segment, nothing valid after it
	torn bool
	// unapplied: a read-only open could not apply the change there
	unapplied bool
}

// recover loads the snapshot and replays the WAL after it, applying the
// rules above, then (unless read-only) opens a new WAL segment and records
// in the manifest that the store is open.
func (s *Store) recover() error {
	if err := s.loadBase(); err != nil {
		return err
	}
	s.lastSeq, s.lastTime = s.man.SnapshotSeq, s.man.SnapshotTime
	s.report = Recovery{Mode: s.opts.Recovery.String(), CleanClose: s.man.Closed != nil}
	segs, err := segments(s.dir)
	if err != nil {
		return err
	}
	usable, err := s.usableSegments(segs)
	if err != nil {
		return err
	}
	d, err := s.replay(usable)
	if err != nil {
		return err
	}
	if d == nil && s.man.Closed != nil && s.opts.Until == nil && s.lastSeq != s.man.Closed.Seq {
		last := len(usable) - 1
		d = &damage{seg: last, reason: fmt.Sprintf("the WAL ends at change %d, but the store was closed cleanly after change %d", s.lastSeq, s.man.Closed.Seq)}
		if last >= 0 {
			st, _ := os.Stat(filepath.Join(s.dir, segmentName(usable[last])))
			if st != nil {
				d.off = st.Size()
			}
		}
	}
	if d != nil {
		if err := s.resolve(usable, d); err != nil {
			return err
		}
	}
	if s.opts.ReadOnly {
		return nil
	}
	return s.reopenWAL(segs)
}

// replay applies every WAL record after the snapshot and returns the first
// damage it met (nil: none).
func (s *Store) replay(segs []uint64) (*damage, error) {
	stopped := false // by Until
	for i, start := range segs {
		if i+1 < len(segs) && segs[i+1] <= s.lastSeq+1 {
			continue // wholly inside the snapshot: cleanup removes it
		}
		name := segmentName(start)
		sc, err := readSegment(filepath.Join(s.dir, name), s.seal, start)
		if err != nil {
			return nil, err
		}
		for _, rec := range sc.records {
			if rec.seq <= s.lastSeq || stopped {
				continue
			}
			if rec.seq != s.lastSeq+1 {
				return &damage{seg: i, off: rec.off, reason: fmt.Sprintf("the WAL jumps from change %d to %d (a segment is missing)", s.lastSeq, rec.seq)}, nil
			}
			c, err := decodeChange(rec.payload, s.cfg.Dim)
			if err != nil {
				return &damage{seg: i, off: rec.off, reason: fmt.Sprintf("change %d does not decode (%v)", rec.seq, err)}, nil
			}
			if s.opts.Until.stops(rec.seq, c.time) {
				stopped = true
				continue
			}
			if err := s.apply(context.Background(), c); err != nil {
				if !s.opts.ReadOnly {
					return nil, fmt.Errorf("replaying change %d of %s: %w", rec.seq, name, err)
				}
				return &damage{seg: i, off: rec.off, reason: fmt.Sprintf("change %d cannot be applied (%v)", rec.seq, err), unapplied: true}, nil
			}
			s.lastSeq, s.lastTime = rec.seq, c.time
			s.walSize += int64(walHeader + len(rec.payload))
			s.report.Replayed++
		}
		// a segment the manifest lists was allocated in whole chunks: one
		// that is not, or whose records run past its end, was cut
		cut := s.listed(start) && (sc.size == 0 || sc.size%segmentChunk != 0)
		if sc.damage != "" {
			d := &damage{seg: i, off: sc.damageAt, reason: sc.damage}
			d.torn = i == len(segs)-1 && !sc.later && !(s.listed(start) && sc.pastEnd) && !cut
			switch {
			case sc.later:
				d.reason += " and valid records follow it"
			case cut || (s.listed(start) && sc.pastEnd):
				d.reason += fmt.Sprintf(" (the file is %d bytes: it was cut short)", sc.size)
			}
			return d, nil
		}
		if cut {
			return &damage{seg: i, off: sc.size, reason: fmt.Sprintf("the segment is %d bytes, not a whole number of %d-byte chunks: it was cut short", sc.size, segmentChunk)}, nil
		}
	}
	return nil, nil
}

// listed reports whether the manifest lists the segment starting at start.
func (s *Store) listed(start uint64) bool {
	for _, v := range s.man.Segments {
		if v == start {
			return true
		}
	}
	return false
}

// resolve decides what damage d means under the open's mode: repaired (the
// unreadable bytes quarantined) or a RecoveryError.
func (s *Store) resolve(segs []uint64, d *damage) error {
	mode := s.opts.Recovery
	// a read-only open reports what it cannot apply rather than fail
	repair := mode == RecoverPointInTime || (mode == RecoverAuto && d.torn && s.man.Closed == nil) || d.unapplied
	if !repair {
		lost := "the changes after it cannot be replayed"
		if s.man.Closed != nil {
			lost = fmt.Sprintf("the store was closed cleanly after change %d, so changes %d to %d are affected", s.man.Closed.Seq, s.lastSeq+1, s.man.Closed.Seq)
		}
		if later := len(segs) - 1 - d.seg; later > 0 {
			lost += fmt.Sprintf(", and %d later segment(s)", later)
		}
		name := "the WAL"
		if d.seg >= 0 && d.seg < len(segs) {
			name = segmentName(segs[d.seg])
		}
		return &RecoveryError{Segment: name, Offset: d.off, Reason: d.reason, LastGood: s.lastSeq, Lost: lost}
	}
	if d.seg < 0 {
		return nil // no segment at all: nothing to set aside
	}
	if s.opts.ReadOnly {
		s.report.NotReplayed = fmt.Sprintf("%s at byte %d of %s", d.reason, d.off, segmentName(segs[d.seg]))
	}
	// set aside what follows the damage: the rest of its segment, then
	// every later segment whole
	for i := d.seg; i < len(segs); i++ {
		off := int64(0)
		if i == d.seg {
			off = d.off
		}
		if err := s.quarantine(segs[i], off, d.reason); err != nil {
			return err
		}
	}
	return nil
}

// quarantine moves the bytes of a segment from off to its end into a file
// beside it (named after the segment and the offset), then cuts the segment
// there. A read-only open only reports them.
func (s *Store) quarantine(start uint64, off int64, reason string) error {
	name := segmentName(start)
	path := filepath.Join(s.dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: reading %s: %v", errs.IO, path, err)
	}
	end := int64(len(data))
	for end > off && data[end-1] == 0 {
		end-- // the unused rest of the allocation is not worth keeping
	}
	if off >= end {
		return nil
	}
	q := Quarantined{Segment: name, Offset: off, Bytes: end - off, Reason: reason}
	if !s.opts.ReadOnly {
		q.File = quarantineName(s.dir, name, off)
		if err := writeFileSync(filepath.Join(s.dir, q.File), data[off:end]); err != nil {
			return err
		}
		if err := clearFrom(path, off, end); err != nil {
			return err
		}
	}
	s.report.Quarantined = append(s.report.Quarantined, q)
	return nil
}

// quarantineName is a name for the bytes of segment from off that no file
// in dir has yet.
func quarantineName(dir, segment string, off int64) string {
	base := fmt.Sprintf("%s.at-%d", segment, off)
	name := base + ".quarantine"
	for i := 1; ; i++ {
		if _, err := os.Lstat(filepath.Join(dir, name)); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s.%d.quarantine", base, i)
	}
}

// clearFrom zeroes bytes [off, end) of a segment, durably: what a
// segment holds after its last record, so the file keeps its size.
func clearFrom(path string, off, end int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err == nil {
		if _, err = f.WriteAt(make([]byte, end-off), off); err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("%w: clearing %s from byte %d: %v", errs.IO, path, off, err)
	}
	return nil
}

// usableSegments refuses an open when a segment the manifest lists is
// missing. With RecoverPointInTime it returns the segments before the
// first missing one instead, and sets aside every later one.
func (s *Store) usableSegments(segs []uint64) ([]uint64, error) {
	have := make(map[uint64]bool, len(segs))
	for _, v := range segs {
		have[v] = true
	}
	var missing []string
	first := uint64(0)
	for _, v := range s.man.Segments {
		if !have[v] {
			if missing == nil {
				first = v
			}
			missing = append(missing, segmentName(v))
		}
	}
	if missing == nil {
		return segs, nil
	}
	if s.opts.Recovery != RecoverPointInTime {
		return nil, fmt.Errorf("%w: %s lists WAL segment(s) %s, which the directory does not hold: the changes from %d on are missing. Restore from a backup (oxvec.restore), or open with recovery=\"point_in_time\" to keep the changes before them",
			errs.Corrupt, manifestName, strings.Join(missing, ", "), first)
	}
	j := 0
	for j < len(segs) && segs[j] < first {
		j++
	}
	for _, v := range segs[j:] {
		if err := s.quarantine(v, 0, missing[0]+" is missing"); err != nil {
			return nil, err
		}
	}
	if s.opts.ReadOnly {
		s.report.NotReplayed = missing[0] + " is missing"
	}
	return segs[:j], nil
}

// reopenWAL starts a new segment, lists it and the segments still needed in
// the manifest (marking the store open: not cleanly closed), and only then
// removes what the manifest no longer names.
func (s *Store) reopenWAL(segs []uint64) error {
	var err error
	if s.opts.Until != nil {
		// a restore: later history is dropped for good
		for _, start := range segs {
			os.Remove(filepath.Join(s.dir, segmentName(start)))
		}
		segs = nil
	}
	keep := s.neededSegments(segs)
	if s.wal, err = openWAL(s.dir, s.lastSeq+1, s.seal, s.opts.Durability, s.opts.Interval); err != nil {
		return err
	}
	// listed are the segments in whole chunks; one of an older version
	// (or cut, and opened at a point in time) is kept but not listed
	s.man.Segments = nil
	for _, v := range keep {
		if st, err := os.Stat(filepath.Join(s.dir, segmentName(v))); err == nil && st.Size() > 0 && st.Size()%segmentChunk == 0 {
			s.man.Segments = append(s.man.Segments, v)
		}
	}
	s.man.Segments = append(s.man.Segments, s.wal.start)
	s.man.Closed = nil
	if err := s.writeManifest(); err != nil {
		s.wal.close()
		return err
	}
	s.cleanup(segs, keep)
	if s.opts.Until != nil {
		return s.snapshotLocked()
	}
	return nil
}

// neededSegments are the segments that hold changes after the snapshot.
func (s *Store) neededSegments(segs []uint64) []uint64 {
	var keep []uint64
	for i, start := range segs {
		covered := i+1 < len(segs) && segs[i+1] <= s.man.SnapshotSeq+1
		_, err := os.Stat(filepath.Join(s.dir, segmentName(start)))
		if err != nil || covered || start > s.lastSeq {
			continue // gone, inside the snapshot, or holding nothing applied
		}
		keep = append(keep, start)
	}
	return keep
}

// cleanup removes what a crash may have left - segments not kept (empty or
// inside the snapshot), unfinished snapshot directories, snapshots the
// manifest does not name - and never a quarantine file.
func (s *Store) cleanup(segs, keep []uint64) {
	kept := make(map[uint64]bool, len(keep))
	for _, v := range keep {
		kept[v] = true
	}
	for _, start := range segs {
		if !kept[start] && start != s.wal.start {
			os.Remove(filepath.Join(s.dir, segmentName(start)))
		}
	}
	ents, _ := os.ReadDir(s.dir)
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "snap-") && n != s.man.Snapshot {
			os.RemoveAll(filepath.Join(s.dir, n))
		}
		if n == manifestName+".tmp" || (strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp")) {
			os.Remove(filepath.Join(s.dir, n)) // an atomic write a crash interrupted
		}
	}
}
