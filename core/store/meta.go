package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/oxvec/oxvec/core/errs"
)

// Metadata values are string, int64, float64, bool, or a []any of those;
// JSON numbers written without a fraction or exponent decode as int64, and
// are an error beyond its range (never silently a float).

// Meta is one record's metadata.
type Meta map[string]any

// decodeJSON decodes with numbers kept exact.
func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// normalize checks a decoded metadata map and converts its numbers.
func normalize(raw map[string]any, where string) (Meta, error) {
	if raw == nil {
		return nil, nil
	}
	out := make(Meta, len(raw))
	for k, v := range raw {
		if k == "" {
			return nil, fmt.Errorf("%w: %s: metadata keys must not be empty", errs.InvalidArgument, where)
		}
		nv, err := value(v, true)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: metadata %q: %v", errs.InvalidArgument, where, k, err)
		}
		out[k] = nv
	}
	return out, nil
}

// value converts one decoded JSON value to a metadata value.
func value(v any, listOK bool) (any, error) {
	switch x := v.(type) {
	case string, bool:
		return x, nil
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i, nil
		}
		if !strings.ContainsAny(string(x), ".eE") {
			// an integer beyond int64: read as a float it would lose digits
			// and start matching float filters
			return nil, fmt.Errorf("integer %s is outside int64 [-2^63, 2^63-1]; store it as a string (or as a float, deliberately)", x)
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("number %s is out of range", x)
		}
		return f, nil
	case float64:
		return x, nil
	case int64:
		return x, nil
	case []any:
		if !listOK {
			return nil, fmt.Errorf("lists cannot nest")
		}
		out := make([]any, len(x))
		for i, e := range x {
			ev, err := value(e, false)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case nil:
		return nil, fmt.Errorf("null is not a metadata value (leave the key out)")
	default:
		return nil, fmt.Errorf("values must be str, int, float, bool or a list of those, got %T", v)
	}
}

// compare orders two scalar values: numbers numerically, strings
// lexicographically, false < true. ok is false across kinds.
func compare(a, b any) (c int, ok bool) {
	switch x := a.(type) {
	case string:
		y, isStr := b.(string)
		if !isStr {
			return 0, false
		}
		switch {
		case x < y:
			return -1, true
		case x > y:
			return 1, true
		}
		return 0, true
	case bool:
		y, isBool := b.(bool)
		if !isBool {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	}
	fa, okA := number(a)
	fb, okB := number(b)
	if !okA || !okB {
		return 0, false
	}
	ia, intA := a.(int64)
	ib, intB := b.(int64)
	if intA && intB { // exact beyond 2^53
		switch {
		case ia < ib:
			return -1, true
		case ia > ib:
			return 1, true
		}
		return 0, true
	}
	switch {
	case fa < fb:
		return -1, true
	case fa > fb:
		return 1, true
	}
	return 0, true
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// indexKey is a scalar's key in the equality index: kind and value, so
// "1" (string) and 1 (number) differ, while 1 and 1.0 agree.
func indexKey(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return "s" + x, true
	case bool:
		if x {
			return "bt", true
		}
		return "bf", true
	case int64:
		return "n" + strconv.FormatFloat(float64(x), 'g', -1, 64), true
	case float64:
		return "n" + strconv.FormatFloat(x, 'g', -1, 64), true
	}
	return "", false
}

// sortedKeys is for deterministic output.
func sortedKeys(m Meta) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// MarshalJSON writes a float that happens to be whole as 3.0, not 3, so
// that it reads back as a float (JSON integers read back as int64).
func (m Meta) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	b := []byte{'{'}
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		kb, _ := json.Marshal(k)
		b = append(b, kb...)
		b = append(b, ':')
		b = appendValue(b, m[k])
	}
	return append(b, '}'), nil
}

func appendValue(b []byte, v any) []byte {
	switch x := v.(type) {
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eEn") {
			s += ".0"
		}
		return append(b, s...)
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, e)
		}
		return append(b, ']')
	}
	vb, _ := json.Marshal(v)
	return append(b, vb...)
}
