"""The dashboard at /: one HTML page with a little JavaScript, no build
step. It asks for an API key (kept in the tab's sessionStorage, or given
as /#key=... - a fragment, which never reaches the server or its logs) and
shows the key's collections with counts, memory and latency percentiles
(from /v1/collections/{name}/stats), and a search box."""

from __future__ import annotations

from . import _deps  # noqa: F401 - first: a missing extra names its pip command

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

PAGE = r"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oxvec</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1b1b1b;background:#fafafa}
 h1{font-size:1.6em;margin:0 0 .6em} h1 span{color:#b5530f}
 table{border-collapse:collapse;background:#fff;min-width:40em}
 th,td{border:1px solid #ccc;padding:.35em .7em;text-align:right} th{background:#263238;color:#fff}
 td:first-child,th:first-child{text-align:left} #err{color:#b00020;white-space:pre-wrap}
 input,select,button{font:inherit;padding:.3em .5em} form{margin:1.2em 0}
 #hits li{margin:.2em 0} .muted{color:#777}
</style></head><body>
<h1><span>oxvec</span> dashboard</h1>
<form id="keyform"><label>API key <input id="key" type="password" size="50" autocomplete="off"></label>
 <button>Use key</button> <span class="muted" id="who"></span></form>
<div id="err"></div>
<table id="collections"><thead><tr><th>collection</th><th>records</th><th>dim</th><th>metric</th>
 <th>index</th><th>memory</th><th>search p50</th><th>p95</th><th>p99</th><th>qps</th></tr></thead><tbody></tbody></table>
<form id="searchform"><select id="coll"></select> <input id="q" size="40" placeholder="keywords">
 <input id="k" type="number" value="10" min="1" max="100" style="width:4em"> <button>Search</button></form>
<ol id="hits"></ol>
<script>
"use strict";
const $ = id => document.getElementById(id);
function key() { return sessionStorage.getItem("oxvec-key") || ""; }
function fmtBytes(n) { if (n == null) return "-"; const u = ["B","KiB","MiB","GiB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; } return n.toFixed(i ? 1 : 0) + " " + u[i]; }
function ms(x) { return x == null ? "-" : x.toFixed(2) + " ms"; }
async function api(path, body) {
  const opt = {headers: {"Authorization": "Bearer " + key()}};
  if (body !== undefined) { opt.method = "POST"; opt.headers["Content-Type"] = "application/json"; opt.body = JSON.stringify(body); }
  const r = await fetch(path, opt);
  const data = r.status === 204 ? null : await r.json();
  if (!r.ok) throw new Error((data && data.error ? data.error + ": " + data.detail : r.statusText));
  return data;
}
function cell(tr, text) { const td = document.createElement("td"); td.textContent = text; tr.appendChild(td); }
async function refresh() {
  $("err").textContent = "";
  const body = $("collections").tBodies[0]; body.textContent = "";
  if (!key()) { $("who").textContent = "no key yet"; return; }
  try {
    const cols = await api("/v1/collections");
    $("coll").textContent = "";
    for (const c of cols) {
      let s = {};
      try { s = (await api("/v1/collections/" + encodeURIComponent(c.name) + "/stats")).stats || {}; } catch (e) { s = {}; }
      const lat = (s.latency || {}).search || {}, mem = s.memory || {};
      const memory = mem.index_bytes == null ? null : (mem.index_bytes || 0) + (mem.records_bytes || 0) + (mem.cache_bytes || 0);
      const tr = document.createElement("tr"); tr.className = "collection";
      const idx = typeof c.index === "object" && c.index ? (c.index.type || JSON.stringify(c.index)) : (c.index || "flat");
      [c.name, c.count, c.dim, c.metric, idx, fmtBytes(memory), ms(lat.p50_ms), ms(lat.p95_ms), ms(lat.p99_ms),
       s.qps == null ? "-" : (+s.qps).toFixed(1)].forEach(v => cell(tr, v));
      body.appendChild(tr);
      const o = document.createElement("option"); o.textContent = c.name; $("coll").appendChild(o);
    }
    $("who").textContent = cols.length + " collection" + (cols.length === 1 ? "" : "s");
  } catch (e) { $("err").textContent = e.message; }
}
$("keyform").addEventListener("submit", ev => { ev.preventDefault(); sessionStorage.setItem("oxvec-key", $("key").value.trim()); refresh(); });
$("searchform").addEventListener("submit", async ev => {
  ev.preventDefault(); $("hits").textContent = ""; $("err").textContent = "";
  try {
    const res = await api("/v1/collections/" + encodeURIComponent($("coll").value) + "/search",
                          {texts: [$("q").value], mode: "keyword", k: +$("k").value || 10});
    (res.ids[0] || []).forEach((id, j) => {
      const li = document.createElement("li");
      const doc = (res.documents && res.documents[0][j]) || "";
      li.textContent = id + "  " + (res.scores ? "(" + res.scores[0][j].toFixed(3) + ")  " : "") + doc.slice(0, 160);
      $("hits").appendChild(li);
    });
    if (!(res.ids[0] || []).length) $("hits").innerHTML = "<li class=muted>no matches</li>";
  } catch (e) { $("err").textContent = e.message; }
});
// /#key=...&collection=...&q=...: a key (never sent as part of the URL) and a search to run at once
const hash = new URLSearchParams(location.hash.slice(1));
if (hash.get("key")) sessionStorage.setItem("oxvec-key", hash.get("key"));
if (location.hash) history.replaceState(null, "", location.pathname);
refresh().then(() => {
  if (!hash.get("q")) return;
  if (hash.get("collection")) $("coll").value = hash.get("collection");
  $("q").value = hash.get("q");
  $("searchform").requestSubmit();
});
</script></body></html>
"""


def router() -> APIRouter:
    r = APIRouter()

    @r.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page():
        return HTMLResponse(PAGE, headers={"Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'",
                                           "Cache-Control": "no-store"})

    return r
