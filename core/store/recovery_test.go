package store

import (
	"encoding/json"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

// markCrashed makes a cleanly closed store look like one whose writer was
// killed: the manifest's clean-close mark is removed.
func markCrashed(t *testing.T, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeManifest(raw, manifestName)
	if err != nil {
		t.Fatal(err)
	}
	m.Closed = nil
	if err := writeManifestFile(dir, m); err != nil {
		t.Fatal(err)
	}
}

func writeManifestFile(dir string, m manifest) error {
	return writeFileSync(filepath.Join(dir, manifestName), encodeManifest(m))
}

// fiveBatches writes 5 batches of 10 records into a new store and closes it.
func fiveBatches(t *testing.T) (string, string) {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(11))
	s := create(t, dir, Options{SnapshotEvery: -1})
	for i := 0; i < 5; i++ {
		if err := s.Add(bg, batch(10, 10*i, rng)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := segments(dir)
	return dir, filepath.Join(dir, segmentName(segs[len(segs)-1]))
}

func TestRecovery_DamageAfterCleanCloseIsCorruption(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"last byte flipped", func(b []byte) []byte { b[dataEnd(b)-1] ^= 1; return b }},
		{"cut inside the last record", func(b []byte) []byte { return b[:dataEnd(b)-9] }},
		{"cut at a record boundary", func(b []byte) []byte { return b[:lastRecordStart(t, b)] }},
		{"last record zeroed", func(b []byte) []byte { clear(b[lastRecordStart(t, b):]); return b }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, path := fiveBatches(t)
			data, _ := os.ReadFile(path)
			before := tc.damage(append([]byte(nil), data...))
			os.WriteFile(path, before, 0o644)
			_, err := Open(dir, Options{})
			if !errors.Is(err, errs.Corrupt) || !strings.Contains(err.Error(), "closed cleanly after change 5") || !strings.Contains(err.Error(), filepath.Base(path)) {
				t.Fatalf("open: %v", err)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Fatal("a refused open changed the segment")
			}
			// read-only follows the same rule
			if _, err := Open(dir, Options{ReadOnly: true}); !errors.Is(err, errs.Corrupt) {
				t.Fatalf("read-only open: %v", err)
			}
			// the explicit choice: open at the last intact change
			s, err := Open(dir, Options{Recovery: RecoverPointInTime})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Count() != 40 || s.LastSeq() != 4 {
				t.Fatalf("point in time: %d records, seq %d", s.Count(), s.LastSeq())
			}
			rep := s.Info().Recovery
			if !rep.CleanClose || rep.Mode != "point_in_time" {
				t.Fatalf("report %+v", rep)
			}
			var kept int64
			for _, q := range rep.Quarantined {
				b, err := os.ReadFile(filepath.Join(dir, q.File))
				if err != nil || int64(len(b)) != q.Bytes {
					t.Fatalf("quarantine %+v: %v", q, err)
				}
				kept += q.Bytes
			}
			if int64(dataEnd(before))-kept != int64(lastRecordStart(t, data)) {
				t.Fatalf("%d bytes kept aside of %d, the intact part is %d", kept, dataEnd(before), lastRecordStart(t, data))
			}
		})
	}
}

// dataEnd is the offset after the last byte that is not zero: a segment's
// records end there, the rest of its allocation is zeros.
func dataEnd(b []byte) int {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	return n
}

func lastRecordStart(t *testing.T, b []byte) int {
	sc, err := scanSegment(b, nil, 1, "seg")
	if err != nil || len(sc.records) == 0 {
		t.Fatalf("scan: %v", err)
	}
	return int(sc.records[len(sc.records)-1].off)
}

func TestRecovery_TornTailAfterCrashIsQuarantinedNotDeleted(t *testing.T) {
	dir, path := fiveBatches(t)
	markCrashed(t, dir)
	data, _ := os.ReadFile(path)
	// the crash wrote the last record's first page only: zeros after
	clear(data[lastRecordStart(t, data)+walHeader+2:])
	os.WriteFile(path, data, 0o644)
	// strict refuses even that
	if _, err := Open(dir, Options{Recovery: RecoverStrict}); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("strict: %v", err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep := s.Info().Recovery
	if s.Count() != 40 || len(rep.Quarantined) != 1 || !strings.HasPrefix(rep.Quarantined[0].Reason, "checksum mismatch") {
		t.Fatalf("%d records, report %+v", s.Count(), rep)
	}
	q := rep.Quarantined[0]
	kept, _ := os.ReadFile(filepath.Join(dir, q.File))
	if string(kept) != string(data[q.Offset:dataEnd(data)]) {
		t.Fatal("the quarantine file does not hold the torn bytes")
	}
	s.Close()
	// the quarantine file survives later opens and snapshots
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Snapshot()
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, q.File)); err != nil {
		t.Fatal("quarantine file removed:", err)
	}
}

func TestRecovery_CutSegmentIsCorruptionAlsoAfterACrash(t *testing.T) {
	for _, cut := range []func(b []byte) []byte{
		func(b []byte) []byte { return b[:0] },
		func(b []byte) []byte { return b[:lastRecordStart(t, b)] },
		func(b []byte) []byte { return b[:dataEnd(b)-3] },
	} {
		dir, path := fiveBatches(t)
		markCrashed(t, dir)
		data, _ := os.ReadFile(path)
		os.WriteFile(path, cut(data), 0o644)
		if _, err := Open(dir, Options{}); !errors.Is(err, errs.Corrupt) || !strings.Contains(err.Error(), "cut short") {
			t.Fatalf("open: %v", err)
		}
	}
}

func TestRecovery_MissingListedSegmentIsAnError(t *testing.T) {
	dir, path := fiveBatches(t)
	os.Remove(path)
	_, err := Open(dir, Options{})
	if !errors.Is(err, errs.Corrupt) || !strings.Contains(err.Error(), filepath.Base(path)) || !strings.Contains(err.Error(), "does not hold") {
		t.Fatalf("open: %v", err)
	}
	// also after a crash: the manifest still lists it
	markCrashed(t, dir)
	if _, err := Open(dir, Options{}); !errors.Is(err, errs.Corrupt) {
		t.Fatalf("open after crash: %v", err)
	}
	s, err := Open(dir, Options{Recovery: RecoverPointInTime})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Count() != 0 {
		t.Fatalf("%d records from a store whose only segment is gone", s.Count())
	}
}

func TestRecovery_ManifestChecksum(t *testing.T) {
	dir, _ := fiveBatches(t)
	path := filepath.Join(dir, manifestName)
	raw, _ := os.ReadFile(path)
	i := strings.Index(string(raw), `"dim": `) + len(`"dim": `)
	raw[i] ^= 1 // 4 -> 5: still valid JSON, a different store
	os.WriteFile(path, raw, 0o644)
	_, err := Open(dir, Options{})
	if !errors.Is(err, errs.Corrupt) || !strings.Contains(err.Error(), "CRC-32C") {
		t.Fatalf("open: %v", err)
	}
}

func TestRecovery_ManifestOfFormat1IsRead(t *testing.T) {
	dir, _ := fiveBatches(t)
	raw, _ := os.ReadFile(filepath.Join(dir, manifestName))
	m, _ := decodeManifest(raw, manifestName)
	m.Format, m.Segments, m.Closed = 1, nil, nil
	old, _ := json.MarshalIndent(m, "", " ")
	os.WriteFile(filepath.Join(dir, manifestName), old, 0o644)
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Count() != 50 {
		t.Fatalf("%d records", s.Count())
	}
	raw, _ = os.ReadFile(filepath.Join(dir, manifestName))
	if m, err := decodeManifest(raw, manifestName); err != nil || m.Format != manifestFormat || len(m.Segments) == 0 {
		t.Fatalf("rewritten manifest: %+v, %v", m, err)
	}
}

func TestRecovery_FailedStoreSaysWhyAndCloses(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(3))
	s := create(t, dir, Options{SnapshotEvery: -1})
	if err := s.Add(bg, batch(5, 0, rng)); err != nil {
		t.Fatal(err)
	}
	// the disk refuses the next write: the segment's file is swapped for
	// one that cannot be written
	s.wal.mu.Lock()
	s.wal.f.Close()
	ro, _ := os.Open(filepath.Join(dir, segmentName(s.wal.start)))
	s.wal.f = ro
	s.wal.mu.Unlock()
	err := s.Add(bg, batch(5, 5, rng))
	if !errors.Is(err, errs.IO) {
		t.Fatalf("failing write: %v", err)
	}
	for name, call := range map[string]func() error{
		"add":      func() error { return s.Add(bg, batch(1, 50, rng)) },
		"snapshot": s.Snapshot,
		"delete":   func() error { _, err := s.Delete(bg, []string{"doc-0"}, nil, nil); return err },
	} {
		err := call()
		if !errors.Is(err, errs.IO) || errors.Is(err, errs.Closed) || !strings.Contains(err.Error(), "writing the WAL") || !strings.Contains(err.Error(), "refuses writes") {
			t.Fatalf("%s after the failure: %v", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close of a failed store: %v", err)
	}
	// the lock is released, and what was acknowledged is there
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Count() != 5 {
		t.Fatalf("%d records after reopen, want 5", s2.Count())
	}
}
