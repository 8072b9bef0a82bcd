"""Where a record lives: a stable hash of its id picks the shard.

Python's hash() of a str changes from process to process (PYTHONHASHSEED);
BLAKE2b does not, so every coordinator, every worker and every later
session places an id on the same shard.
"""

from __future__ import annotations

import hashlib


def shard_of(key: str, shards: int) -> int:
    """The shard (0 .. shards-1) of record id ``key``: the first 8 bytes of
    BLAKE2b of its UTF-8 bytes, little-endian, modulo ``shards``."""
    h = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(h, "little") % shards


def split(keys, shards: int) -> list[list[int]]:
    """For each shard, the positions in ``keys`` of the ids it holds (in
    the order given)."""
    out: list[list[int]] = [[] for _ in range(shards)]
    for i, k in enumerate(keys):
        out[shard_of(k, shards)].append(i)
    return out
