// Package errs holds the engine's error classes. Every error the engine
// returns wraps exactly one of them (fmt.Errorf("%w: ...")), so the C ABI maps
// it onto a status code and the Python package onto an exception class, one to
// one (capi/status.go, python/oxvec/_errors.py). It is a leaf package: every
// other engine package may import it.
package errs

import "errors"

var (
	// InvalidArgument: a parameter is out of range or malformed (k <= 0,
	// NaN in a vector, an unknown metric name, a bad JSON spec).
	InvalidArgument = errors.New("invalid argument")

	// Dimension: a vector's length does not match the index dimension.
	Dimension = errors.New("dimension mismatch")

	// DuplicateID: add was given an id that is already in the index, or the
	// same id twice in one batch.
	DuplicateID = errors.New("duplicate id")

	// NotFound: an id or a file that was asked for does not exist.
	NotFound = errors.New("not found")

	// IO: the operating system refused a read or a write.
	IO = errors.New("i/o error")

	// Corrupt: a file failed its magic, version, length or checksum test.
	Corrupt = errors.New("corrupt or truncated file")

	// Unsupported: the operation is not available for this index type or
	// this file version.
	Unsupported = errors.New("unsupported")

	// Canceled: the caller raised the cancel flag while the call ran.
	Canceled = errors.New("canceled")

	// Closed: the object was closed and can no longer be used.
	Closed = errors.New("closed")

	// NoMemory: the call would take the process past its memory limit
	// (runtime/debug.SetMemoryLimit, oxv_set_memory_limit); nothing was
	// allocated or changed.
	NoMemory = errors.New("out of memory")

	// State: the object is not in a state that allows the call (for example
	// searching an index that must be trained before it is trained).
	State = errors.New("invalid state")

	// PermissionDenied: a tenancy session's key lacks the permission the
	// call needs (read, write, delete, admin), or was refused (wrong,
	// revoked or expired key).
	PermissionDenied = errors.New("permission denied")

	// QuotaExceeded: a write would take a tenant past one of its quotas;
	// the message reads "<limit>: use <n>, limit <m>" (core/tenant) and
	// nothing was written.
	QuotaExceeded = errors.New("quota exceeded")

	// RateLimited: a tenant's or a key's token bucket is empty; the
	// message starts "retry_after=<seconds>s".
	RateLimited = errors.New("rate limited")

	// Internal: a bug in the engine. A recovered Go panic is reported with
	// this class, and its stack in the message, instead of killing the
	// process.
	Internal = errors.New("internal error")
)
