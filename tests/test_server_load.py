"""The short load test of `oxvec serve` (make soak-server runs the same
for 30 minutes): 20 s of mixed searches and writes from four client
threads; no request fails, and every acknowledged write is there - through
the server, and from the files after a SIGTERM shutdown. No timing
assertions."""

from __future__ import annotations

import os
import sys

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
pytest.importorskip("strawberry")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
from soak_server import soak  # noqa: E402


def test_twenty_seconds_of_mixed_load_lose_nothing():
    r = soak(20, workers=4)
    assert r["errors"] == 0, r["first_errors"]
    assert r["ops"]["search"] > 0 and r["ops"]["add"] > 0 and r["ops"]["upsert"] > 0 and r["ops"]["delete"] > 0, r["ops"]
    assert r["acknowledged"] > 0 and r["missing"] == 0 and r["wrong"] == 0
    assert r["count"] == r["count_after_reopen"] == r["acknowledged"]
    assert r["exit_code"] == 0, r["server_output_tail"]
