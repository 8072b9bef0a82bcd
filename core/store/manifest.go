package store

import (
	"encoding/json"
	"fmt"
	"hash/crc32"
	"path/filepath"

	"github.com/oxvec/oxvec/core/errs"
)

// The MANIFEST is the root of a store: what it is (config, encryption), the
// snapshot to load, the WAL segments that must follow it, and whether the
// last writer closed it cleanly. It is replaced atomically (write a
// temporary file, fsync, rename, fsync the directory) and carries a CRC-32C
// of its own bytes, so a damaged manifest is reported, never half-read.
//
// On disk (format 2): {"crc32c": "<8 hex digits>", "manifest": {...}}, the
// checksum taken over the exact bytes of the inner object. Format 1 (the
// inner object alone, no checksum) is still read; the next manifest write
// turns it into format 2.

const (
	manifestName   = "MANIFEST"
	manifestFormat = 2
)

type manifest struct {
	Format int `json:"format"`
	// ID is random, made at creation: it tells a store's backups apart.
	ID          string `json:"id"`
	Config      Config `json:"config"`
	Snapshot    string `json:"snapshot,omitempty"`
	SnapshotSeq uint64 `json:"snapshot_seq"`
	// SnapshotTime is the time of the last change the snapshot holds.
	SnapshotTime int64  `json:"snapshot_time,omitempty"`
	Encrypted    bool   `json:"encrypted,omitempty"`
	KeyCheck     string `json:"key_check,omitempty"`
	// Segments are the first sequence numbers of the WAL segments that
	// hold (or will hold) the changes after the snapshot. A listed segment
	// that is missing is corruption, not an empty log. Empty for stores
	// written before format 2 and for restores: nothing is then expected.
	Segments []uint64 `json:"segments,omitempty"`
	// Closed is written by a clean close and removed by the next open for
	// writing: the WAL must then replay to exactly Closed.Seq, and damage at
	// its end is corruption rather than a write torn by a crash.
	Closed *closeMark `json:"closed,omitempty"`
}

// closeMark records a clean close.
type closeMark struct {
	Seq uint64 `json:"seq"` // the last change, durable at close
}

type manifestFile struct {
	CRC32C   string          `json:"crc32c"`
	Manifest json.RawMessage `json:"manifest"`
}

// encodeManifest is the bytes of a format-2 MANIFEST.
func encodeManifest(m manifest) []byte {
	m.Format = manifestFormat
	inner, _ := json.MarshalIndent(m, " ", " ")
	// written by hand: encoding the wrapper would re-encode inner, and the
	// checksum is of these exact bytes
	return fmt.Appendf(nil, "{\n \"crc32c\": \"%08x\",\n \"manifest\": %s\n}\n", crc32.Checksum(inner, castagnoli), inner)
}

// decodeManifest reads a MANIFEST of format 1 or 2; name is for messages.
func decodeManifest(raw []byte, name string) (manifest, error) {
	var m manifest
	bad := func(why string) (manifest, error) {
		return manifest{}, fmt.Errorf("%w: %s %s; restore the store from a backup (oxvec.restore)", errs.Corrupt, name, why)
	}
	var f manifestFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return bad("is not a store manifest (" + err.Error() + ")")
	}
	if f.Manifest == nil { // format 1: the manifest itself, no checksum
		if err := json.Unmarshal(raw, &m); err != nil || m.Format != 1 {
			return bad("is not a store manifest")
		}
		return m, nil
	}
	if got := fmt.Sprintf("%08x", crc32.Checksum(f.Manifest, castagnoli)); got != f.CRC32C {
		return bad(fmt.Sprintf("is damaged (CRC-32C %s, recorded %s)", got, f.CRC32C))
	}
	if err := json.Unmarshal(f.Manifest, &m); err != nil || m.Format != manifestFormat {
		return bad("has an unknown layout")
	}
	return m, nil
}

// writeManifest replaces the store's MANIFEST with s.man, atomically
// (format.WriteFile: a temporary file, fsync, rename, fsync the directory).
func (s *Store) writeManifest() error {
	if err := writeFileSync(filepath.Join(s.dir, manifestName), encodeManifest(s.man)); err != nil {
		return fmt.Errorf("writing the manifest: %w", err)
	}
	return nil
}
