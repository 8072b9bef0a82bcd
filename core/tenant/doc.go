// Package tenant puts many tenants into one database directory: each has
// collections (each a store.Store), roles, API keys, quotas, a rate limit
// and a validation policy, all enforced here, in the engine, so every front
// end (the C ABI, the Python package, a server) gets the same guarantees.
//
// A Database is a root directory with a CATALOG (catalog.go): the tenants,
// their collections and the API keys, replaced atomically and checksummed,
// so a crash leaves the old catalog or the new one. Collections live in
// directories named by random ids (tenants/<tenant id>/<collection id>),
// never by user-given names, so no name can reach outside its tenant.
//
// The Database itself is the trusted, local administrator (whoever can open
// the directory owns it). A front end serving other people opens a Session
// from an API key (session.go) and reaches data only through it: every call
// is checked for the key's validity, its role's permission, the tenant's
// and the key's rate limits, the tenant's validation policy and, for
// writes, its quotas - reserved before the write and settled after it, so
// concurrent writers cannot overshoot (quota.go).
//
// Caveats: max_vectors is exact; the byte quotas are checked against an
// estimate of the write and then settled with the store's measured size, so
// one write may take a tenant a little past them (never a second one). An
// upsert reserves room for all its ids, as if each were new.
package tenant
