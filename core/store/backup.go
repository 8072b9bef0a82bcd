package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
)

// A backup is a directory holding copies of a store's snapshots and WAL
// segments (both immutable once written: the live segment is rotated
// first) and BACKUP.json, which lists every file with its SHA-256, the
// snapshots with their sequence numbers and times, and the store's
// configuration. An incremental backup into the same directory copies only
// files it does not hold yet, so it keeps every older snapshot and segment:
// the history that point-in-time restore replays.

const backupManifestName = "BACKUP.json"

type backupFile struct {
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

type backupSnap struct {
	Name string `json:"name"`
	Seq  uint64 `json:"seq"`
	Time int64  `json:"time"`
}

// backupSeg is a WAL segment of a backup and the changes it holds.
type backupSeg struct {
	Start uint64 `json:"start"`
	End   uint64 `json:"end"`
}

type backupManifest struct {
	Format    int                   `json:"format"`
	Store     manifest              `json:"store"` // config and encryption of the store
	Files     map[string]backupFile `json:"files"`
	Snapshots []backupSnap          `json:"snapshots"`
	Segments  []backupSeg           `json:"segments"`
	LastSeq   uint64                `json:"last_seq"`
	LastTime  int64                 `json:"last_time"`
	Updated   string                `json:"updated"`
}

// BackupInfo says what a backup call did.
type BackupInfo struct {
	Copied, Kept int
	LastSeq      uint64
}

// Backup copies the store into dir: everything the first time (or when
// incremental is false, which empties dir first), then only what changed.
// Writers wait while it runs.
func (s *Store) Backup(dir string, incremental bool) (*BackupInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return nil, err
	}
	if _, err := s.rotateWAL(); err != nil { // every segment but the new one is final
		return nil, err
	}
	bm := &backupManifest{Format: 1, Files: map[string]backupFile{}}
	if incremental {
		if raw, err := os.ReadFile(filepath.Join(dir, backupManifestName)); err == nil {
			if err := json.Unmarshal(raw, bm); err != nil {
				return nil, fmt.Errorf("%w: %s: %v", errs.Corrupt, backupManifestName, err)
			}
			if bm.Store.ID != s.man.ID {
				return nil, fmt.Errorf("%w: %s holds a backup of another store", errs.InvalidArgument, dir)
			}
		}
	} else {
		os.RemoveAll(dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%w: %v", errs.IO, err)
	}
	bm.Store = s.man
	info := &BackupInfo{LastSeq: s.lastSeq}
	var names []string
	if s.man.Snapshot != "" {
		names = append(names, filepath.Join(s.man.Snapshot, "index.zst"), filepath.Join(s.man.Snapshot, "records.zst"))
		if !hasSnap(bm.Snapshots, s.man.Snapshot) {
			bm.Snapshots = append(bm.Snapshots, backupSnap{s.man.Snapshot, s.man.SnapshotSeq, s.man.SnapshotTime})
		}
	}
	segs, err := segments(s.dir)
	if err != nil {
		return nil, err
	}
	// segments in the store are contiguous: each ends where the next starts
	for i, start := range segs {
		if start >= s.wal.start { // the live segment (empty after rotation)
			continue
		}
		end := s.wal.start - 1
		if i+1 < len(segs) {
			end = segs[i+1] - 1
		}
		names = append(names, segmentName(start))
		if !hasSeg(bm.Segments, start) {
			bm.Segments = append(bm.Segments, backupSeg{start, end})
		}
	}
	for _, n := range names {
		if _, ok := bm.Files[n]; ok {
			info.Kept++
			continue
		}
		f, err := copyFile(filepath.Join(s.dir, n), filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		bm.Files[n] = f
		info.Copied++
	}
	sort.Slice(bm.Segments, func(i, j int) bool { return bm.Segments[i].Start < bm.Segments[j].Start })
	bm.LastSeq, bm.LastTime = s.lastSeq, s.lastTime
	bm.Updated = time.Now().UTC().Format(time.RFC3339)
	b, _ := json.MarshalIndent(bm, "", " ")
	if err := writeFileSync(filepath.Join(dir, backupManifestName), b); err != nil {
		return nil, err
	}
	return info, syncDir(dir)
}

func hasSnap(list []backupSnap, name string) bool {
	for _, x := range list {
		if x.Name == name {
			return true
		}
	}
	return false
}

func hasSeg(list []backupSeg, start uint64) bool {
	for _, x := range list {
		if x.Start == start {
			return true
		}
	}
	return false
}

// copyFile copies src to dst (fsync'd) and returns dst's checksum.
func copyFile(src, dst string) (backupFile, error) {
	in, err := os.Open(src)
	if err != nil {
		return backupFile{}, fmt.Errorf("%w: %v", errs.IO, err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return backupFile{}, fmt.Errorf("%w: %v", errs.IO, err)
	}
	out, err := os.OpenFile(dst+".tmp", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return backupFile{}, fmt.Errorf("%w: %v", errs.IO, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(dst+".tmp", dst)
	}
	if err != nil {
		return backupFile{}, fmt.Errorf("%w: copying %s: %v", errs.IO, src, err)
	}
	return backupFile{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// writeFileSync replaces path with b atomically (format.WriteBytes).
func writeFileSync(path string, b []byte) error { return format.WriteBytes(path, b) }

func sha256File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Restore builds a new store at path from the backup in dir, as it was
// after the change until names (nil: the latest backed-up change). Every
// file used is checked against its SHA-256 first.
//
// A point is restorable when a snapshot at or before it is in the backup
// and the WAL from that snapshot up to the point is too. Changes that a
// snapshot folded away between two backups are only restorable as that
// snapshot: back up more often than snapshots are taken to keep every point.
func Restore(dir, path string, until *Until, key []byte) error {
	raw, err := os.ReadFile(filepath.Join(dir, backupManifestName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s holds no backup (%s is missing)", errs.NotFound, dir, backupManifestName)
		}
		return fmt.Errorf("%w: %v", errs.IO, err)
	}
	var bm backupManifest
	if err := json.Unmarshal(raw, &bm); err != nil || bm.Format != 1 {
		return fmt.Errorf("%w: %s is not an oxvec backup manifest", errs.Corrupt, backupManifestName)
	}
	if ents, err := os.ReadDir(path); err == nil && len(ents) > 0 {
		return fmt.Errorf("%w: %s is not empty; restore into a new directory", errs.InvalidArgument, path)
	}
	if until == nil {
		until = &Until{Seq: bm.LastSeq}
	}
	if until.Seq > bm.LastSeq {
		return fmt.Errorf("%w: the backup ends at change %d; cannot restore to change %d", errs.InvalidArgument, bm.LastSeq, until.Seq)
	}
	// the newest snapshot at or before the target
	var snap *backupSnap
	for i := range bm.Snapshots {
		x := &bm.Snapshots[i]
		if (until.Seq > 0 && x.Seq > until.Seq) || (until.Seq == 0 && x.Time > until.Time) {
			continue
		}
		if snap == nil || x.Seq > snap.Seq {
			snap = x
		}
	}
	var files []string
	next := uint64(1) // the first change the WAL must supply
	if snap != nil {
		next = snap.Seq + 1
		files = append(files, filepath.Join(snap.Name, "index.zst"), filepath.Join(snap.Name, "records.zst"))
	}
	// the chain of segments that continues the snapshot without a gap
	for _, g := range bm.Segments {
		if g.Start <= next && g.End >= next {
			files = append(files, segmentName(g.Start))
			next = g.End + 1
		}
	}
	chainEnd := next - 1
	if until.Seq > chainEnd {
		return fmt.Errorf("%w: the backup cannot restore to change %d: it holds the history only up to change %d from the nearest earlier snapshot (later changes were folded into a snapshot between backups); %s",
			errs.InvalidArgument, until.Seq, chainEnd, restorable(&bm))
	}
	var bad []string
	for _, f := range files {
		want, ok := bm.Files[f]
		got, err := sha256File(filepath.Join(dir, f))
		if !ok || err != nil || got != want.SHA256 {
			bad = append(bad, f)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: backup files missing or changed since the backup (SHA-256 mismatch): %v", errs.Corrupt, bad)
	}
	if err := restoreFiles(dir, path, files, bm.Store, snap); err != nil {
		os.RemoveAll(path)
		return err
	}
	s, err := Open(path, Options{Key: key, Until: until, SnapshotEvery: -1})
	if err != nil {
		os.RemoveAll(path)
		return err
	}
	if until.Seq == 0 && s.LastSeq() == chainEnd && chainEnd < bm.LastSeq {
		// replay ran out of WAL before passing the time: changes in the gap
		// may belong before it
		s.Close()
		os.RemoveAll(path)
		return fmt.Errorf("%w: the backup cannot restore to that time: the changes after %d were folded into a snapshot between backups and their times are unknown; %s",
			errs.InvalidArgument, chainEnd, restorable(&bm))
	}
	return s.Close()
}

func restoreFiles(dir, path string, files []string, man manifest, snap *backupSnap) error {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return fmt.Errorf("%w: %v", errs.IO, err)
	}
	for _, f := range files {
		if _, err := copyFile(filepath.Join(dir, f), filepath.Join(path, f)); err != nil {
			return err
		}
	}
	man.Snapshot, man.SnapshotSeq, man.SnapshotTime = "", 0, 0
	if snap != nil {
		man.Snapshot, man.SnapshotSeq, man.SnapshotTime = snap.Name, snap.Seq, snap.Time
	}
	// the restored directory holds what the backup chose: no segment list
	// to check it against, and no clean close (replay decides the end)
	man.Segments, man.Closed = nil, nil
	return writeFileSync(filepath.Join(path, manifestName), encodeManifest(man))
}

// restorable describes the points a backup can restore to.
func restorable(bm *backupManifest) string {
	var parts []string
	for _, x := range bm.Snapshots {
		end := x.Seq
		for _, g := range bm.Segments {
			if g.Start <= end+1 && g.End > end {
				end = g.End
			}
		}
		if end == x.Seq {
			parts = append(parts, fmt.Sprintf("change %d (a snapshot)", x.Seq))
		} else {
			parts = append(parts, fmt.Sprintf("changes %d to %d", x.Seq, end))
		}
	}
	end := uint64(0)
	for _, g := range bm.Segments {
		if g.Start <= end+1 && g.End > end {
			end = g.End
		}
	}
	if end > 0 {
		parts = append([]string{fmt.Sprintf("changes 0 to %d", end)}, parts...)
	}
	return "restorable: " + strings.Join(parts, ", ")
}
