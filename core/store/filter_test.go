package store

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

// nested wraps a field filter in depth-1 levels of op ($and, $or, $not),
// as JSON decoded with numbers kept (decodeJSON).
func nested(t *testing.T, op string, depth int) any {
	t.Helper()
	js := `{"n": 1}`
	for i := 1; i < depth; i++ {
		if op == "$not" {
			js = `{"$not": ` + js + `}`
		} else {
			js = `{"` + op + `": [` + js + `]}`
		}
	}
	var v any
	if err := decodeJSON([]byte(js), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFilter_DepthIsBoundedByMaxFilterDepth(t *testing.T) {
	for _, op := range []string{"$and", "$or", "$not"} {
		if _, err := parseWhere(nested(t, op, MaxFilterDepth)); err != nil {
			t.Fatalf("%s at the limit: %v", op, err)
		}
		for _, depth := range []int{MaxFilterDepth + 1, 900, 5000} {
			_, err := parseWhere(nested(t, op, depth))
			if !errors.Is(err, errs.InvalidArgument) || !strings.Contains(err.Error(), "64 levels") {
				t.Fatalf("%s %d deep: %v, want an invalid argument naming the limit", op, depth, err)
			}
		}
	}
	doc := `{"$contains": "a"}`
	for i := 0; i < MaxFilterDepth; i++ {
		doc = `{"$and": [` + doc + `]}`
	}
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	if _, err := parseWhereDocument(v); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("document filter %d deep: %v", MaxFilterDepth+1, err)
	}
}

func TestFilter_NullInsideAListIsAnError(t *testing.T) {
	for _, js := range []string{`{"$and": [null]}`, `{"$not": null}`, `{"$or": [{"n": 1}, null]}`} {
		var v any
		if err := decodeJSON([]byte(js), &v); err != nil {
			t.Fatal(err)
		}
		if _, err := parseWhere(v); !errors.Is(err, errs.InvalidArgument) {
			t.Fatalf("%s: %v", js, err)
		}
	}
}

func TestMeta_IntegersBeyondInt64AreErrorsNotFloats(t *testing.T) {
	for _, js := range []string{`{"n": 9223372036854775808}`, `{"n": -9223372036854775809}`, `{"n": [1, 100000000000000000000000]}`} {
		_, err := DecodeRecords([]byte(`{"ids": ["a"], "metadatas": [` + js + `]}`))
		if !errors.Is(err, errs.InvalidArgument) || !strings.Contains(err.Error(), "outside int64") {
			t.Fatalf("%s: %v", js, err)
		}
		var v any
		if err := decodeJSON([]byte(js), &v); err != nil {
			t.Fatal(err)
		}
		if _, err := parseWhere(v); !errors.Is(err, errs.InvalidArgument) {
			t.Fatalf("filter %s: %v", js, err)
		}
	}
	b, err := DecodeRecords([]byte(`{"ids": ["a"], "metadatas": [{"max": 9223372036854775807, "min": -9223372036854775808, "f": 1e30, "g": 3.0}]}`))
	if err != nil {
		t.Fatal(err)
	}
	m := b.Metas[0]
	if m["max"] != int64(9223372036854775807) || m["min"] != int64(-9223372036854775808) || m["f"] != 1e30 || m["g"] != 3.0 {
		t.Fatalf("edges of int64 and floats: %#v", m)
	}
	// what snapshots and the WAL write reads back the same (floats keep a
	// fraction or an exponent)
	js, _ := json.Marshal(m)
	var raw map[string]any
	if err := decodeJSON(js, &raw); err != nil {
		t.Fatal(err)
	}
	back, err := normalize(raw, "test")
	if err != nil || back["f"] != 1e30 || back["g"] != 3.0 || back["max"] != m["max"] {
		t.Fatalf("round trip of %s: %#v %v", js, back, err)
	}
}
