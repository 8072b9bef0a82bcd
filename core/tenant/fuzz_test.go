package tenant

import (
	"bytes"
	"testing"
)

// FuzzCatalog: any bytes as a CATALOG are either a catalog that encodes
// back to bytes that decode to the same catalog, or a Corrupt error -
// never a panic.
func FuzzCatalog(f *testing.F) {
	c := &catalog{Tenants: []*tenantRec{{ID: "0123456789abcdef", Name: "a", Quota: Quota{MaxVectors: 5},
		Roles: map[string][]string{"w": {"write"}}, Collections: []*collRec{{ID: "fedcba9876543210", Name: "docs"}}}},
		Keys: []*keyRec{{ID: "00112233aabbccdd", Tenant: "0123456789abcdef", Name: "k", Role: "reader", Salt: "00", Hash: "11", CostLog: 4}}}
	good := encodeCatalog(c)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"crc32c": "00000000", "catalog": {}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := decodeCatalog(raw, "CATALOG")
		if err != nil {
			return
		}
		again, err := decodeCatalog(encodeCatalog(got), "CATALOG")
		if err != nil {
			t.Fatalf("a decoded catalog does not decode after encoding: %v", err)
		}
		if !bytes.Equal(encodeCatalog(again), encodeCatalog(got)) {
			t.Fatal("encoding is not stable")
		}
	})
}
