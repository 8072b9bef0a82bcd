package tenant

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/monitor"
	"github.com/oxvec/oxvec/core/store"
)

// The JSON forms of the administrative calls, for the C ABI and any other
// front end: {"op": "<name>", ...its fields}. Unknown fields are errors.

// Request is every field any op takes.
type Request struct {
	Op          string             `json:"op"`
	Tenant      string             `json:"tenant"`
	Name        string             `json:"name"`
	Quota       Quota              `json:"quota"`
	Policy      Policy             `json:"policy"`
	Dim         int                `json:"dim"`
	Metric      string             `json:"metric"`
	Index       json.RawMessage    `json:"index"`
	TrainAfter  int                `json:"train_after"`
	Role        string             `json:"role"`
	Permissions []string           `json:"permissions"`
	Key         string             `json:"key"`
	Dir         string             `json:"dir"`         // backup_collection
	Incremental *bool              `json:"incremental"` // backup_collection; default true
	Thresholds  monitor.Thresholds `json:"thresholds"`  // health
	KeyOptions
}

// Admin runs one administrative request for who (nil: the trusted local
// caller) and returns its JSON-encodable result.
func (db *Database) Admin(who *Session, raw []byte) (any, error) {
	var r Request
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%w: admin request: %v", errs.InvalidArgument, err)
	}
	ok := map[string]bool{}
	switch r.Op {
	case "create_tenant":
		return ok, db.CreateTenant(who, r.Name, r.Quota, r.Policy)
	case "drop_tenant":
		return ok, db.DropTenant(who, r.Name)
	case "tenants":
		return db.Tenants(who)
	case "tenant":
		return db.Tenant(who, r.Name)
	case "create_collection":
		cfg := store.Config{Dim: r.Dim, Metric: r.Metric, Index: r.Index, TrainAfter: r.TrainAfter}
		return ok, db.CreateCollection(who, r.Tenant, r.Name, cfg)
	case "drop_collection":
		return ok, db.DropCollection(who, r.Tenant, r.Name)
	case "collections":
		return db.Collections(who, r.Tenant)
	case "create_role":
		return ok, db.CreateRole(who, r.Tenant, r.Name, r.Permissions)
	case "create_api_key":
		secret, info, err := db.CreateKey(who, r.Tenant, r.Role, r.Name, r.KeyOptions)
		return map[string]any{"key": secret, "info": info}, err
	case "revoke_api_key":
		return ok, db.RevokeKey(who, r.Tenant, r.Key)
	case "api_keys":
		return db.Keys(who, r.Tenant)
	case "snapshot_collection":
		return ok, db.SnapshotCollection(who, r.Tenant, r.Name)
	case "backup_collection":
		info, err := db.BackupCollection(who, r.Tenant, r.Name, r.Dir, r.Incremental == nil || *r.Incremental)
		if err != nil {
			return nil, err
		}
		return map[string]any{"copied": info.Copied, "kept": info.Kept, "last_seq": info.LastSeq}, nil
	case "health":
		return db.Health(who, r.Thresholds)
	case "whoami":
		if who == nil {
			return map[string]any{"operator": true}, nil
		}
		return map[string]any{"tenant": who.Tenant(), "operator": who.Operator()}, nil
	}
	return nil, fmt.Errorf("%w: unknown admin op %q (create_tenant, drop_tenant, tenants, tenant, create_collection, drop_collection, collections, create_role, create_api_key, revoke_api_key, api_keys, snapshot_collection, backup_collection, health, whoami)", errs.InvalidArgument, r.Op)
}

// DecodeOpen reads database options: {"durability": "always" | "interval"
// | "never" (the collections' stores), "key_cost_log2": n}.
func DecodeOpen(b []byte) (Options, error) {
	var r struct {
		KeyCost    int    `json:"key_cost_log2"`
		Durability string `json:"durability"`
	}
	if len(bytes.TrimSpace(b)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return Options{}, fmt.Errorf("%w: database options: %v", errs.InvalidArgument, err)
		}
	}
	if r.KeyCost < 0 || r.KeyCost > 20 {
		return Options{}, fmt.Errorf("%w: key_cost_log2 must be in 1..20 (0: the default %d)", errs.InvalidArgument, DefaultKeyCost)
	}
	d, err := store.ParseDurability(r.Durability)
	if err != nil {
		return Options{}, err
	}
	return Options{KeyCost: r.KeyCost, Store: store.Options{Durability: d}}, nil
}
