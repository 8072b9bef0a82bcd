"""Jupyter-native views: the text and HTML reprs of indexes and stores (type,
dimension, metric, count, memory, parameters, phase), built from their
``info()``. Nothing here imports IPython."""

from __future__ import annotations

import html
from typing import Any


def human_bytes(n) -> str:
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # pragma: no cover


def _fmt(v: Any) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items()) or "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)


def index_fields(index) -> dict:
    info = index.info()
    out = {"type": info.get("type"), "dim": info.get("dim"), "metric": info.get("metric"), "count": info.get("len"),
           "memory": human_bytes(info.get("memory_bytes", 0))}
    if "trained" in info:
        out["trained"] = info["trained"]
    if info.get("params"):
        out["parameters"] = info["params"]
    return out


def store_fields(store) -> dict:
    info = store.info()
    spec = dict(info.get("index") or {})
    out = {"path": info.get("path"), "index": spec.pop("type", None), "dim": info.get("dim"),
           "metric": info.get("metric"), "count": info.get("count"), "phase": info.get("phase")}
    if spec:
        out["parameters"] = spec
    if info.get("train_after") is not None and info.get("phase") == "exact" and out["index"] not in ("flat", "hnsw"):
        out["train_after"] = info["train_after"]
    out["durability"] = info.get("durability")
    flags = [f for f in ("encrypted", "read_only") if info.get(f)]
    if flags:
        out["flags"] = ", ".join(flags)
    out["last_seq"] = info.get("last_seq")
    return out


def table(name: str, fields: dict) -> str:
    rows = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(str(k))}</th>"
                   f"<td style='text-align:left'>{html.escape(_fmt(v))}</td></tr>"
                   for k, v in fields.items() if v is not None)
    return f"<div><b>oxvec.{html.escape(name)}</b><table>{rows}</table></div>"


def closed_html(name: str) -> str:
    return f"<div><b>oxvec.{html.escape(name)}</b> (closed)</div>"
