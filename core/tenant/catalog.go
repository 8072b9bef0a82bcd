package tenant

import (
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/format"
	"github.com/oxvec/oxvec/core/store"
)

// The CATALOG is the database's root: its tenants with their quotas,
// policies, roles and collections, and the API keys (ids, salts and slow
// hashes - never a secret). Like a store's MANIFEST it is replaced
// atomically (format.WriteFile) and carries a CRC-32C of its bytes:
//
//	{"crc32c": "<8 hex digits>", "catalog": {...}}

const (
	catalogName   = "CATALOG"
	catalogFormat = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type catalog struct {
	Format  int          `json:"format"`
	Tenants []*tenantRec `json:"tenants"`
	Keys    []*keyRec    `json:"keys"`
}

type tenantRec struct {
	ID          string              `json:"id"`
	Name        string              `json:"name"`
	Quota       Quota               `json:"quota"`
	Policy      Policy              `json:"policy"`
	Roles       map[string][]string `json:"roles,omitempty"` // custom roles: name -> permissions
	Collections []*collRec          `json:"collections"`
}

type collRec struct {
	ID     string       `json:"id"`
	Name   string       `json:"name"`
	Config store.Config `json:"config"`
}

// keyRec is an API key as stored: its public id, whose it is, and the
// scrypt hash of its secret.
type keyRec struct {
	ID      string  `json:"id"`
	Tenant  string  `json:"tenant"` // tenant id; "" for an operator key
	Name    string  `json:"name"`
	Role    string  `json:"role"`
	Salt    string  `json:"salt"` // hex
	Hash    string  `json:"hash"` // hex scrypt(secret, salt)
	CostLog int     `json:"cost_log2"`
	Created int64   `json:"created_ns"`
	Expires int64   `json:"expires_ns,omitempty"` // 0: never
	Revoked bool    `json:"revoked,omitempty"`
	MaxQPS  float64 `json:"max_qps,omitempty"`
	Burst   int     `json:"burst,omitempty"`
}

type catalogFile struct {
	CRC32C  string          `json:"crc32c"`
	Catalog json.RawMessage `json:"catalog"`
}

func encodeCatalog(c *catalog) []byte {
	c.Format = catalogFormat
	inner, _ := json.MarshalIndent(c, " ", " ")
	return fmt.Appendf(nil, "{\n \"crc32c\": \"%08x\",\n \"catalog\": %s\n}\n", crc32.Checksum(inner, castagnoli), inner)
}

func decodeCatalog(raw []byte, name string) (*catalog, error) {
	bad := func(why string) (*catalog, error) {
		return nil, fmt.Errorf("%w: %s %s", errs.Corrupt, name, why)
	}
	var f catalogFile
	if err := json.Unmarshal(raw, &f); err != nil || f.Catalog == nil {
		return bad("is not a tenancy catalog")
	}
	if got := fmt.Sprintf("%08x", crc32.Checksum(f.Catalog, castagnoli)); got != f.CRC32C {
		return bad(fmt.Sprintf("is damaged (CRC-32C %s, recorded %s)", got, f.CRC32C))
	}
	c := &catalog{}
	if err := json.Unmarshal(f.Catalog, c); err != nil || c.Format != catalogFormat {
		return bad("has an unknown layout")
	}
	return c, nil
}

func writeCatalog(path string, c *catalog) error {
	if err := format.WriteBytes(path, encodeCatalog(c)); err != nil {
		return fmt.Errorf("writing the catalog: %w", err)
	}
	return nil
}

// clone is a deep copy: a change is made on a copy and installed only once
// the copy is durable, so a failed write leaves the catalog in memory as
// it is on disk.
func (c *catalog) clone() *catalog {
	b, _ := json.Marshal(c)
	n := &catalog{}
	json.Unmarshal(b, n)
	return n
}

func (c *catalog) tenant(name string) *tenantRec {
	for _, t := range c.Tenants {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func (c *catalog) tenantByID(id string) *tenantRec {
	for _, t := range c.Tenants {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (t *tenantRec) collection(name string) *collRec {
	for _, c := range t.Collections {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (c *catalog) key(id string) *keyRec {
	for _, k := range c.Keys {
		if k.ID == id {
			return k
		}
	}
	return nil
}

// newID is 16 random hex digits: the names of directories and key ids.
func newID() string {
	var b [8]byte
	crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
