package store

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

// A filter on metadata, in the dict language of Chroma and MongoDB:
//
//	{"genre": "jazz"}                        equality ($eq)
//	{"year": {"$gte": 1990, "$lt": 2000}}    $ne $gt $gte $lt $lte $in $nin $exists
//	{"$and": [...]}, {"$or": [...]}, {"$not": {...}}
//
// Several keys in one object are ANDed. A list-valued field matches $eq and
// $in when any element does, and $ne and $nin when none does. A record
// without the field matches only $ne, $nin and {"$exists": false}.
type pred interface {
	match(m Meta) bool
}

type andPred []pred
type orPred []pred
type notPred struct{ p pred }

func (a andPred) match(m Meta) bool {
	for _, p := range a {
		if !p.match(m) {
			return false
		}
	}
	return true
}

func (o orPred) match(m Meta) bool {
	for _, p := range o {
		if p.match(m) {
			return true
		}
	}
	return false
}

func (n notPred) match(m Meta) bool { return !n.p.match(m) }

// fieldPred is one operator on one field.
type fieldPred struct {
	field string
	op    string
	arg   any   // scalar argument
	args  []any // $in / $nin
}

func (f fieldPred) match(m Meta) bool {
	v, present := m[f.field]
	switch f.op {
	case "$exists":
		return present == f.arg.(bool)
	case "$ne", "$nin":
		if !present {
			return true
		}
		return !anyElem(v, func(x any) bool { return f.hits(x) })
	}
	if !present {
		return false
	}
	return anyElem(v, func(x any) bool { return f.hits(x) })
}

// hits applies the operator to one scalar (for $ne/$nin: whether it equals).
func (f fieldPred) hits(x any) bool {
	switch f.op {
	case "$eq", "$ne":
		c, ok := compare(x, f.arg)
		return ok && c == 0
	case "$in", "$nin":
		for _, a := range f.args {
			if c, ok := compare(x, a); ok && c == 0 {
				return true
			}
		}
		return false
	}
	c, ok := compare(x, f.arg)
	if !ok {
		return false
	}
	switch f.op {
	case "$gt":
		return c > 0
	case "$gte":
		return c >= 0
	case "$lt":
		return c < 0
	case "$lte":
		return c <= 0
	}
	return false
}

func anyElem(v any, f func(any) bool) bool {
	if list, ok := v.([]any); ok {
		for _, x := range list {
			if f(x) {
				return true
			}
		}
		return false
	}
	return f(v)
}

func badFilter(format string, a ...any) error {
	return fmt.Errorf("%w: filter: "+format, append([]any{errs.InvalidArgument}, a...)...)
}

// parseWhere builds the predicate of a decoded filter object; nil for none.
func parseWhere(raw any) (pred, error) {
	if raw == nil {
		return nil, nil
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, badFilter("expected an object such as {\"field\": value}, got %T", raw)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var all andPred
	for _, k := range keys {
		v := obj[k]
		switch k {
		case "$and", "$or":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return nil, badFilter("%s takes a non-empty list of filters", k)
			}
			var ps []pred
			for _, sub := range list {
				p, err := parseWhere(sub)
				if err != nil {
					return nil, err
				}
				ps = append(ps, p)
			}
			if k == "$and" {
				all = append(all, andPred(ps))
			} else {
				all = append(all, orPred(ps))
			}
		case "$not":
			p, err := parseWhere(v)
			if err != nil {
				return nil, err
			}
			all = append(all, notPred{p})
		default:
			if strings.HasPrefix(k, "$") {
				return nil, badFilter("unknown operator %s at the top level (known: $and, $or, $not)", k)
			}
			ps, err := parseField(k, v)
			if err != nil {
				return nil, err
			}
			all = append(all, ps...)
		}
	}
	if len(all) == 1 {
		return all[0], nil
	}
	return all, nil
}

var fieldOps = map[string]bool{"$eq": true, "$ne": true, "$gt": true, "$gte": true, "$lt": true, "$lte": true, "$in": true, "$nin": true, "$exists": true}

func parseField(field string, v any) ([]pred, error) {
	ops, isObj := v.(map[string]any)
	if !isObj {
		arg, err := value(v, false)
		if err != nil {
			return nil, badFilter("%q: %v", field, err)
		}
		return []pred{fieldPred{field: field, op: "$eq", arg: arg}}, nil
	}
	names := make([]string, 0, len(ops))
	for op := range ops {
		names = append(names, op)
	}
	sort.Strings(names)
	var out []pred
	for _, op := range names {
		arg := ops[op]
		if !fieldOps[op] {
			return nil, badFilter("%q: unknown operator %s (known: $eq $ne $gt $gte $lt $lte $in $nin $exists)", field, op)
		}
		fp := fieldPred{field: field, op: op}
		switch op {
		case "$exists":
			b, ok := arg.(bool)
			if !ok {
				return nil, badFilter("%q: $exists takes true or false", field)
			}
			fp.arg = b
		case "$in", "$nin":
			list, ok := arg.([]any)
			if !ok {
				return nil, badFilter("%q: %s takes a list", field, op)
			}
			for _, x := range list {
				xv, err := value(x, false)
				if err != nil {
					return nil, badFilter("%q: %v", field, err)
				}
				fp.args = append(fp.args, xv)
			}
		default:
			xv, err := value(arg, false)
			if err != nil {
				return nil, badFilter("%q: %v", field, err)
			}
			if op != "$eq" && op != "$ne" {
				if _, isBool := xv.(bool); isBool {
					return nil, badFilter("%q: %s needs a number or a string", field, op)
				}
			}
			fp.arg = xv
		}
		out = append(out, fp)
	}
	return out, nil
}

// A document filter: {"$contains": "text"}, {"$not_contains": "text"},
// combined with $and / $or. Matching is case-sensitive, as in Chroma.
type docPred interface {
	matchDoc(doc string, has bool) bool
}

type docContains struct {
	text string
	not  bool
}

func (d docContains) matchDoc(doc string, has bool) bool {
	in := has && strings.Contains(doc, d.text)
	return in != d.not
}

type docAnd []docPred
type docOr []docPred

func (a docAnd) matchDoc(doc string, has bool) bool {
	for _, p := range a {
		if !p.matchDoc(doc, has) {
			return false
		}
	}
	return true
}

func (o docOr) matchDoc(doc string, has bool) bool {
	for _, p := range o {
		if p.matchDoc(doc, has) {
			return true
		}
	}
	return false
}

func parseWhereDocument(raw any) (docPred, error) {
	if raw == nil {
		return nil, nil
	}
	obj, ok := raw.(map[string]any)
	if !ok || len(obj) != 1 {
		return nil, badFilter("where_document takes one operator: {\"$contains\": text}, {\"$not_contains\": text}, $and, $or")
	}
	for k, v := range obj {
		switch k {
		case "$contains", "$not_contains":
			s, ok := v.(string)
			if !ok {
				return nil, badFilter("%s takes a string", k)
			}
			return docContains{s, k == "$not_contains"}, nil
		case "$and", "$or":
			list, ok := v.([]any)
			if !ok || len(list) == 0 {
				return nil, badFilter("%s takes a non-empty list", k)
			}
			var ps []docPred
			for _, sub := range list {
				p, err := parseWhereDocument(sub)
				if err != nil {
					return nil, err
				}
				ps = append(ps, p)
			}
			if k == "$and" {
				return docAnd(ps), nil
			}
			return docOr(ps), nil
		default:
			return nil, badFilter("unknown document operator %s", k)
		}
	}
	return nil, nil
}
