// Package calls keeps the engine's own count of the calls it is serving:
// how many run now and how many have started since the process began. The
// C ABI counts every export that does engine work (oxv_calls_in_flight
// reads it, and tests use it to see two calls running at once with the GIL
// released); a server or a monitor reads the same numbers.
package calls

import "sync/atomic"

var inFlight, started atomic.Int64

// Start marks an engine call as begun; Done, deferred right after, as over.
func Start() {
	inFlight.Add(1)
	started.Add(1)
}

// Done marks a call started with Start as over.
func Done() { inFlight.Add(-1) }

// InFlight is the number of engine calls running now.
func InFlight() int64 { return inFlight.Load() }

// Started is the number of engine calls begun since the process started.
func Started() int64 { return started.Load() }
