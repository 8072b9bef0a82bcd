"""Point-in-time restore: a new store built from a backup
(:meth:`oxvec.VectorStore.backup`), as of a change number or a time."""

from __future__ import annotations

import datetime as _dt
import os
from typing import Any

import numpy as np

from . import _requests as rq
from ._call import check, state
from ._errors import InvalidArgumentError
from ._library import lib


def restore(backup_dir, path, until=None, *, key_file=None, key_env: str | None = None) -> str:
    """Build a new store at ``path`` (absent or empty) from a backup made
    with :meth:`VectorStore.backup`, and return the path.

    ``until`` picks the point in time: None for the latest backed-up change,
    an int for the state right after that change number (see
    ``VectorStore.last_seq``), or a datetime for the last change made at or
    before it (a naive datetime is local time). Every file used is checked
    against its SHA-256 first; a damaged backup raises CorruptFileError.
    """
    opts: dict[str, Any] = {}
    if until is not None:
        if isinstance(until, _dt.datetime):
            ts = until.timestamp()
            opts["until_time_ns"] = int(round(ts * 1e9))
        elif isinstance(until, (int, np.integer)) and not isinstance(until, bool):
            if until < 1:
                raise InvalidArgumentError("until counts changes from 1")
            opts["until_seq"] = int(until)
        else:
            raise TypeError(f"until must be a change number (int) or a datetime, got {type(until).__name__}")
    if key_file is not None:
        opts["key_file"] = os.fspath(key_file)
    if key_env is not None:
        opts["key"] = rq.key_from_env(key_env)
    b, p = os.fspath(backup_dir), os.fspath(path)
    st = state
    check(lib.oxv_store_restore(os.fsencode(b), os.fsencode(p), rq.dumps(opts), st.err_addr), st)
    return p
