package tenant

import (
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
)

// Session is what a front end holds for one API key: the administrative
// calls of Database take it as who, and Collection opens the tenant's
// collections for the checked data calls (collection.go). It is safe for
// concurrent use. A session is checked on every call, not only when it is
// opened: a revoked or expired key, or a dropped tenant, stops it at once.
type Session struct {
	db       *Database
	keyID    string
	tenantID string // "" for an operator
	operator bool
	bucket   *bucket // the key's own rate limit, shared by its sessions
}

// Session opens a session for an API key. Every key that does not open
// one - malformed, unknown, wrong secret, revoked, expired - gets
// PermissionDenied.
func (db *Database) Session(apiKey string) (*Session, error) {
	id, secret, ok := parseKey(apiKey)
	if !ok {
		return nil, errBadKey("malformed (an oxvec key reads oxv_<id>_<secret>)")
	}
	db.mu.RLock()
	if err := db.liveLocked(); err != nil {
		db.mu.RUnlock()
		return nil, err
	}
	k := db.cat.key(id)
	var rec keyRec
	if k != nil {
		rec = *k
	}
	db.mu.RUnlock()
	if k == nil {
		// hash anyway, so an unknown id takes as long as a wrong secret
		(&keyRec{Salt: "00", Hash: "00", CostLog: db.opts.KeyCost}).verify(secret)
		return nil, errBadKey("unknown or wrong")
	}
	if !rec.verify(secret) {
		return nil, errBadKey("unknown or wrong")
	}
	s := &Session{db: db, keyID: id, tenantID: rec.Tenant, operator: rec.Role == OperatorRole && rec.Tenant == ""}
	// every session of a key shares the key's bucket
	b, _ := db.keyBuckets.LoadOrStore(id, newBucket(rec.MaxQPS, rec.Burst))
	s.bucket, _ = b.(*bucket)
	db.mu.RLock()
	defer db.mu.RUnlock()
	if err := s.valid(); err != nil {
		return nil, err
	}
	return s, nil
}

// valid checks the key is still good; the caller holds db.mu.
func (s *Session) valid() error {
	k := s.db.cat.key(s.keyID)
	switch {
	case k == nil:
		return errBadKey("no longer known (its tenant was dropped)")
	case k.Revoked:
		return errBadKey("revoked")
	case k.Expires > 0 && s.db.now().UnixNano() >= k.Expires:
		return errBadKey("expired")
	}
	return nil
}

// perms is what the key's role allows; the caller holds db.mu.
func (s *Session) perms() Perm {
	if s.operator {
		return 0
	}
	t := s.db.cat.tenantByID(s.tenantID)
	k := s.db.cat.key(s.keyID)
	if t == nil || k == nil {
		return 0
	}
	p, _ := rolePerms(t, k.Role)
	return p
}

func (s *Session) role() string {
	if k := s.db.cat.key(s.keyID); k != nil {
		return k.Role
	}
	return ""
}

// Tenant is the name of the session's tenant ("" for an operator).
func (s *Session) Tenant() string {
	s.db.mu.RLock()
	defer s.db.mu.RUnlock()
	if t := s.db.cat.tenantByID(s.tenantID); t != nil {
		return t.Name
	}
	return ""
}

// Operator says whether the session's key is an operator key.
func (s *Session) Operator() bool { return s.operator }

func denied(role string, p Perm, what string) error {
	return fmt.Errorf("%w: the key's role %q has no %s permission (needed to %s)", errs.PermissionDenied, role, p, what)
}

// Database is the session's database.
func (s *Session) Database() *Database { return s.db }
