package tenant

import (
	"fmt"
	"slices"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

// Perm is one permission; a role is a set of them.
type Perm uint8

const (
	PermRead   Perm = 1 << iota // count, get, search, info
	PermWrite                   // add, upsert, update
	PermDelete                  // delete
	PermAdmin                   // collections, keys and roles of the tenant
)

var permNames = []struct {
	p    Perm
	name string
}{{PermRead, "read"}, {PermWrite, "write"}, {PermDelete, "delete"}, {PermAdmin, "admin"}}

func (p Perm) String() string {
	var s []string
	for _, n := range permNames {
		if p&n.p != 0 {
			s = append(s, n.name)
		}
	}
	return strings.Join(s, ",")
}

// OperatorRole is the role of an operator key (no tenant): it administers
// tenants and every tenant's collections, keys and roles, but reads no
// data.
const OperatorRole = "operator"

// builtinRoles are the roles every tenant has.
var builtinRoles = map[string]Perm{
	"reader": PermRead,
	"writer": PermRead | PermWrite | PermDelete,
	"admin":  PermRead | PermWrite | PermDelete | PermAdmin,
}

// parsePerms reads a role's permission names.
func parsePerms(names []string) (Perm, error) {
	var p Perm
	for _, s := range names {
		i := slices.IndexFunc(permNames, func(n struct {
			p    Perm
			name string
		}) bool {
			return n.name == s
		})
		if i < 0 {
			return 0, fmt.Errorf("%w: unknown permission %q (known: read, write, delete, admin)", errs.InvalidArgument, s)
		}
		p |= permNames[i].p
	}
	return p, nil
}

// rolePerms is what a role of tenant t allows.
func rolePerms(t *tenantRec, role string) (Perm, bool) {
	if p, ok := builtinRoles[role]; ok {
		return p, true
	}
	names, ok := t.Roles[role]
	if !ok {
		return 0, false
	}
	p, err := parsePerms(names)
	return p, err == nil
}
