"""How a request runs a service call: on a worker thread (engine calls
release the GIL, so requests run in parallel; vector searches on a pool of
their own, one thread per core), under the request's cancel
flag, which the per-request timeout raises - the engine then stops a
search within milliseconds and the caller gets 503. Writes never stop
once logged (the engine ignores the flag for them), so a slow write
completes and is acknowledged. A search whose shape the cost model
predicts to take under a millisecond runs inline on the event loop
instead (inline.py says why and how that is bounded)."""

from __future__ import annotations

import asyncio
import ctypes
import functools
import time
from concurrent.futures import ThreadPoolExecutor

from .._call import state
from .._errors import CanceledError
from .inline import cores, costs
from .problems import HTTPProblem
from .service import Service, key_failed


# engine calls release the GIL; more threads than this only queue in the engine
_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="oxvec-serve")
# vector searches (the calls with a cost shape): short and CPU-bound, so one
# thread per core. More threads only share the cores, and each is one more
# thread entering the engine: a search hops between more threads and the Go
# runtime hands its processors between them (issue 22: the server's CPU per
# search was lower with 2 search threads than with 32 in 5 of 6 paired runs
# at concurrency 2-16, by 4-28%).
# Writes, filtered searches and the rest keep the large pool, so a slow
# write never holds up the searches.
_SEARCHES = ThreadPoolExecutor(max_workers=cores(), thread_name_prefix="oxvec-serve-search")


class Caller:
    """The authenticated caller of one request: its principal and key (the
    key only to drop its cached session when it stops working)."""

    __slots__ = ("principal", "key")

    def __init__(self, principal, key: str) -> None:
        self.principal, self.key = principal, key


def _run(flag: ctypes.c_int32, shape, fn, args, kwargs):
    state.cancel = ctypes.addressof(flag)
    t0 = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        state.cancel = 0
        if shape is not None:
            costs.observe(shape, time.perf_counter() - t0)


async def run(service: Service, timeout_s: float | None, caller: Caller | None, fn, *args, cost_shape=None, **kwargs):
    """fn(*args, **kwargs) on a worker thread, cancelled after timeout_s;
    or inline on the loop when cost_shape (a search's shape, inline.py)
    is predicted to take under a millisecond."""
    flag = ctypes.c_int32(0)
    timer = None
    costs.in_flight += 1
    try:
        if cost_shape is not None:
            # one loop turn first: requests that arrived while the loop was
            # busy (an inline call does not yield) start and are counted
            # before this one decides it is alone (inline.py)
            await asyncio.sleep(0)
        if cost_shape is not None and costs.inline(cost_shape, timeout_s):
            # no timer: the loop cannot run one while it waits; the flag
            # still tells the engine layer a front end owns this call
            return _run(flag, cost_shape, fn, args, kwargs)
        if timeout_s:
            timer = asyncio.get_running_loop().call_later(timeout_s, setattr, flag, "value", 1)
        # the thread holds flag until the engine returns: a cancelled call
        # never writes into freed memory. A plain executor, not anyio's
        # to_thread: half the hand-off cost per request (profile_server.py)
        return await asyncio.get_running_loop().run_in_executor(
            _POOL if cost_shape is None else _SEARCHES, functools.partial(_run, flag, cost_shape, fn, args, kwargs))
    except CanceledError:
        if flag.value:
            raise HTTPProblem(503, "CanceledError", f"the request took longer than the server's timeout of "
                                                    f"{timeout_s:g} s and was cancelled (oxvec serve --timeout)",
                              {"Retry-After": "1"}) from None
        raise
    except Exception as e:
        if caller is not None and key_failed(e):
            service.forget_key(caller.key)
        raise
    finally:
        costs.in_flight -= 1
        if timer is not None:
            timer.cancel()
