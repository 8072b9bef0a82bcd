"""Which searches run inline on the event loop instead of on a worker
thread, and why that is safe.

Handing an engine call to a worker thread and back (executor queue,
future, GIL hand-over, loop wake-up) costs a share of the server's CPU
comparable to a millisecond HNSW search itself (benchmarks/
profile_server.py). A search predicted to be that cheap (INLINE_S)
therefore runs on the event loop's own thread. The engine call still
releases the GIL; the loop waits for it, which is why only short calls
may run so.

The prediction is measured, not guessed: the running mean (weight 1/4
for each new call) of the engine time of recent searches of the same
shape - the collection, the number of queries, k, ef and include.
Searches with a filter, keyword and hybrid searches never run inline
(their cost depends on the data they match). A shape runs inline once
WARMUP calls have been timed, while its mean is under INLINE_S and under
a hundredth of the request timeout, and, by the mode (`oxvec serve
--inline-searches`):

- "alone": only when no other request is being served. With others
  waiting, their Python work (parsing, answering) runs on the loop while
  the engine works on a worker thread, so the cores are shared out; alone,
  there is nothing to overlap and the hand-off is pure cost.
- "always": whatever else is being served. The hand-off is not only the
  loop's cost: a search thread wakes, takes the GIL, and enters the Go
  runtime from one more OS thread, whose processors then move between
  threads. On this project's 2-core machine (issue 22, wrk on the same
  machine) the server's CPU per search at concurrency 2-32 was 443-498 us
  always inline against 586-745 us with the hand-off, and throughput
  1.14-1.62x; mixing the two (inline only while every search thread is
  busy) was worse than either (614-905 us).
- "auto" (the default): "always" on machines of up to AUTO_ALWAYS_CORES
  cores, "alone" above, where the other cores can search in parallel
  (that choice is not measured here: the machine has 2 cores).

"No other request" counts HTTP requests (the outermost middleware,
httpmetrics.py, and the fast path keep `requests`), not only service
calls, and the caller yields to the loop once before asking (calls.run).
Without both the rule fired far more than meant: an inline call never
yields, so the requests that arrived meanwhile had their tasks created
but not started when the next one decided, and each in turn found itself
alone - 75% of the engine time ran inline at concurrency 8 (issue 22).

Every inline call is timed too: one that takes 4 x INLINE_S lifts the
mean over the bound, so the shape goes back to the worker threads (and
so under the request timeout's cancel flag) from its next call. The
worst case for the loop is one call of an inline shape that turns slow
at once - a collection dropped and rebuilt bigger under the same name -
and that is stopped after the one call."""

from __future__ import annotations

import os

# predicted engine time (wall clock, so on a busy machine including waits
# for a core) under which a search runs on the loop: about one HNSW search
# of 100k x 384 at ef 100 on a loaded 2-core machine: a loop blocked this
# long delays the requests waiting by about one search each
INLINE_S = 0.002
# up to this many cores, cheap searches run on the loop whatever else is being
# served ("always"): measured on 2 cores (issue 22), handing them to threads
# cost more CPU than the second core gave back; above it, only alone
# ("alone"), so that the other cores search in parallel - not measured here
AUTO_ALWAYS_CORES = 2
WARMUP = 8  # calls of a shape timed on worker threads before it may run inline
_WEIGHT = 0.25
_MAX_SHAPES = 4096  # shapes remembered; past it the table starts afresh


class CostModel:
    """Running means of the engine time of search shapes."""

    def __init__(self, inline_s: float = INLINE_S, warmup: int = WARMUP, mode: str = "auto") -> None:
        self.inline_s, self.warmup = inline_s, warmup
        self.mode = resolve(mode)  # "always" or "alone"
        self._shapes: dict[tuple, list] = {}  # shape -> [calls timed, mean seconds]
        self.in_flight = 0  # service calls begun and not returned (calls.run; the loop's thread only)
        self.requests = 0  # HTTP requests begun and not answered (MetricsMiddleware; the loop's thread only)

    def inline(self, shape: tuple, timeout_s: float | None) -> bool:
        """Whether a call of this shape is predicted cheap enough for the
        loop and, in mode "alone", is the only request being served."""
        if self.mode == "alone" and (self.in_flight > 1 or self.requests > 1):
            return False
        s = self._shapes.get(shape)
        if s is None or s[0] < self.warmup:
            return False
        bound = self.inline_s if not timeout_s else min(self.inline_s, timeout_s / 100)
        return s[1] < bound

    def observe(self, shape: tuple, seconds: float) -> None:
        """A call of this shape took seconds (called from any thread: a
        lost update under a race only delays a decision by one call)."""
        s = self._shapes.get(shape)
        if s is None:
            if len(self._shapes) >= _MAX_SHAPES:
                self._shapes = {}
            self._shapes[shape] = [1, seconds]
        else:
            s[0] += 1
            s[1] += _WEIGHT * (seconds - s[1])


MODES = ("auto", "always", "alone")


def resolve(mode: str) -> str:
    """"always" or "alone" for a mode of MODES: auto is "always" on a
    machine of up to AUTO_ALWAYS_CORES cores and "alone" above."""
    if mode not in MODES:
        raise ValueError(f"inline searches: {mode!r} is not one of {', '.join(MODES)}")
    if mode != "auto":
        return mode
    return "always" if cores() <= AUTO_ALWAYS_CORES else "alone"


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


costs = CostModel()
