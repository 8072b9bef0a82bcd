package tenant

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/store"
)

// Options tune Open.
type Options struct {
	// Clock for rate limits and key expiry; default time.Now. Tests set a
	// fake one.
	Clock Clock
	// KeyCost is log2 of scrypt's N for keys made from now on; default
	// DefaultKeyCost. Tests lower it to make keys quickly.
	KeyCost int
	// Store is how the collections' stores are opened (durability, ...);
	// Create is set by the database.
	Store store.Options
}

// Database is a root directory of tenants (doc.go).
type Database struct {
	root string
	opts Options

	mu      sync.RWMutex // guards cat, tenants, stores, closed
	cat     *catalog
	tenants map[string]*tenantState // tenant id ->
	stores  map[string]*store.Store // collection id ->
	closed  bool
	clockMu sync.RWMutex
	// keyBuckets: key id -> *bucket, the rate limit of each key that has
	// opened a session
	keyBuckets sync.Map
}

// tenantState is a tenant's live side: its usage and its rate bucket.
type tenantState struct {
	meter  *meter
	bucket *bucket
}

// Open opens (creating if needed) the database in root and every
// collection's store, and removes directories a crash left behind that the
// catalog does not name.
func Open(root string, opts Options) (*Database, error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.KeyCost == 0 {
		opts.KeyCost = DefaultKeyCost
	}
	if err := os.MkdirAll(filepath.Join(root, "tenants"), 0o755); err != nil {
		return nil, fmt.Errorf("%w: %v", errs.IO, err)
	}
	db := &Database{root: root, opts: opts, tenants: map[string]*tenantState{}, stores: map[string]*store.Store{}}
	raw, err := os.ReadFile(db.catalogPath())
	switch {
	case errors.Is(err, fs.ErrNotExist):
		db.cat = &catalog{Format: catalogFormat}
		if err := writeCatalog(db.catalogPath(), db.cat); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("%w: %v", errs.IO, err)
	default:
		if db.cat, err = decodeCatalog(raw, db.catalogPath()); err != nil {
			return nil, err
		}
	}
	db.removeOrphans()
	for _, t := range db.cat.Tenants {
		ts := &tenantState{meter: newMeter(), bucket: newBucket(t.Quota.MaxQPS, t.Quota.Burst)}
		db.tenants[t.ID] = ts
		for _, c := range t.Collections {
			opts := db.opts.Store
			opts.Name = t.Name + "/" + c.Name // its name in metrics
			st, err := store.Open(db.collDir(t.ID, c.ID), opts)
			if err != nil {
				db.closeStores()
				return nil, fmt.Errorf("opening collection %s/%s: %w", t.Name, c.Name, err)
			}
			db.stores[c.ID] = st
			ts.meter.set(c.ID, st)
		}
	}
	return db, nil
}

func (db *Database) catalogPath() string            { return filepath.Join(db.root, catalogName) }
func (db *Database) tenantDir(tid string) string    { return filepath.Join(db.root, "tenants", tid) }
func (db *Database) collDir(tid, cid string) string { return filepath.Join(db.tenantDir(tid), cid) }

// removeOrphans deletes tenant and collection directories the catalog does
// not name: a create that crashed before its catalog write, or a drop that
// crashed after it.
func (db *Database) removeOrphans() {
	ents, _ := os.ReadDir(filepath.Join(db.root, "tenants"))
	for _, e := range ents {
		t := db.cat.tenantByID(e.Name())
		if t == nil {
			os.RemoveAll(db.tenantDir(e.Name()))
			continue
		}
		cs, _ := os.ReadDir(db.tenantDir(t.ID))
		for _, c := range cs {
			known := false
			for _, cr := range t.Collections {
				known = known || cr.ID == c.Name()
			}
			if !known {
				os.RemoveAll(db.collDir(t.ID, c.Name()))
			}
		}
	}
}

func (db *Database) now() time.Time {
	db.clockMu.RLock()
	defer db.clockMu.RUnlock()
	return db.opts.Clock()
}

// SetClock replaces the clock (a test hook: rate limits with a fake clock).
func (db *Database) SetClock(c Clock) {
	if c == nil {
		c = time.Now
	}
	db.clockMu.Lock()
	db.opts.Clock = c
	db.clockMu.Unlock()
}

// Root is the database's directory.
func (db *Database) Root() string { return db.root }

func (db *Database) closeStores() error {
	var first error
	for id, st := range db.stores {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
		delete(db.stores, id)
	}
	return first
}

// Close closes every collection; sessions of the database stop working.
func (db *Database) Close() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed {
		return nil
	}
	db.closed = true
	return db.closeStores()
}

// commit makes next the catalog: durable first, then installed. The
// caller holds db.mu for writing.
func (db *Database) commit(next *catalog) error {
	if err := writeCatalog(db.catalogPath(), next); err != nil {
		return err
	}
	db.cat = next
	return nil
}

func (db *Database) liveLocked() error {
	if db.closed {
		return fmt.Errorf("%w: the database is closed", errs.Closed)
	}
	return nil
}

// Verify checks that the directories and the catalog agree: every tenant
// and collection the catalog names has its directory (and an open store),
// no other directory is there, and every key belongs to a tenant or is an
// operator's. The crash tests call it after each reopen.
func (db *Database) Verify() error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	bad := func(f string, a ...any) error { return fmt.Errorf("%w: "+f, append([]any{errs.Corrupt}, a...)...) }
	ents, err := os.ReadDir(filepath.Join(db.root, "tenants"))
	if err != nil {
		return fmt.Errorf("%w: %v", errs.IO, err)
	}
	if len(ents) != len(db.cat.Tenants) {
		return bad("%d tenant directories for %d tenants", len(ents), len(db.cat.Tenants))
	}
	for _, t := range db.cat.Tenants {
		cs, err := os.ReadDir(db.tenantDir(t.ID))
		if err != nil {
			return bad("tenant %s has no directory: %v", t.Name, err)
		}
		if len(cs) != len(t.Collections) {
			return bad("tenant %s: %d collection directories for %d collections", t.Name, len(cs), len(t.Collections))
		}
		for _, c := range t.Collections {
			if db.stores[c.ID] == nil {
				return bad("collection %s/%s has no open store", t.Name, c.Name)
			}
		}
	}
	for _, k := range db.cat.Keys {
		if (k.Tenant == "") != (k.Role == OperatorRole) || (k.Tenant != "" && db.cat.tenantByID(k.Tenant) == nil) {
			return bad("key %s belongs to no tenant", k.ID)
		}
	}
	return nil
}
