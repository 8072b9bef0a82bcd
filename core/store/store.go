package store

import (
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/index"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/monitor"
)

// Config is what a store is created with and keeps in its manifest.
type Config struct {
	Dim          int             `json:"dim"`
	Metric       string          `json:"metric"`
	MetricParams json.RawMessage `json:"metric_params,omitempty"`
	// Index is the spec of the vector index without dim and metric, e.g.
	// {"type":"hnsw","m":16}; default {"type":"flat"}.
	Index json.RawMessage `json:"index,omitempty"`
	// TrainAfter: for index types that are trained, the record count at
	// which the store trains its index (0: the type's minimum); records
	// are searched exactly until then (training.go).
	TrainAfter int `json:"train_after,omitempty"`
}

// Options tune Open.
type Options struct {
	Create     *Config       // create the store if the directory has none
	Durability Durability    // default Always
	Interval   time.Duration // flush period for Interval; default 100 ms
	ReadOnly   bool          // no lock, no writes, the WAL tail left as found
	Key        []byte        // 32 bytes: encrypt (on create) / decrypt
	// SnapshotEvery: WAL bytes after which a write also takes a snapshot
	// (and above 1 MiB of which Close takes one); 0 means 64 MiB, negative
	// never (only Snapshot calls).
	SnapshotEvery int64
	// Until stops replay after this change (restore to a point in time).
	Until *Until
	// Recovery says what an open does about a damaged WAL (recovery.go).
	Recovery RecoveryMode
	// Name is the store's name in statistics and metrics (default: the
	// directory's base name).
	Name string
	// Monitor tunes monitoring (on by default; core/monitor).
	Monitor monitor.Config
	// Cache turns the results cache on (cache.go); off by default.
	Cache CacheConfig
}

// Until names a point of a store's history: after the change with sequence
// number Seq, or after the last change made at or before Time (unix ns).
type Until struct {
	Seq  uint64
	Time int64
}

func (u *Until) stops(seq uint64, t int64) bool {
	if u == nil {
		return false
	}
	if u.Seq > 0 {
		return seq > u.Seq
	}
	return t > u.Time
}

// Store is a durable collection. It is safe for concurrent use: reads share
// a lock, writes take it exclusively (one writer at a time in a process),
// and fsyncs are shared by concurrent writers.
type Store struct {
	dir  string
	opts Options
	cfg  Config
	man  manifest
	seal *sealer
	m    *metric.Metric

	mu       sync.RWMutex
	tab      *table
	idx      index.Index
	wal      *wal
	lock     *os.File
	lastSeq  uint64 // last change applied
	lastTime int64  // and its time (unix ns)
	walSize  int64  // WAL bytes since the last snapshot
	closed   bool
	failed   error // why writes stopped: a write that failed half-way
	report   Recovery
	snapCtx  context.Context // a Snapshot's progress, while it runs (under mu)
	train    training        // trained index types: the exact phase before training

	mon     *monitor.Monitor  // monitoring.go
	samples chan recallSample // recall.go: searches to re-run exactly
	quit    chan struct{}     // closed when the store closes: ends the sampler
	cache   *resultCache      // cache.go; nil when off
	plans   planCounts        // searches by plan
	model   indexModel        // planner.go: the index's cost model
	sample  sampleStats       // selectivity.go: statistics of a sample of records
}

// Open opens (or, with opts.Create, creates) the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	s := &Store{dir: dir, opts: opts}
	if opts.Interval <= 0 {
		s.opts.Interval = 100 * time.Millisecond
	}
	if opts.SnapshotEvery == 0 {
		s.opts.SnapshotEvery = 64 << 20
	}
	cache, err := newResultCache(opts.Cache)
	if err != nil {
		return nil, err
	}
	s.cache = cache
	if !opts.ReadOnly {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("%w: %v", errs.IO, err)
		}
		lock, err := lockDir(dir)
		if err != nil {
			return nil, err
		}
		s.lock = lock
	}
	if err := s.open(); err != nil {
		if s.lock != nil {
			s.lock.Close()
		}
		return nil, err
	}
	s.startMonitor()
	return s, nil
}

func (s *Store) open() error {
	raw, err := os.ReadFile(filepath.Join(s.dir, manifestName))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if leftovers := storeFiles(s.dir); leftovers != "" {
			return fmt.Errorf("%w: %s holds %s but no MANIFEST: it was a store whose manifest is lost; restore it from a backup (oxvec.restore) rather than create a new store over it",
				errs.Corrupt, s.dir, leftovers)
		}
		if s.opts.Create == nil {
			return fmt.Errorf("%w: %s holds no store (give dim to create one)", errs.NotFound, s.dir)
		}
		if s.opts.ReadOnly {
			return fmt.Errorf("%w: %s holds no store to open read-only", errs.NotFound, s.dir)
		}
		if err := s.create(*s.opts.Create); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("%w: %v", errs.IO, err)
	default:
		if s.man, err = decodeManifest(raw, filepath.Join(s.dir, manifestName)); err != nil {
			return err
		}
		s.cfg = s.man.Config
		if err := s.matches(s.opts.Create); err != nil {
			return err
		}
		if err := s.unlock(); err != nil {
			return err
		}
	}
	if err := s.bind(); err != nil {
		return err
	}
	return s.recover()
}

// storeFiles names the WAL segments and snapshots in dir, if any.
func storeFiles(dir string) string {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		n := e.Name()
		if (strings.HasPrefix(n, "wal-") && strings.HasSuffix(n, ".log")) || strings.HasPrefix(n, "snap-") {
			return n
		}
	}
	return ""
}

// matches checks that an existing store is what the caller would have
// created: same dim, metric and index type.
func (s *Store) matches(want *Config) error {
	if want == nil {
		return nil
	}
	kind, err := metric.Parse(orL2(want.Metric))
	if err != nil {
		return err
	}
	var have, asked struct {
		Type string `json:"type"`
	}
	json.Unmarshal(s.cfg.Index, &have)
	if len(want.Index) > 0 {
		json.Unmarshal(want.Index, &asked)
	}
	if want.Dim != s.cfg.Dim || kind.String() != s.cfg.Metric || (asked.Type != "" && asked.Type != have.Type) {
		return fmt.Errorf("%w: %s holds a store of dim %d, metric %s and index %s, not dim %d, metric %s and index %s: open it without dim, metric and index",
			errs.InvalidArgument, s.dir, s.cfg.Dim, s.cfg.Metric, have.Type, want.Dim, kind, orFlat(asked.Type))
	}
	return nil
}

func orL2(m string) string {
	if m == "" {
		return "l2"
	}
	return m
}

func orFlat(t string) string {
	if t == "" {
		return "flat"
	}
	return t
}

// create writes the manifest of a new, empty store.
func (s *Store) create(cfg Config) error {
	kind, err := metric.Parse(orL2(cfg.Metric))
	if err != nil {
		return err
	}
	cfg.Metric = kind.String() // canonical, so that reopening can compare
	if len(cfg.Index) == 0 {
		cfg.Index = json.RawMessage(`{"type":"flat"}`)
	}
	s.cfg = cfg
	s.man = manifest{Format: manifestFormat, Config: cfg, ID: newStoreID()}
	if s.opts.Key != nil {
		seal, err := newSealer(s.opts.Key)
		if err != nil {
			return err
		}
		s.seal = seal
		s.man.Encrypted = true
		s.man.KeyCheck = base64.StdEncoding.EncodeToString(seal.seal([]byte(keyCheck), []byte("manifest")))
	}
	spec, err := s.indexSpec() // reject a bad spec before writing anything
	if err != nil {
		return err
	}
	if _, err := s.trainAfter(spec); err != nil {
		return err
	}
	return s.writeManifest()
}

func newStoreID() string {
	var b [16]byte
	crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// unlock checks the key against an encrypted store's manifest.
func (s *Store) unlock() error {
	if !s.man.Encrypted {
		if s.opts.Key != nil {
			return fmt.Errorf("%w: %s is not encrypted; open it without a key", errs.InvalidArgument, s.dir)
		}
		return nil
	}
	if s.opts.Key == nil {
		return fmt.Errorf("%w: %s is encrypted: give its key (key_file= or key_env=)", errs.InvalidArgument, s.dir)
	}
	seal, err := newSealer(s.opts.Key)
	if err != nil {
		return err
	}
	blob, err := base64.StdEncoding.DecodeString(s.man.KeyCheck)
	if err != nil {
		return fmt.Errorf("%w: manifest key check", errs.Corrupt)
	}
	if got, err := seal.open(blob, []byte("manifest")); err != nil || string(got) != keyCheck {
		return fmt.Errorf("%w: wrong key for %s", errs.InvalidArgument, s.dir)
	}
	s.seal = seal
	return nil
}

// indexSpec is the JSON spec of the store's vector index.
func (s *Store) indexSpec() ([]byte, error) {
	spec := map[string]any{}
	if err := json.Unmarshal(s.cfg.Index, &spec); err != nil {
		return nil, fmt.Errorf("%w: index spec: %v", errs.InvalidArgument, err)
	}
	for _, k := range []string{"dim", "metric", "metric_params"} {
		if _, ok := spec[k]; ok {
			return nil, fmt.Errorf("%w: give %s to the store, not inside the index spec", errs.InvalidArgument, k)
		}
	}
	if _, ok := spec["type"]; !ok {
		spec["type"] = "flat"
	}
	spec["dim"], spec["metric"] = s.cfg.Dim, s.cfg.Metric
	if len(s.cfg.MetricParams) > 0 {
		spec["metric_params"] = s.cfg.MetricParams
	}
	b, _ := json.Marshal(spec)
	probe, err := index.New(b)
	if err != nil {
		return nil, err
	}
	probe.Close()
	return b, nil
}

// bind builds the metric used to validate vectors before they are logged.
func (s *Store) bind() error {
	kind, err := metric.Parse(s.cfg.Metric)
	if err != nil {
		return err
	}
	p, err := metric.DecodeParams(s.cfg.MetricParams)
	if err != nil {
		return err
	}
	s.m, err = metric.New(kind, s.cfg.Dim, p)
	s.model = modelOf(s.cfg)
	return err
}

// Snapshot writes the whole state to a new snapshot and drops the WAL it
// covers. Writers wait while it runs; readers do not.
func (s *Store) Snapshot() error { return s.SnapshotReporting(context.Background()) }

// SnapshotReporting is Snapshot reporting its steps (the index, the
// records) on ctx's progress counter; ctx does not cancel it.
func (s *Store) SnapshotReporting(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	s.snapCtx = ctx
	defer func() { s.snapCtx = nil }()
	return s.snapshotLocked()
}

func (s *Store) snapshotLocked() error {
	seq := s.lastSeq
	if s.man.Snapshot != "" && seq == s.man.SnapshotSeq {
		return nil // nothing changed since the last one
	}
	next, err := s.rotateWAL()
	if err != nil {
		return err
	}
	crashPoint("snapshot:rotated")
	name, err := s.writeSnapshot(seq)
	if err != nil {
		return err
	}
	crashPoint("snapshot:written")
	old, prev := s.man.Snapshot, s.man
	s.man.Snapshot, s.man.SnapshotSeq, s.man.SnapshotTime = name, seq, s.lastTime
	s.man.Segments = []uint64{next}
	if err := s.writeManifest(); err != nil {
		s.man = prev // the old manifest is still the one on disk
		return err
	}
	crashPoint("snapshot:swapped")
	// the manifest now points at the new snapshot: what it covers can go
	segs, _ := segments(s.dir)
	for _, start := range segs {
		if start < next {
			os.Remove(filepath.Join(s.dir, segmentName(start)))
		}
	}
	if old != "" && old != name {
		os.RemoveAll(filepath.Join(s.dir, old))
	}
	s.walSize = 0
	return syncDir(s.dir)
}

// rotateWAL starts a new WAL segment and lists it in the manifest before
// any change goes into it. The caller holds mu exclusively.
func (s *Store) rotateWAL() (uint64, error) {
	next, err := s.wal.rotate()
	if err != nil {
		s.failed = err
		return 0, err
	}
	s.man.Segments = append(s.man.Segments, next)
	if err := s.writeManifest(); err != nil {
		return 0, err
	}
	return next, nil
}

func (s *Store) writable() error {
	switch {
	case s.closed:
		return errs.Closed
	case s.opts.ReadOnly:
		return fmt.Errorf("%w: the store was opened read-only", errs.State)
	case s.failed != nil:
		// the cause keeps its class (a full disk is an I/O error)
		return fmt.Errorf("%w; the store refuses writes since then: close it, fix the cause and open it again", s.failed)
	}
	return nil
}

// closeSnapshotAbove: Close takes a snapshot when more WAL than this is not
// in one yet, so that the next open loads instead of replaying (a replay
// re-inserts every vector into the index; a load reads it back).
const closeSnapshotAbove = 1 << 20

// Close makes everything durable and releases the store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	var err error
	if s.wal != nil && s.failed == nil && s.opts.SnapshotEvery >= 0 && s.walSize > closeSnapshotAbove {
		err = s.snapshotLocked() // the WAL stays if this fails: nothing is lost
	}
	s.closed = true
	s.stopMonitor()
	if s.wal != nil {
		cerr := s.wal.close()
		if cerr == nil && s.failed == nil {
			// every change is durable: the next open may expect exactly this
			s.man.Closed = &closeMark{Seq: s.lastSeq}
			cerr = s.writeManifest()
		}
		if err == nil && s.failed == nil {
			err = cerr
		}
	}
	if s.idx != nil {
		s.idx.Close()
	}
	if s.lock != nil {
		s.lock.Close()
	}
	if s.failed != nil {
		// already reported by the write that failed; closing a failed
		// store releases it, which is all the caller can ask of it
		return nil
	}
	return err
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Config returns the store's configuration.
func (s *Store) Config() Config { return s.cfg }

// LastSeq is the sequence number of the last change applied.
func (s *Store) LastSeq() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastSeq
}
