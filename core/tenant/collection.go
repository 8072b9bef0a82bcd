package tenant

import (
	"context"

	"github.com/oxvec/oxvec/core/monitor"
	"github.com/oxvec/oxvec/core/store"
)

// Collection is a tenant's collection as a session reaches it: the calls
// of store.Store, each checked - the key (valid, its role's permission),
// the rate limits (the tenant's and the key's), the tenant's policy on
// every vector written or searched and, for writes, its quotas.
type Collection struct {
	s    *Session
	id   string
	name string
	st   *store.Store
	cfg  store.Config
}

// Collection opens one of the session's tenant's collections. A name the
// tenant does not have - whether another tenant has it or not - is
// NotFound, the same error.
func (s *Session) Collection(name string) (*Collection, error) {
	db := s.db
	db.mu.RLock()
	defer db.mu.RUnlock()
	if err := db.liveLocked(); err != nil {
		return nil, err
	}
	if err := s.valid(); err != nil {
		return nil, err
	}
	t := db.cat.tenantByID(s.tenantID)
	if s.operator || t == nil {
		return nil, notFoundCollection(name)
	}
	c := t.collection(name)
	if c == nil {
		return nil, notFoundCollection(name)
	}
	return &Collection{s: s, id: c.ID, name: c.Name, st: db.stores[c.ID], cfg: c.Config}, nil
}

// gate is what one checked call learned: the tenant's limits.
type gate struct {
	quota  Quota
	policy Policy
	ts     *tenantState
}

// check runs the checks every call makes, in order: the key, the
// permission, the collection still being there, then the rate limits (a
// refused call costs no token).
func (c *Collection) check(p Perm, what string) (gate, error) {
	db := c.s.db
	db.mu.RLock()
	if err := db.liveLocked(); err != nil {
		db.mu.RUnlock()
		return gate{}, err
	}
	if err := c.s.valid(); err != nil {
		db.mu.RUnlock()
		return gate{}, err
	}
	if have := c.s.perms(); have&p != p {
		role := c.s.role()
		db.mu.RUnlock()
		return gate{}, denied(role, p, what)
	}
	t := db.cat.tenantByID(c.s.tenantID)
	if t == nil || db.stores[c.id] != c.st {
		db.mu.RUnlock()
		return gate{}, notFoundCollection(c.name)
	}
	g := gate{quota: t.Quota, policy: t.Policy, ts: db.tenants[t.ID]}
	db.mu.RUnlock()
	if err := admit(db.now(), []string{"tenant's rate limit", "key's rate limit"}, g.ts.bucket, c.s.bucket); err != nil {
		return gate{}, err
	}
	return g, nil
}

// Config is the collection's configuration.
func (c *Collection) Config() store.Config { return c.cfg }

// Name is the collection's name.
func (c *Collection) Name() string { return c.name }

func (c *Collection) write(ctx context.Context, op string, b store.Batch) error {
	g, err := c.check(PermWrite, op)
	if err == nil {
		err = g.policy.vectors(b.Vectors, c.cfg.Dim, "embeddings")
	}
	var need Usage
	if err == nil {
		need = writeNeed(b, c.cfg.Dim, op)
		err = g.ts.meter.reserve(g.quota, need)
	}
	if err != nil {
		c.st.Monitor().Failed(monitor.Add, err) // refused before the store ran it
		return err
	}
	defer g.ts.meter.settle(need, c.id, c.st)
	switch op {
	case "add":
		return c.st.Add(ctx, b)
	case "upsert":
		return c.st.Upsert(ctx, b)
	default:
		return c.st.Update(ctx, b)
	}
}

// Add is store.Store.Add, checked; the write and its quota are one step.
func (c *Collection) Add(ctx context.Context, b store.Batch) error { return c.write(ctx, "add", b) }

// Upsert is store.Store.Upsert, checked (it reserves quota for every id).
func (c *Collection) Upsert(ctx context.Context, b store.Batch) error {
	return c.write(ctx, "upsert", b)
}

// Update is store.Store.Update, checked.
func (c *Collection) Update(ctx context.Context, b store.Batch) error {
	return c.write(ctx, "update", b)
}

// Delete is store.Store.Delete, checked; the quota it frees is given back.
func (c *Collection) Delete(ctx context.Context, keys []string, where, whereDoc any) (int, error) {
	g, err := c.check(PermDelete, "delete")
	if err != nil {
		c.st.Monitor().Failed(monitor.Delete, err)
		return 0, err
	}
	n, err := c.st.Delete(ctx, keys, where, whereDoc)
	g.ts.meter.set(c.id, c.st)
	return n, err
}

// Get is store.Store.Get, checked.
func (c *Collection) Get(keys []string, where, whereDoc any, limit, offset int, inc store.Include) (*store.Rows, error) {
	if _, err := c.check(PermRead, "get"); err != nil {
		return nil, err
	}
	return c.st.Get(keys, where, whereDoc, limit, offset, inc)
}

// Search is store.Store.Search, checked; the policy applies to the queries.
func (c *Collection) Search(ctx context.Context, req store.SearchRequest) (*store.Hits, error) {
	g, err := c.check(PermRead, "search")
	if err == nil {
		err = g.policy.vectors(req.Vectors, c.cfg.Dim, "queries")
	}
	if err != nil {
		c.st.Monitor().Failed(monitor.Search, err)
		return nil, err
	}
	return c.st.Search(ctx, req)
}

// Count is store.Store.Count, checked.
func (c *Collection) Count() (int, error) {
	if _, err := c.check(PermRead, "count"); err != nil {
		return 0, err
	}
	return c.st.Count(), nil
}

// Info is store.Store.Info, checked; Path is the collection's name (the
// server's directories are not the client's business).
func (c *Collection) Info() (store.Info, error) {
	if _, err := c.check(PermRead, "read info"); err != nil {
		return store.Info{}, err
	}
	in := c.st.Info()
	in.Path = c.name
	return in, nil
}

// Stats is store.Store.Stats, checked (read permission).
func (c *Collection) Stats() (monitor.Stats, error) {
	if _, err := c.check(PermRead, "read stats"); err != nil {
		return monitor.Stats{}, err
	}
	return c.st.Stats(), nil
}

// Store is the collection's store, for the engine's own reports (metrics);
// not for serving a session's calls.
func (c *Collection) Store() *store.Store { return c.st }

// Explain is store.Store.Explain, checked (read permission).
func (c *Collection) Explain(req store.SearchRequest) (store.Explain, error) {
	if _, err := c.check(PermRead, "explain"); err != nil {
		return store.Explain{}, err
	}
	return c.st.Explain(req)
}
