"""How a request runs a service call: on a worker thread (engine calls
release the GIL, so requests run in parallel), under the request's cancel
flag, which the per-request timeout raises - the engine then stops a
search within milliseconds and the caller gets 503. Writes never stop
once logged (the engine ignores the flag for them), so a slow write
completes and is acknowledged."""

from __future__ import annotations

import asyncio
import ctypes
import functools
from concurrent.futures import ThreadPoolExecutor

from .._call import state
from .._errors import CanceledError
from .problems import HTTPProblem
from .service import Service, key_failed


# engine calls release the GIL; more threads than this only queue in the engine
_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="oxvec-serve")


class Caller:
    """The authenticated caller of one request: its principal and key (the
    key only to drop its cached session when it stops working)."""

    __slots__ = ("principal", "key")

    def __init__(self, principal, key: str) -> None:
        self.principal, self.key = principal, key


def _run(flag: ctypes.c_int32, fn, args, kwargs):
    state.cancel = ctypes.addressof(flag)
    try:
        return fn(*args, **kwargs)
    finally:
        state.cancel = 0


async def run(service: Service, timeout_s: float | None, caller: Caller | None, fn, *args, **kwargs):
    """fn(*args, **kwargs) on a worker thread, cancelled after timeout_s."""
    flag = ctypes.c_int32(0)
    timer = None
    if timeout_s:
        timer = asyncio.get_running_loop().call_later(timeout_s, setattr, flag, "value", 1)
    try:
        # the thread holds flag until the engine returns: a cancelled call
        # never writes into freed memory. A plain executor, not anyio's
        # to_thread: half the hand-off cost per request (profile_server.py)
        return await asyncio.get_running_loop().run_in_executor(_POOL, functools.partial(_run, flag, fn, args, kwargs))
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
        if timer is not None:
            timer.cancel()
