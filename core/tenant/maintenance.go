package tenant

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/monitor"
	"github.com/oxvec/oxvec/core/store"
)

// The maintenance calls of a collection, for a front end that triggers
// them on behalf of a key (the server's snapshot and backup routes): the
// same admin permission as create_collection. Where a backup goes is the
// front end's choice, never a client's: it names dir.

// maintained finds a collection's store as who may administer it.
func (db *Database) maintained(who *Session, tenant, name string) (*store.Store, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if err := db.liveLocked(); err != nil {
		return nil, err
	}
	t, err := db.adminOf(who, db.cat, tenant)
	if err != nil {
		return nil, err
	}
	c := t.collection(name)
	if c == nil || db.stores[c.ID] == nil {
		return nil, notFoundCollection(name)
	}
	return db.stores[c.ID], nil
}

// SnapshotCollection takes a snapshot of one collection's store.
func (db *Database) SnapshotCollection(who *Session, tenant, name string) error {
	st, err := db.maintained(who, tenant, name)
	if err != nil {
		return err
	}
	return st.Snapshot()
}

// BackupCollection copies one collection's store into dir (see
// store.Store.Backup: incremental keeps what dir already holds).
func (db *Database) BackupCollection(who *Session, tenant, name, dir string, incremental bool) (*store.BackupInfo, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: backup needs a directory", errs.InvalidArgument)
	}
	st, err := db.maintained(who, tenant, name)
	if err != nil {
		return nil, err
	}
	return st.Backup(dir, incremental)
}

// Health checks every collection's store against thresholds (the local
// caller and operator keys only: it names every tenant's collections), for
// a server's readiness probe. A store that is closed is not ready.
func (db *Database) Health(who *Session, t monitor.Thresholds) (map[string]any, error) {
	if err := db.operatorOnly(who, "health"); err != nil {
		return nil, err
	}
	db.mu.RLock()
	defer db.mu.RUnlock()
	if err := db.liveLocked(); err != nil {
		return nil, err
	}
	status, per := "ok", map[string]monitor.Health{}
	for _, tr := range db.cat.Tenants {
		for _, c := range tr.Collections {
			st := db.stores[c.ID]
			name := tr.Name + "/" + c.Name
			if st == nil {
				per[name] = monitor.Health{Status: "degraded", Reasons: []string{"the store is not open"}}
				status = "degraded"
				continue
			}
			h, err := t.Check(st.Stats())
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errs.InvalidArgument, err)
			}
			if h.Status != "ok" {
				status = "degraded"
			}
			per[name] = h
		}
	}
	return map[string]any{"status": status, "collections": per}, nil
}
