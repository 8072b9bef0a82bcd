package tenant

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/oxvec/oxvec/core/errs"
	"github.com/oxvec/oxvec/core/monitor"
	"github.com/oxvec/oxvec/core/store"
)

func TestMaintenance_AdminOnlyAndOwnTenantOnly(t *testing.T) {
	db, sess := setup(t, Quota{})
	c, err := sess["a/writer"].Collection("docs")
	must(t, err)
	must(t, c.Add(context.Background(), store.Batch{Keys: keys("x", 3), Vectors: vecs(3, 4, 1)}))

	if err := db.SnapshotCollection(sess["a/writer"], "a", "docs"); !errors.Is(err, errs.PermissionDenied) {
		t.Fatalf("writer snapshot: %v, want PermissionDenied", err)
	}
	if err := db.SnapshotCollection(sess["b/admin"], "a", "docs"); !errors.Is(err, errs.NotFound) {
		t.Fatalf("other tenant's admin: %v, want NotFound", err)
	}
	if err := db.SnapshotCollection(sess["a/admin"], "a", "nope"); !errors.Is(err, errs.NotFound) {
		t.Fatalf("missing collection: %v, want NotFound", err)
	}
	must(t, db.SnapshotCollection(sess["a/admin"], "a", "docs"))

	dir := filepath.Join(t.TempDir(), "bk")
	info, err := db.BackupCollection(sess["a/admin"], "a", "docs", dir, true)
	must(t, err)
	if info.Copied == 0 || info.LastSeq != 1 {
		t.Fatalf("backup copied %d files up to change %d; want some files up to change 1", info.Copied, info.LastSeq)
	}
	if _, err := db.BackupCollection(nil, "a", "docs", "", true); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("no dir: %v, want InvalidArgument", err)
	}
}

func TestHealth_OperatorOnlyAndEveryCollection(t *testing.T) {
	db, sess := setup(t, Quota{})
	if _, err := db.Health(sess["a/admin"], monitor.Thresholds{}); !errors.Is(err, errs.PermissionDenied) {
		t.Fatalf("tenant admin: %v, want PermissionDenied", err)
	}
	h, err := db.Health(nil, monitor.Thresholds{})
	must(t, err)
	per := h["collections"].(map[string]monitor.Health)
	if h["status"] != "ok" || len(per) != 2 || per["a/docs"].Status != "ok" {
		t.Fatalf("health %v", h)
	}
	bad := -1.0
	if _, err := db.Health(nil, monitor.Thresholds{MaxLatencyMS: &bad}); !errors.Is(err, errs.InvalidArgument) {
		t.Fatalf("negative threshold: %v", err)
	}
}
