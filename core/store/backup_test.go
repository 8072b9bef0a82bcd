package store

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

func keysOf(t *testing.T, s *Store) string {
	t.Helper()
	r, err := s.Get(nil, nil, nil, 0, 0, Include{})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(r.Keys)
}

func TestBackup_IncrementalKeepsHistoryForPointInTimeRestore(t *testing.T) {
	dir, bdir := t.TempDir(), filepath.Join(t.TempDir(), "bk")
	rng := rand.New(rand.NewSource(2))
	s := create(t, dir, Options{})
	defer s.Close()
	states := map[uint64]string{} // restorable sequence -> keys then
	mark := func() { states[s.LastSeq()] = keysOf(t, s) }
	backup := func() *BackupInfo {
		info, err := s.Backup(bdir, true)
		must(t, err)
		return info
	}
	must(t, s.Add(bg, batch(20, 0, rng))) // 1
	mark()
	backup()
	must(t, s.Add(bg, batch(5, 20, rng))) // 2: snapshotted away before the next backup
	must(t, s.Add(bg, batch(5, 25, rng))) // 3
	must(t, s.Snapshot())
	mark()
	must(t, s.Add(bg, batch(20, 30, rng))) // 4
	mark()
	_, err := s.Delete(bg, []string{"doc-3", "doc-25"}, nil, nil) // 5
	must(t, err)
	mark()
	backup()
	must(t, s.Add(bg, batch(5, 50, rng))) // 6
	mark()
	if info := backup(); info.Copied == 0 || info.Kept == 0 {
		t.Fatalf("an incremental backup copies new files and keeps old ones: %+v", info)
	}
	for seq, want := range states {
		out := filepath.Join(t.TempDir(), "r")
		if err := Restore(bdir, out, &Until{Seq: seq}, nil); err != nil {
			t.Fatalf("restore to %d: %v", seq, err)
		}
		r, err := Open(out, Options{})
		must(t, err)
		if got := keysOf(t, r); got != want || r.LastSeq() != seq {
			t.Fatalf("restore to change %d: got %d records at change %d", seq, r.Count(), r.LastSeq())
		}
		must(t, r.Add(bg, batch(1, 1000, rng))) // a restored store is a working store
		r.Close()
	}
	// change 2 was folded into the snapshot at 3 between backups
	err = Restore(bdir, filepath.Join(t.TempDir(), "r"), &Until{Seq: 2}, nil)
	if !errors.Is(err, errs.InvalidArgument) || !strings.Contains(err.Error(), "restorable: changes 0 to 1") {
		t.Fatalf("restore to a point the backup lacks: %v", err)
	}
	// no target: the latest backed-up state
	out := filepath.Join(t.TempDir(), "latest")
	must(t, Restore(bdir, out, nil, nil))
	r, err := Open(out, Options{})
	must(t, err)
	if keysOf(t, r) != states[6] {
		t.Fatal("restore without a target lost changes")
	}
	r.Close()
}

func TestBackup_RestoreByTime(t *testing.T) {
	dir, bdir := t.TempDir(), filepath.Join(t.TempDir(), "bk")
	rng := rand.New(rand.NewSource(3))
	s := create(t, dir, Options{})
	defer s.Close()
	must(t, s.Add(bg, batch(10, 0, rng)))
	want := keysOf(t, s)
	s.mu.RLock()
	at := s.lastTime
	s.mu.RUnlock()
	must(t, s.Add(bg, batch(10, 10, rng)))
	if _, err := s.Backup(bdir, false); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "r")
	must(t, Restore(bdir, out, &Until{Time: at}, nil))
	r, err := Open(out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if keysOf(t, r) != want {
		t.Fatalf("restore by time: %d records, want 10", r.Count())
	}
}

func TestBackup_ChangedFileIsRefusedAndTargetMustBeEmpty(t *testing.T) {
	dir, bdir := t.TempDir(), filepath.Join(t.TempDir(), "bk")
	rng := rand.New(rand.NewSource(4))
	s := create(t, dir, Options{})
	must(t, s.Add(bg, batch(10, 0, rng)))
	must(t, s.Snapshot())
	must(t, s.Add(bg, batch(10, 10, rng)))
	if _, err := s.Backup(bdir, false); err != nil {
		t.Fatal(err)
	}
	s.Close()
	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "x"), []byte("x"), 0o644)
	if err := Restore(bdir, busy, nil, nil); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("restore into a non-empty directory: %v", err)
	}
	segs, _ := segments(bdir)
	if len(segs) == 0 {
		t.Fatal("backup holds no WAL segment")
	}
	p := filepath.Join(bdir, segmentName(segs[len(segs)-1]))
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 1
	os.WriteFile(p, b, 0o644)
	out := filepath.Join(t.TempDir(), "r")
	if err := Restore(bdir, out, nil, nil); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("restore from a changed backup: %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a refused restore wrote files")
	}
	if err := Restore(t.TempDir(), out, nil, nil); !errors.Is(err, errs.NotFound) {
		t.Fatalf("restore from a directory without a backup: %v", err)
	}
}

func TestBackup_EncryptedNeedsKey(t *testing.T) {
	dir, bdir := t.TempDir(), filepath.Join(t.TempDir(), "bk")
	key := make([]byte, 32)
	rand.New(rand.NewSource(5)).Read(key)
	s := create(t, dir, Options{Key: key})
	must(t, s.Add(bg, batch(10, 0, rand.New(rand.NewSource(6)))))
	if _, err := s.Backup(bdir, false); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := Restore(bdir, filepath.Join(t.TempDir(), "r"), nil, nil); err == nil {
		t.Fatal("restoring an encrypted backup without its key succeeded")
	}
	out := filepath.Join(t.TempDir(), "r2")
	must(t, Restore(bdir, out, nil, key))
	r, err := Open(out, Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Count() != 10 {
		t.Fatalf("restored %d records", r.Count())
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
