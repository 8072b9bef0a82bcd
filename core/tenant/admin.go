package tenant

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/metric"
	"github.com/oxvec/oxvec/core/store"
)

// The administrative calls. Each takes who: nil for the Database's own,
// trusted caller, or the Session of an operator key (every tenant) or of a
// tenant key whose role has the admin permission (its own tenant). A
// tenant key naming another tenant gets the error of a tenant that does
// not exist.

// TenantInfo describes a tenant.
type TenantInfo struct {
	Name        string              `json:"name"`
	Quota       Quota               `json:"quota"`
	Policy      Policy              `json:"policy"`
	Roles       map[string][]string `json:"roles,omitempty"`
	Collections int                 `json:"collections"`
	Usage       Usage               `json:"usage"`
}

// CollectionInfo describes a collection.
type CollectionInfo struct {
	Name   string          `json:"name"`
	Dim    int             `json:"dim"`
	Metric string          `json:"metric"`
	Index  json.RawMessage `json:"index,omitempty"`
	Count  int             `json:"count"`
}

// KeyInfo describes an API key (never its secret).
type KeyInfo struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Tenant  string  `json:"tenant,omitempty"` // tenant name; empty for operator keys
	Role    string  `json:"role"`
	Created int64   `json:"created_ns"`
	Expires int64   `json:"expires_ns,omitempty"`
	Revoked bool    `json:"revoked,omitempty"`
	MaxQPS  float64 `json:"max_qps,omitempty"`
	Burst   int     `json:"burst,omitempty"`
}

// KeyOptions are a key's own rate limit and expiry (zero: none).
type KeyOptions struct {
	MaxQPS    float64 `json:"max_qps,omitempty"`
	Burst     int     `json:"burst,omitempty"`
	ExpiresNS int64   `json:"expires_ns,omitempty"` // unix ns
}

func notFoundTenant(name string) error {
	return fmt.Errorf("%w: tenant %q does not exist", errs.NotFound, name)
}

func notFoundCollection(name string) error {
	return fmt.Errorf("%w: collection %q does not exist", errs.NotFound, name)
}

// operatorOnly lets the local caller and operator keys through.
func (db *Database) operatorOnly(who *Session, what string) error {
	if who == nil {
		return nil
	}
	if err := who.valid(); err != nil {
		return err
	}
	if !who.operator {
		return fmt.Errorf("%w: %s needs an operator key", errs.PermissionDenied, what)
	}
	return nil
}

// adminOf finds the tenant named, as who may administer it; the caller
// holds db.mu.
func (db *Database) adminOf(who *Session, cat *catalog, name string) (*tenantRec, error) {
	t := cat.tenant(name)
	if who == nil {
		if t == nil {
			return nil, notFoundTenant(name)
		}
		return t, nil
	}
	if err := who.valid(); err != nil {
		return nil, err
	}
	if who.operator {
		if t == nil {
			return nil, notFoundTenant(name)
		}
		return t, nil
	}
	if t == nil || t.ID != who.tenantID {
		return nil, notFoundTenant(name)
	}
	if who.perms()&PermAdmin == 0 {
		return nil, fmt.Errorf("%w: the key's role %q has no admin permission", errs.PermissionDenied, who.role())
	}
	return t, nil
}

// CreateTenant adds a tenant.
func (db *Database) CreateTenant(who *Session, name string, q Quota, p Policy) error {
	if err := checkName("tenant", name); err != nil {
		return err
	}
	if err := q.check(); err != nil {
		return err
	}
	if err := p.check(); err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.liveLocked(); err != nil {
		return err
	}
	if err := db.operatorOnly(who, "creating a tenant"); err != nil {
		return err
	}
	if db.cat.tenant(name) != nil {
		return fmt.Errorf("%w: tenant %q exists", errs.DuplicateID, name)
	}
	next := db.cat.clone()
	t := &tenantRec{ID: newID(), Name: name, Quota: q, Policy: p, Collections: []*collRec{}}
	next.Tenants = append(next.Tenants, t)
	if err := os.MkdirAll(db.tenantDir(t.ID), 0o755); err != nil {
		return fmt.Errorf("%w: %v", errs.IO, err)
	}
	crashPoint("tenant:dir")
	if err := db.commit(next); err != nil {
		return err
	}
	db.tenants[t.ID] = &tenantState{meter: newMeter(), bucket: newBucket(q.MaxQPS, q.Burst)}
	return nil
}

// DropTenant removes a tenant, its collections and its keys.
func (db *Database) DropTenant(who *Session, name string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.liveLocked(); err != nil {
		return err
	}
	if err := db.operatorOnly(who, "dropping a tenant"); err != nil {
		return err
	}
	t := db.cat.tenant(name)
	if t == nil {
		return notFoundTenant(name)
	}
	next := db.cat.clone()
	next.Tenants = deleteFunc(next.Tenants, func(x *tenantRec) bool { return x.ID == t.ID })
	next.Keys = deleteFunc(next.Keys, func(k *keyRec) bool { return k.Tenant == t.ID })
	if err := db.commit(next); err != nil {
		return err
	}
	crashPoint("tenant:dropped")
	for _, c := range t.Collections {
		if st := db.stores[c.ID]; st != nil {
			st.Close()
			delete(db.stores, c.ID)
		}
	}
	delete(db.tenants, t.ID)
	os.RemoveAll(db.tenantDir(t.ID))
	return nil
}

// Tenants lists every tenant, by name.
func (db *Database) Tenants(who *Session) ([]TenantInfo, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if err := db.liveLocked(); err != nil {
		return nil, err
	}
	if err := db.operatorOnly(who, "listing tenants"); err != nil {
		return nil, err
	}
	out := []TenantInfo{}
	for _, t := range db.cat.Tenants {
		out = append(out, db.tenantInfo(t))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (db *Database) tenantInfo(t *tenantRec) TenantInfo {
	return TenantInfo{Name: t.Name, Quota: t.Quota, Policy: t.Policy, Roles: t.Roles, Collections: len(t.Collections), Usage: db.tenants[t.ID].meter.total()}
}

// Tenant describes one tenant (its admins may ask).
func (db *Database) Tenant(who *Session, name string) (TenantInfo, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if err := db.liveLocked(); err != nil {
		return TenantInfo{}, err
	}
	t, err := db.adminOf(who, db.cat, name)
	if err != nil {
		return TenantInfo{}, err
	}
	return db.tenantInfo(t), nil
}

// CreateCollection adds a collection (a new store) to a tenant; its
// dimension and metric must be what the tenant's policy allows.
func (db *Database) CreateCollection(who *Session, tenant, name string, cfg store.Config) error {
	if err := checkName("collection", name); err != nil {
		return err
	}
	if cfg.Dim <= 0 {
		return fmt.Errorf("%w: dim must be a positive integer, got %d", errs.InvalidArgument, cfg.Dim)
	}
	if cfg.Metric == "" {
		cfg.Metric = "l2"
	}
	kind, err := metric.Parse(cfg.Metric)
	if err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.liveLocked(); err != nil {
		return err
	}
	t, err := db.adminOf(who, db.cat, tenant)
	if err != nil {
		return err
	}
	if err := t.Policy.allows(cfg.Dim, kind.String()); err != nil {
		return err
	}
	if t.collection(name) != nil {
		return fmt.Errorf("%w: collection %q exists", errs.DuplicateID, name)
	}
	c := &collRec{ID: newID(), Name: name}
	opts := db.opts.Store
	opts.Create = &cfg
	opts.Name = t.Name + "/" + name // its name in metrics
	st, err := store.Open(db.collDir(t.ID, c.ID), opts)
	if err != nil {
		os.RemoveAll(db.collDir(t.ID, c.ID))
		return err
	}
	c.Config = st.Config()
	crashPoint("collection:store")
	next := db.cat.clone()
	nt := next.tenantByID(t.ID)
	nt.Collections = append(nt.Collections, c)
	if err := db.commit(next); err != nil {
		st.Close()
		os.RemoveAll(db.collDir(t.ID, c.ID))
		return err
	}
	db.stores[c.ID] = st
	db.tenants[t.ID].meter.set(c.ID, st)
	return nil
}

// DropCollection removes a collection and its data; its quota is given
// back.
func (db *Database) DropCollection(who *Session, tenant, name string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.liveLocked(); err != nil {
		return err
	}
	t, err := db.adminOf(who, db.cat, tenant)
	if err != nil {
		return err
	}
	c := t.collection(name)
	if c == nil {
		return notFoundCollection(name)
	}
	next := db.cat.clone()
	nt := next.tenantByID(t.ID)
	nt.Collections = deleteFunc(nt.Collections, func(x *collRec) bool { return x.ID == c.ID })
	if err := db.commit(next); err != nil {
		return err
	}
	crashPoint("collection:dropped")
	if st := db.stores[c.ID]; st != nil {
		st.Close()
		delete(db.stores, c.ID)
	}
	db.tenants[t.ID].meter.drop(c.ID)
	os.RemoveAll(db.collDir(t.ID, c.ID))
	return nil
}

// Collections lists a tenant's collections, by name.
func (db *Database) Collections(who *Session, tenant string) ([]CollectionInfo, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if err := db.liveLocked(); err != nil {
		return nil, err
	}
	var t *tenantRec
	if who != nil && !who.operator {
		// any key of the tenant may list its collections
		if err := who.valid(); err != nil {
			return nil, err
		}
		if t = db.cat.tenant(tenant); t == nil || t.ID != who.tenantID {
			return nil, notFoundTenant(tenant)
		}
	} else {
		var err error
		if t, err = db.adminOf(who, db.cat, tenant); err != nil {
			return nil, err
		}
	}
	out := []CollectionInfo{}
	for _, c := range t.Collections {
		n := 0
		if st := db.stores[c.ID]; st != nil {
			n = st.Count()
		}
		out = append(out, CollectionInfo{Name: c.Name, Dim: c.Config.Dim, Metric: c.Config.Metric, Index: c.Config.Index, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// CreateRole adds a custom role: a name and its permissions.
func (db *Database) CreateRole(who *Session, tenant, name string, perms []string) error {
	if err := checkName("role", name); err != nil {
		return err
	}
	if _, err := parsePerms(perms); err != nil {
		return err
	}
	if _, ok := builtinRoles[name]; ok || name == OperatorRole {
		return fmt.Errorf("%w: %q is a built-in role", errs.DuplicateID, name)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.liveLocked(); err != nil {
		return err
	}
	t, err := db.adminOf(who, db.cat, tenant)
	if err != nil {
		return err
	}
	if _, ok := t.Roles[name]; ok {
		return fmt.Errorf("%w: role %q exists", errs.DuplicateID, name)
	}
	next := db.cat.clone()
	nt := next.tenantByID(t.ID)
	if nt.Roles == nil {
		nt.Roles = map[string][]string{}
	}
	nt.Roles[name] = append([]string{}, perms...)
	return db.commit(next)
}

// CreateKey makes an API key of a tenant with a role (tenant "" and role
// "operator": an operator key) and returns the key - the only time its
// secret is seen.
func (db *Database) CreateKey(who *Session, tenant, role, name string, o KeyOptions) (string, KeyInfo, error) {
	if err := checkName("key", name); err != nil {
		return "", KeyInfo{}, err
	}
	if o.MaxQPS < 0 || o.Burst < 0 {
		return "", KeyInfo{}, fmt.Errorf("%w: max_qps and burst must be >= 0", errs.InvalidArgument)
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.liveLocked(); err != nil {
		return "", KeyInfo{}, err
	}
	var tid string
	if tenant == "" {
		if role != OperatorRole {
			return "", KeyInfo{}, fmt.Errorf("%w: a key without a tenant is an operator key: role must be %q", errs.InvalidArgument, OperatorRole)
		}
		if err := db.operatorOnly(who, "creating an operator key"); err != nil {
			return "", KeyInfo{}, err
		}
	} else {
		t, err := db.adminOf(who, db.cat, tenant)
		if err != nil {
			return "", KeyInfo{}, err
		}
		if _, ok := rolePerms(t, role); !ok {
			return "", KeyInfo{}, fmt.Errorf("%w: tenant %q has no role %q (built-in: reader, writer, admin)", errs.InvalidArgument, tenant, role)
		}
		tid = t.ID
	}
	for _, k := range db.cat.Keys {
		if k.Tenant == tid && k.Name == name {
			return "", KeyInfo{}, fmt.Errorf("%w: key %q exists", errs.DuplicateID, name)
		}
	}
	k, secret, err := newKey(db.opts.KeyCost)
	if err != nil {
		return "", KeyInfo{}, err
	}
	k.Tenant, k.Role, k.Name, k.Created, k.Expires = tid, role, name, db.now().UnixNano(), o.ExpiresNS
	k.MaxQPS, k.Burst = o.MaxQPS, o.Burst
	next := db.cat.clone()
	next.Keys = append(next.Keys, k)
	if err := db.commit(next); err != nil {
		return "", KeyInfo{}, err
	}
	return secret, db.keyInfo(k), nil
}

func (db *Database) keyInfo(k *keyRec) KeyInfo {
	var tn string
	if t := db.cat.tenantByID(k.Tenant); t != nil {
		tn = t.Name
	}
	return KeyInfo{ID: k.ID, Name: k.Name, Tenant: tn, Role: k.Role, Created: k.Created, Expires: k.Expires, Revoked: k.Revoked, MaxQPS: k.MaxQPS, Burst: k.Burst}
}

// keysOf is the tenant's keys (tenant "": the operator keys) as who may see
// them; the caller holds db.mu.
func (db *Database) keysOf(who *Session, tenant string) (string, error) {
	if tenant == "" {
		return "", db.operatorOnly(who, "managing operator keys")
	}
	t, err := db.adminOf(who, db.cat, tenant)
	if err != nil {
		return "", err
	}
	return t.ID, nil
}

// RevokeKey revokes a key, named by its name or id; sessions opened with it
// fail from their next call.
func (db *Database) RevokeKey(who *Session, tenant, key string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.liveLocked(); err != nil {
		return err
	}
	tid, err := db.keysOf(who, tenant)
	if err != nil {
		return err
	}
	next := db.cat.clone()
	for _, k := range next.Keys {
		if k.Tenant == tid && (k.Name == key || k.ID == key) {
			k.Revoked = true
			return db.commit(next)
		}
	}
	return fmt.Errorf("%w: key %q does not exist", errs.NotFound, key)
}

// Keys lists a tenant's keys (tenant "": the operator keys).
func (db *Database) Keys(who *Session, tenant string) ([]KeyInfo, error) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if err := db.liveLocked(); err != nil {
		return nil, err
	}
	tid, err := db.keysOf(who, tenant)
	if err != nil {
		return nil, err
	}
	out := []KeyInfo{}
	for _, k := range db.cat.Keys {
		if k.Tenant == tid {
			out = append(out, db.keyInfo(k))
		}
	}
	return out, nil
}

func deleteFunc[T any](xs []T, del func(T) bool) []T {
	out := xs[:0]
	for _, x := range xs {
		if !del(x) {
			out = append(out, x)
		}
	}
	return out
}
