package metric

import (
	"errors"
	"strings"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
)

func TestParse_AcceptsNamesAndAliasesCaseInsensitively(t *testing.T) {
	cases := map[string]Kind{"l2": L2, "SqEuclidean": L2, " ip ": IP, "dot": IP, "cosine": Cosine, "COS": Cosine}
	for in, want := range cases {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestParse_UnknownNameListsTheKnownOnes(t *testing.T) {
	_, err := Parse("manhatan")
	if !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("got %v", err)
	}
	if msg := err.Error(); !contains(msg, "cosine") || !contains(msg, "manhatan") {
		t.Fatalf("message %q should name the input and the known metrics", msg)
	}
}

func TestKind_StringRoundTrips(t *testing.T) {
	for _, n := range Names() {
		k, err := Parse(n)
		if err != nil || k.String() != n || !k.Valid() {
			t.Fatalf("%q -> %v %v", n, k, err)
		}
	}
	if Kind(99).Valid() {
		t.Fatal("99 is not a metric")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
