"""oxvec in pyoxigraph.

pyoxigraph (0.5) takes custom functions (term -> term) but has no property
functions: a triple pattern cannot run code that binds many rows. So:

- :func:`functions` gives vec:similarity, vec:vector_similarity, vec:embed
  and vec:cluster for ``Store.query(q, custom_functions=...)``;
- :func:`query` answers the k-NN patterns first and writes each one into the
  query as a VALUES block of its hits, which pyoxigraph then joins with the
  rest of the query: ``(?r ?s) vec:search ("bird" 5)`` becomes ``VALUES (?r
  ?s) { (<iri1> 0.82e0) ... }``. The pattern's arguments must be constants
  (a string, a number, an IRI, a prefixed name); a variable there is a
  ValueError (use rdflib, or the endpoint through SERVICE, for that).
- A pyoxigraph query can also reach the patterns through ``SERVICE
  <http://host/sparql> { ... }`` on oxvec's endpoint (docs/sparql.md).
"""

from __future__ import annotations

import re

from . import _require
from .functions import DEFAULT_K, VectorFunctions, check_k, cosine
from .vector import VEC, VECTOR, decode, encode

XSD = "http://www.w3.org/2001/XMLSchema#"


def functions(store, *, clusters: int | None = None, vf: VectorFunctions | None = None) -> dict:
    """``{NamedNode(vec:name): callable}`` for pyoxigraph's custom_functions.
    A function returns None (an error: BIND leaves the variable unbound,
    FILTER drops the row) on bad input, as SPARQL's own functions do."""
    ox = _require.pyoxigraph()
    f = vf or VectorFunctions(store, clusters)
    double = ox.NamedNode(XSD + "double")
    vector_t = ox.NamedNode(VECTOR)

    def guard(fn):
        def call(*args):
            try:
                return fn(*args)
            except (ValueError, TypeError, LookupError):
                return None
        return call

    def rid(t) -> str:
        if isinstance(t, (ox.NamedNode, ox.Literal)):
            return t.value
        raise TypeError(f"a resource is an IRI, not {t!r}")

    def vec(t):
        if isinstance(t, ox.Literal) and t.datatype.value == VECTOR:
            return decode(t.value)
        raise TypeError(f"expected a vec:Vector literal, got {t!r}")

    def text(t) -> str:
        if isinstance(t, ox.Literal) and t.datatype.value == XSD + "string":
            return t.value
        raise TypeError(f"vec:embed takes a string literal, not {t!r}")

    return {
        ox.NamedNode(VEC + "similarity"): guard(lambda a, b: ox.Literal(repr(f.similarity(rid(a), rid(b))), datatype=double)),
        ox.NamedNode(VEC + "vector_similarity"): guard(lambda a, b: ox.Literal(repr(cosine(vec(a), vec(b))), datatype=double)),
        ox.NamedNode(VEC + "embed"): guard(lambda t: ox.Literal(encode(f.embed(text(t))), datatype=vector_t)),
        ox.NamedNode(VEC + "cluster"): guard(lambda r: ox.Literal(str(f.cluster(rid(r))), datatype=ox.NamedNode(XSD + "integer"))),
    }


# --- rewriting the patterns into VALUES ------------------------------------------
_PREFIX = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.I)
_STRING = r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
_TERM = rf"(?:{_STRING})(?:\^\^(?:<[^>]*>|[\w.-]*:[\w.-]*))?|<[^>\s]*>|[+-]?\d*\.\d+(?:[eE][+-]?\d+)?|[+-]?\d+|[A-Za-z][\w.-]*:[\w.-]*|[\w.-]*:[\w-]+|\?\w+"
_ARG = re.compile(_TERM)


def _pattern_re(prefixes: list) -> re.Pattern:
    names = "search_text|searchIn|search|similar"
    preds = [rf"<{re.escape(VEC)}(?P<n0>{names})>"] + [rf"{re.escape(p)}:(?P<n{i + 1}>{names})\b" for i, p in enumerate(prefixes)]
    return re.compile(rf"\(\s*(?P<out>\?\w+(?:\s+\?\w+)?)\s*\)\s*(?:{'|'.join(preds)})\s*\((?P<args>(?:\s*(?:{_TERM}))*)\s*\)\s*\.?")


def rewrite(query: str, vf: VectorFunctions, members=None) -> str:
    """The query with each vec: pattern replaced by the VALUES of its hits.
    members(iri) gives vec:searchIn's set of resources (graph or class)."""
    prefixes = {p or "": iri for p, iri in _PREFIX.findall(query)}
    ours = [p for p, iri in prefixes.items() if iri == VEC]
    rx = _pattern_re(ours)

    def one(m: re.Match) -> str:
        name = next(v for k, v in m.groupdict().items() if k.startswith("n") and v)
        out = m.group("out").split()
        args = [_arg(a, prefixes) for a in _ARG.findall(m.group("args"))]
        hits = _run(name, args, vf, members)
        cols = " ".join(out)
        rows = " ".join("(" + " ".join([f"<{iri}>", f"\"{score!r}\"^^<{XSD}double>"][:len(out)]) + ")" for iri, score in hits)
        return f"VALUES ({cols}) {{ {rows} }} "

    out = rx.sub(one, query)
    names = "(search_text|searchIn|search|similar)"
    forms = [rf"<{re.escape(VEC)}{names}>"] + [rf"\b{re.escape(p)}:{names}\b" for p in ours]
    left = re.search("|".join(forms), out)  # a pattern the rewrite could not read: never a silent no-op
    if left:
        raise ValueError(f"could not read the {left.group(0)} pattern: write it as (?resource ?score) "
                         f"vec:search (\"text\" 10), with one or two variables and constant arguments")
    return out


def _arg(tok: str, prefixes: dict):
    """A pattern argument token as a Python value: str for strings, int for
    integers, ("iri", value) for IRIs."""
    if tok.startswith("?"):
        raise ValueError(f"a vec: pattern's arguments must be constants in pyoxigraph, got the variable {tok}; "
                         "use rdflib (oxvec.sparql.bind) or the endpoint through SERVICE for variable arguments")
    if tok[0] in "\"'":
        body = re.match(_STRING, tok).group(0)
        lexical, dt = _unescape(body[1:-1]), tok[len(body) + 2:]
        if dt and (dt.strip("<>") == VECTOR or dt.endswith(":Vector") and prefixes.get(dt.split(":")[0]) == VEC):
            return decode(lexical)
        return lexical
    if tok.startswith("<"):
        return ("iri", tok[1:-1])
    if re.fullmatch(r"[+-]?\d+", tok):
        return int(tok)
    if re.fullmatch(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?", tok):
        return float(tok)
    p, _, local = tok.partition(":")
    if p not in prefixes:
        raise ValueError(f"unknown prefix {p}: in a vec: pattern argument {tok}")
    return ("iri", prefixes[p] + local)


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), s)


def _run(name: str, args: list, vf: VectorFunctions, members) -> list:
    def k_of(i):
        return check_k(args[i]) if len(args) > i else DEFAULT_K

    def iri_of(a):
        if not (isinstance(a, tuple) and a[0] == "iri"):
            raise ValueError(f"vec:{name} expects an IRI there, got {a!r}")
        return a[1]

    if not args:
        raise ValueError(f"vec:{name} needs arguments, e.g. (\"text\" 10)")
    if name == "similar":
        return vf.similar(iri_of(args[0]), k_of(1))
    if isinstance(args[0], tuple):
        raise ValueError(f"vec:{name} takes a text first, not an IRI")
    if name == "search":
        return vf.search(args[0], k_of(1))
    if name == "search_text":
        return vf.search_text(args[0], k_of(1), args[2] if len(args) > 2 else "keyword")
    if len(args) != 3 or members is None:
        raise ValueError('vec:searchIn takes ("text" k <graph-or-class>)')
    return vf.search_in(args[0], k_of(1), members(iri_of(args[2])))


def query(ox_store, q: str, store, *, clusters: int | None = None, vf: VectorFunctions | None = None, **kw):
    """``ox_store.query(q)`` with the vec: patterns answered by ``store`` and
    the vec: functions available; other keywords go to Store.query."""
    ox = _require.pyoxigraph()
    f = vf or VectorFunctions(store, clusters)

    def members(where: str) -> set:
        g = ox.NamedNode(where)
        if any(n == g for n in ox_store.named_graphs()):
            return {q.subject.value for q in ox_store.quads_for_pattern(None, None, None, g)}
        rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        return {q.subject.value for q in ox_store.quads_for_pattern(None, rdf_type, g, None)}

    with f:
        text = rewrite(q, f, members)
        fns = dict(kw.pop("custom_functions", None) or {})
        fns.update(functions(store, vf=f))
        return ox_store.query(text, custom_functions=fns, **kw)
