package store

// CrashPoint, when set, is called at the named moments where a crash is
// most interesting: the crash tests (go_tests/crash_test.go) set it in a
// child process to stop there and be killed. Nil in normal use; set it
// before opening any store.
//
//	commit:appended    a change is in the WAL, not yet applied or durable
//	commit:durable     the change is applied and durable, not yet acknowledged
//	snapshot:rotated   the WAL moved to a new segment
//	snapshot:written   the snapshot files are complete, the manifest is old
//	snapshot:swapped   the manifest names the new snapshot, old files remain
var CrashPoint func(name string)

func crashPoint(name string) {
	if CrashPoint != nil {
		CrashPoint(name)
	}
}
