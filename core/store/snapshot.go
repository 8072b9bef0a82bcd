package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"

	"github.com/klauspost/compress/zstd"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/parallel"
	"github.com/oxvec/oxvec/core/progress"
)

// A snapshot directory holds index.zst (the vector index file) and
// records.zst (the table), each zstd-compressed (with the frame checksum)
// and then sealed when the store is encrypted.

var recordsMagic = []byte("OXVSREC1")

type recordJSON struct {
	K string  `json:"k"`
	D *string `json:"d,omitempty"`
	M Meta    `json:"m,omitempty"`
}

// encodeTable: magic, slot count (uint64), dim (uint32), slots*dim float32,
// JSON array of records (null for a free slot).
func encodeTable(t *table) []byte {
	recs := make([]*recordJSON, len(t.keys))
	for id, k := range t.keys {
		if k == "" {
			continue
		}
		r := &recordJSON{K: k, M: t.metas[id]}
		if t.hasDoc[id] {
			d := t.docs[id]
			r.D = &d
		}
		recs[id] = r
	}
	js, _ := json.Marshal(recs)
	var b bytes.Buffer
	b.Write(recordsMagic)
	binary.Write(&b, binary.LittleEndian, uint64(len(t.keys)))
	binary.Write(&b, binary.LittleEndian, uint32(t.dim))
	b.Write(format.AsBytes(t.vecs))
	b.Write(js)
	return b.Bytes()
}

func decodeTable(b []byte, dim int) (*table, error) {
	bad := func(why string) (*table, error) {
		return nil, fmt.Errorf("%w: snapshot records: %s", errs.Corrupt, why)
	}
	if len(b) < 20 || !bytes.Equal(b[:8], recordsMagic) {
		return bad("bad magic")
	}
	n := binary.LittleEndian.Uint64(b[8:16])
	if d := binary.LittleEndian.Uint32(b[16:20]); int(d) != dim {
		return bad(fmt.Sprintf("dim %d, store has %d", d, dim))
	}
	if n > uint64(len(b))/4 || 20+4*n*uint64(dim) > uint64(len(b)) {
		return bad("vector block cut short")
	}
	t := newTable(dim)
	// The vectors stay in the decompressed buffer (the table owns it);
	// clipped, so the first new record reallocates rather than overwrites.
	vecs, err := format.View[float32](b[20 : 20+4*n*uint64(dim)])
	if err != nil {
		return bad(err.Error())
	}
	t.vecs = slices.Clip(vecs)
	var recs []*recordJSON
	if err := decodeJSON(b[20+4*n*uint64(dim):], &recs); err != nil {
		return bad(err.Error())
	}
	if uint64(len(recs)) != n {
		return bad("record count does not match")
	}
	t.keys, t.docs, t.hasDoc, t.metas = make([]string, n), make([]string, n), make([]bool, n), make([]Meta, n)
	for id, r := range recs {
		if r == nil || r.K == "" {
			t.free = append(t.free, int64(id))
			continue
		}
		if _, dup := t.byKey[r.K]; dup {
			return bad(fmt.Sprintf("key %q twice", r.K))
		}
		m, err := normalize(r.M, "snapshot")
		if err != nil {
			return bad(err.Error())
		}
		t.keys[id], t.metas[id] = r.K, m
		if r.D != nil {
			t.docs[id], t.hasDoc[id] = *r.D, true
		}
		t.byKey[r.K] = int64(id)
	}
	// the two derived indexes build independently
	err = parallel.For(context.Background(), 2, 1, func(part, _ int) error {
		for id, k := range t.keys {
			switch {
			case k == "":
			case part == 0:
				t.eq.add(int64(id), t.metas[id])
			case t.hasDoc[id]:
				t.kw.Add(int64(id), t.docs[id])
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// reuse the lowest free id first
	for i, j := 0, len(t.free)-1; i < j; i, j = i+1, j-1 {
		t.free[i], t.free[j] = t.free[j], t.free[i]
	}
	return t, nil
}

// The encoder's history is kept for the process's life, one per core (the
// encoder pools them). A frame is at most frameSize, so a window of frameSize
// loses nothing; the default 8 MiB window kept 16 MiB per core from the
// first snapshot on (the server soak's RSS stepped up 28 MiB there, issue
// 22), this keeps frameSize + one block.
var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderCRC(true), zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithWindowSize(frameSize), zstd.WithLowerEncoderMem(true))
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
)

// A sealed file is a 16-byte header - magic "OXZ1", CRC-32C of the rest,
// and the uncompressed size (uint64) - then the zstd frame, itself sealed
// with AES-256-GCM when the store is encrypted. The CRC is checked before
// anything is decompressed, so a damaged file is reported as such instead
// of making the decoder allocate what a corrupt frame header claims.
var sealedMagic = []byte("OXZ1")

const sealedHeader = 16

// frameSize bounds each zstd frame of a sealed file. A frame no larger than
// the encoder's window is written as a single segment, which the decoder
// expands straight into the output buffer; one frame for a 150 MB table made
// it copy every decoded block through its history window (40% of reopen).
const frameSize = 4 << 20

// compress writes data as a run of independent zstd frames.
func compress(data []byte) []byte {
	out := make([]byte, 0, len(data)/2+64)
	for len(data) > 0 {
		n := min(len(data), frameSize)
		out = zenc.EncodeAll(data[:n], out)
		data = data[n:]
	}
	return out
}

// writeSealed compresses, seals and writes data to path, fsync'd.
func writeSealed(path string, data []byte, seal *sealer, ad string) error {
	body := seal.seal(compress(data), []byte(ad))
	blob := make([]byte, sealedHeader, sealedHeader+len(body))
	copy(blob, sealedMagic)
	binary.LittleEndian.PutUint32(blob[4:8], crc32.Checksum(body, castagnoli))
	binary.LittleEndian.PutUint64(blob[8:16], uint64(len(data)))
	blob = append(blob, body...)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("%w: %v", errs.IO, err)
	}
	if _, err = f.Write(blob); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: writing %s: %v", errs.IO, path, err)
	}
	return nil
}

func readSealed(path string, seal *sealer, ad string) ([]byte, error) {
	blob, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %v", errs.IO, path, err)
	}
	return openSealed(blob, seal, ad, path)
}

func openSealed(blob []byte, seal *sealer, ad, path string) ([]byte, error) {
	if len(blob) < sealedHeader || !bytes.Equal(blob[:4], sealedMagic) {
		return nil, fmt.Errorf("%w: %s is not an oxvec snapshot file", errs.Corrupt, path)
	}
	body := blob[sealedHeader:]
	if binary.LittleEndian.Uint32(blob[4:8]) != crc32.Checksum(body, castagnoli) {
		return nil, fmt.Errorf("%w: %s is damaged (checksum mismatch)", errs.Corrupt, path)
	}
	size := binary.LittleEndian.Uint64(blob[8:16])
	z, err := seal.open(body, []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, filepath.Base(path))
	}
	data, err := zdec.DecodeAll(z, make([]byte, 0, min(size, 1<<30)))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errs.Corrupt, path, err)
	}
	if uint64(len(data)) != size {
		return nil, fmt.Errorf("%w: %s holds %d bytes, its header says %d", errs.Corrupt, path, len(data), size)
	}
	return data, nil
}

func snapName(seq uint64) string { return fmt.Sprintf("snap-%020d", seq) }

// snapshotContext is the progress context of the Snapshot call running now
// (none for snapshots a write or Close takes).
func (s *Store) snapshotContext() context.Context {
	if s.snapCtx != nil {
		return s.snapCtx
	}
	return context.Background()
}

// writeSnapshot writes the state at seq into a new snapshot directory.
func (s *Store) writeSnapshot(seq uint64) (string, error) {
	name := snapName(seq)
	dir := filepath.Join(s.dir, name)
	tmp := dir + ".tmp"
	os.RemoveAll(tmp)
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", fmt.Errorf("%w: %v", errs.IO, err)
	}
	// progress in four steps (a Snapshot call's counter; none otherwise)
	p := progress.From(s.snapshotContext())
	p.Expect(4)
	var ib bytes.Buffer
	if err := s.idx.Save(&ib); err != nil {
		return "", err
	}
	p.Add(1)
	if err := writeSealed(filepath.Join(tmp, "index.zst"), ib.Bytes(), s.seal, name+"/index"); err != nil {
		return "", err
	}
	p.Add(1)
	records := encodeTable(s.tab)
	p.Add(1)
	if err := writeSealed(filepath.Join(tmp, "records.zst"), records, s.seal, name+"/records"); err != nil {
		return "", err
	}
	p.Add(1)
	if err := syncDir(tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("%w: %v", errs.IO, err)
	}
	return name, syncDir(s.dir)
}

// readSnapshot loads a snapshot's index and table.
func (s *Store) readSnapshot(name string) (index.Index, *table, error) {
	dir := filepath.Join(s.dir, name)
	// The table (JSON metadata, maps) and the index decode independently,
	// one worker each: reopen takes the longer of the two, not the sum.
	var (
		idx index.Index
		t   *table
	)
	err := parallel.For(context.Background(), 2, 1, func(part, _ int) error {
		if part == 0 {
			ib, err := readSealed(filepath.Join(dir, "index.zst"), s.seal, name+"/index")
			if err != nil {
				return err
			}
			if idx, err = index.Load(ib); err != nil {
				return fmt.Errorf("snapshot %s: %w", name, err)
			}
			return nil
		}
		rb, err := readSealed(filepath.Join(dir, "records.zst"), s.seal, name+"/records")
		if err != nil {
			return err
		}
		t, err = decodeTable(rb, s.cfg.Dim)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	if t.live() != idx.Len() {
		return nil, nil, fmt.Errorf("%w: snapshot %s holds %d records and %d vectors", errs.Corrupt, name, t.live(), idx.Len())
	}
	return idx, t, nil
}
