"""HTTP request counts and latency histograms by route and status, in the
Prometheus text format (the conventions of prometheus-client, without
depending on it), beside the engine's own exposition on /metrics."""

from __future__ import annotations

import bisect
import threading
import time

from .inline import costs

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _label(v: str) -> str:
    return v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class HTTPMetrics:
    """Counters and histograms updated by the ASGI middleware."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count: dict[tuple, int] = {}
        self._hist: dict[tuple, list] = {}  # key -> [bucket counts..., sum, count]
        self.in_flight = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, str(status))
        i = bisect.bisect_left(BUCKETS, seconds)
        with self._lock:
            self._count[key] = self._count.get(key, 0) + 1
            h = self._hist.get(key)
            if h is None:
                h = self._hist[key] = [0] * (len(BUCKETS) + 2)
            if i < len(BUCKETS):
                h[i] += 1
            h[-2] += seconds
            h[-1] += 1

    def begin(self) -> float:
        """A request starts being served (the loop's thread): its start time."""
        self.in_flight += 1
        costs.requests += 1  # the inline rule's "alone" (inline.py)
        return time.perf_counter()

    def end(self, method: str, route: str, status: int, t0: float) -> None:
        """The request begun at t0 was answered with status."""
        self.in_flight -= 1
        costs.requests -= 1
        self.observe(method, route, status, time.perf_counter() - t0)

    def text(self) -> str:
        with self._lock:
            counts = sorted(self._count.items())
            hists = sorted((k, list(v)) for k, v in self._hist.items())
            flight = self.in_flight
        out = ["# HELP oxvec_http_requests_total HTTP requests served, by method, route and status.",
               "# TYPE oxvec_http_requests_total counter"]
        for (m, r, s), n in counts:
            out.append(f'oxvec_http_requests_total{{method="{m}",route="{_label(r)}",status="{s}"}} {n}')
        out += ["# HELP oxvec_http_request_duration_seconds Time from request to response, by method, route and status.",
                "# TYPE oxvec_http_request_duration_seconds histogram"]
        for (m, r, s), h in hists:
            labels = f'method="{m}",route="{_label(r)}",status="{s}"'
            acc = 0
            for b, n in zip(BUCKETS, h):
                acc += n
                out.append(f'oxvec_http_request_duration_seconds_bucket{{{labels},le="{b}"}} {acc}')
            out.append(f'oxvec_http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {h[-1]}')
            out.append(f"oxvec_http_request_duration_seconds_sum{{{labels}}} {h[-2]:.6f}")
            out.append(f"oxvec_http_request_duration_seconds_count{{{labels}}} {h[-1]}")
        out += ["# HELP oxvec_http_requests_in_flight HTTP requests being served now.",
                "# TYPE oxvec_http_requests_in_flight gauge", f"oxvec_http_requests_in_flight {flight}"]
        return "\n".join(out) + "\n"


class MetricsMiddleware:
    """Times every HTTP request; the route label is the matched route's
    template (/v1/collections/{name}/search), never the raw path, so
    label sets stay bounded; unmatched paths count as "unmatched"."""

    def __init__(self, app, metrics: HTTPMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = [500]

        async def tracked(msg):
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
            await send(msg)

        t0 = self.metrics.begin()
        try:
            await self.app(scope, receive, tracked)
        finally:
            route = scope.get("route")
            # a matched route without a template of its own (GraphQL's) is its path
            name = "unmatched" if route is None else (getattr(route, "path", "") or scope.get("path", ""))
            self.metrics.end(scope.get("method", ""), name, status[0], t0)
