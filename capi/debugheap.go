package main

// A debugging aid for memory growth, off unless the environment asks for it:
//
//	OXVEC_DEBUG_HEAP_PROFILE=/tmp/oxheap   (a path prefix)
//	OXVEC_DEBUG_HEAP_SECONDS=60            (the period; default 60, 1 to 86400)
//
// Every period the engine writes <prefix>.<n>.pprof (a runtime/pprof heap
// profile: compare two with `go tool pprof -base A B`) and appends one line of
// runtime.MemStats to <prefix>.memstats, so that Go heap growth can be told
// apart from the host process's own (Python) heap and from fragmentation.
// It exists because the server soak's resident memory grew (issue 22); it
// costs nothing when the variable is unset.

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"time"
)

func init() {
	prefix := os.Getenv("OXVEC_DEBUG_HEAP_PROFILE")
	if prefix == "" {
		return
	}
	period := 60 * time.Second
	if s, err := strconv.ParseFloat(os.Getenv("OXVEC_DEBUG_HEAP_SECONDS"), 64); err == nil && s > 0 {
		// between a second and a day: a tiny value would spin on GC and a
		// huge one overflow the Duration
		period = time.Duration(min(max(s, 1), 86400) * float64(time.Second))
	}
	// one sample per 4 KiB allocated rather than 512 KiB: small per-write
	// leaks show up within minutes
	runtime.MemProfileRate = 4096
	go heapProfiles(prefix, period)
}

// heapProfiles writes one profile and one MemStats line per period, forever.
// Errors (a full disk, a bad path) end the loop quietly: a debugging aid must
// never take the process down.
func heapProfiles(prefix string, period time.Duration) {
	start := time.Now()
	for n := 0; ; n++ {
		time.Sleep(period)
		runtime.GC() // the profile then shows live objects as of now
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		log, err := os.OpenFile(prefix+".memstats", os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return
		}
		fmt.Fprintf(log, "t=%.0f heap_inuse=%d heap_alloc=%d heap_objects=%d heap_idle=%d heap_released=%d sys=%d stack_inuse=%d num_gc=%d\n",
			time.Since(start).Seconds(), m.HeapInuse, m.HeapAlloc, m.HeapObjects, m.HeapIdle, m.HeapReleased, m.Sys, m.StackInuse, m.NumGC)
		log.Close()
		f, err := os.Create(fmt.Sprintf("%s.%d.pprof", prefix, n))
		if err != nil {
			return
		}
		err = pprof.WriteHeapProfile(f)
		f.Close()
		if err != nil {
			return
		}
	}
}
