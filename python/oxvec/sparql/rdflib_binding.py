"""oxvec in rdflib: the vec: functions through register_custom_function, and
the k-NN patterns through a custom evaluation of basic graph patterns.

rdflib sees ``(?r ?s) vec:search ("text" 10)`` as ordinary triples: the two
lists become blank nodes chained by rdf:first / rdf:rest. Our evaluation of a
BGP takes those triples out, runs the k-NN once, binds ?r and ?s for each
hit and evaluates the rest of the BGP under each binding (so ``?r wn:hypernym
?h`` is an index lookup per hit, not a scan). A pattern whose arguments are
variables bound by the rest of the BGP runs after it, once per distinct
argument list. Results of a pattern are kept for the whole query, so a
pattern inside OPTIONAL or a join that rdflib re-evaluates per left-hand
binding still searches once.

rdflib's function table and custom evaluations are global to the process:
one store is bound at a time (binding another replaces it; Binding.query
and the endpoint rebind theirs before each query).
"""

from __future__ import annotations

from . import _require
from .functions import CACHE_BYTES, DEFAULT_K, NAMES, PATTERNS, VectorFunctions, check_k
from .vector import VEC, VECTOR, decode, encode

_EVAL_NAME = "oxvec.sparql"
_CACHE_KEY = ("oxvec.sparql", "pattern results")  # our key in the query's own bnodes map
_bound = None


class Binding:
    """A store bound to rdflib's SPARQL engine (see :func:`bind`). Use as a
    context manager, or call :meth:`close` to unregister."""

    def __init__(self, store, clusters: int | None = None, cache_bytes: int = CACHE_BYTES) -> None:
        self._rdflib = _require.rdflib()
        self.functions = VectorFunctions(store, clusters, cache_bytes)
        self.activate()

    def activate(self) -> None:
        """Make this binding the one rdflib's queries use (again)."""
        from rdflib.plugins.sparql import CUSTOM_EVALS
        from rdflib.plugins.sparql.operators import register_custom_function

        global _bound
        if _bound is self:
            return
        if _bound is not None:
            _bound.close()
        ns = self._rdflib.URIRef
        f = self.functions
        register_custom_function(ns(VEC + "similarity"), self._wrap(lambda a, b: _double(f.similarity(_id(a), _id(b)))), override=True)
        register_custom_function(ns(VEC + "vector_similarity"),
                                 self._wrap(lambda a, b: _double(_cosine(_vec(a), _vec(b)))), override=True)
        register_custom_function(ns(VEC + "embed"), self._wrap(lambda t: _vector_literal(f.embed(_text(t)))), override=True)
        register_custom_function(ns(VEC + "cluster"), self._wrap(lambda r: _integer(f.cluster(_id(r)))), override=True)
        CUSTOM_EVALS[_EVAL_NAME] = _evaluate
        _bound = self

    @property
    def store(self):
        return self.functions.store

    def _wrap(self, fn):
        """An oxvec error inside a function is a SPARQL expression error
        (the BIND leaves the variable unbound, the FILTER is false)."""
        from rdflib.plugins.sparql.sparql import SPARQLError

        def call(*args):
            try:
                return fn(*args)
            except (ValueError, TypeError, LookupError) as e:
                raise SPARQLError(str(e)) from e

        return call

    def query(self, graph, query: str, **kw):
        """graph.query(query), checking the store for changes once for the
        whole query rather than on every vector read."""
        self.activate()
        with self.functions:
            res = graph.query(query, **kw)
            if getattr(res, "type", None) == "SELECT":
                res.bindings  # evaluate now, inside the scope  # noqa: B018
            return res

    def close(self) -> None:
        global _bound
        from rdflib.plugins.sparql import CUSTOM_EVALS
        from rdflib.plugins.sparql.operators import unregister_custom_function

        if _bound is not self:
            return
        for name in NAMES:
            unregister_custom_function(self._rdflib.URIRef(VEC + name))
        CUSTOM_EVALS.pop(_EVAL_NAME, None)
        _bound = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def bind(store, *, clusters: int | None = None, cache_bytes: int = CACHE_BYTES) -> Binding:
    """Make ``store`` (a VectorStore whose ids are IRIs) the one behind the
    vec: functions and patterns in every rdflib SPARQL query of this
    process. Returns a :class:`Binding`; ``with bind(store): ...`` unbinds
    at the end."""
    return Binding(store, clusters, cache_bytes)


# --- terms --------------------------------------------------------------------
def _id(term) -> str:
    from rdflib import Literal, URIRef

    if isinstance(term, URIRef):
        return str(term)
    if isinstance(term, Literal) and isinstance(term.value, str):
        return str(term)
    raise TypeError(f"a resource is an IRI (or its id as a string), not {term!r}")


def _text(term) -> str:
    from rdflib import Literal

    if isinstance(term, Literal) and isinstance(term.value, str) and term.datatype in (None, _xsd("string")):
        return str(term)
    raise TypeError(f"vec:embed takes a string literal, not {term!r}")


def _vec(term):
    from rdflib import Literal

    if isinstance(term, Literal) and str(term.datatype) == VECTOR:
        return decode(str(term))
    raise TypeError(f"expected a vec:Vector literal (\"[0.1, 0.2]\"^^<{VECTOR}>), got {term!r}")


def _cosine(a, b) -> float:
    from .functions import cosine

    return cosine(a, b)


def _xsd(name: str):
    from rdflib import URIRef

    return URIRef("http://www.w3.org/2001/XMLSchema#" + name)


def _double(x: float):
    from rdflib import Literal

    return Literal(x, datatype=_xsd("double"))


def _integer(x: int):
    from rdflib import Literal

    return Literal(x, datatype=_xsd("integer"))


def _vector_literal(v):
    from rdflib import Literal, URIRef

    return Literal(encode(v), datatype=URIRef(VECTOR))


# --- the k-NN patterns ----------------------------------------------------------
class _Pattern:
    """One ``(?resource ?score) vec:name (args)`` with its list triples."""

    def __init__(self, name: str, out: list, args: list) -> None:
        self.name, self.out, self.args = name, out, args

    def key(self, ctx):
        """The pattern's arguments under ctx, or None while one is unbound."""
        from rdflib import Variable

        vals = []
        for a in self.args:
            v = ctx[a] if isinstance(a, Variable) else a
            if v is None:
                return None
            vals.append(v)
        return (self.name, tuple(vals))


def _split(triples):
    """(vec patterns, remaining triples) of a BGP."""
    from rdflib import RDF, BNode, URIRef, Variable

    # list cells are blank nodes, or variables when another engine rewrote
    # the blank nodes of a SERVICE clause into variables (pyoxigraph does)
    cell = (BNode, Variable)
    first = {s: o for s, p, o in triples if p == RDF.first and isinstance(s, cell)}
    rest = {s: o for s, p, o in triples if p == RDF.rest and isinstance(s, cell)}
    used: set = set()

    def as_list(node):
        if node == RDF.nil:
            return []
        if not isinstance(node, cell) or node not in first:
            return [node]
        items = []
        while node != RDF.nil:
            if node not in first or node not in rest:
                return None
            items.append(first[node])
            used.add(node)
            node = rest[node]
        return items

    pats = []
    for s, p, o in triples:
        if isinstance(p, URIRef) and str(p).startswith(VEC) and str(p)[len(VEC):] in PATTERNS:
            out, args = as_list(s), as_list(o)
            if out is None or args is None:
                continue
            if not 1 <= len(out) <= 2 or not all(isinstance(v, Variable) for v in out):
                from rdflib.plugins.sparql.sparql import SPARQLError

                raise SPARQLError(f"{p.n3()} binds (?resource ?score) or (?resource): variables, one or two")
            pats.append((_Pattern(str(p)[len(VEC):], out, args), (s, p, o)))
    if not pats:
        return [], triples
    drop = {t for _, t in pats}
    left = [t for t in triples if t not in drop and not (t[0] in used and t[1] in (RDF.first, RDF.rest))]
    return [p for p, _ in pats], left


def _evaluate(ctx, part):
    if part.name != "BGP" or _bound is None:
        raise NotImplementedError
    pats, rest = _split(part.triples)
    if not pats:
        raise NotImplementedError
    return _solutions(ctx, pats, rest)


def _solutions(ctx, pats, rest):
    from rdflib.plugins.sparql.evaluate import evalBGP

    cache = ctx.bnodes.get(_CACHE_KEY)
    if cache is None:
        # the query's bnodes map is made afresh for each query and shared by
        # every context of it: results live exactly as long as the query
        cache = ctx.bnodes[_CACHE_KEY] = {}
        if not _bound.functions._scoped:
            _bound.functions._fresh()
    ready = [p for p in pats if p.key(ctx) is not None]
    later = [p for p in pats if p.key(ctx) is None]

    def rest_of(c):
        triples = sorted(rest, key=lambda t: len([n for n in t if c[n] is None]))
        if not later:
            yield from evalBGP(c, triples)
            return
        for sol in evalBGP(c, triples):
            yield from _bind_all(ctx.thaw(sol), later, cache, lambda c2: iter([c2.solution()]))

    return _bind_all(ctx, ready, cache, rest_of)


def _bind_all(ctx, pats, cache, then):
    """Solutions of pats (in order) under ctx, each continued by then(ctx)."""
    from rdflib.plugins.sparql.sparql import AlreadyBound

    if not pats:
        yield from then(ctx)
        return
    p, more = pats[0], pats[1:]
    key = p.key(ctx)
    if key is None:
        raise _unbound(p)
    hits = cache.get(key)
    if hits is None:
        hits = cache[key] = _run(p.name, key[1], ctx)
    for iri, score in hits:
        c = ctx.push()
        try:
            for var, val in zip(p.out, (_resource(iri), _double(score))):
                if c[var] is None:
                    c[var] = val
                elif c[var] != val:
                    raise AlreadyBound()
        except AlreadyBound:
            continue
        yield from _bind_all(c, more, cache, then)


def _unbound(p):
    from rdflib.plugins.sparql.sparql import SPARQLError

    return SPARQLError(f"vec:{p.name}'s arguments must be bound (a constant, or a variable the same group binds)")


def _resource(iri: str):
    from rdflib import URIRef

    return URIRef(iri)


def _run(name: str, args: tuple, ctx) -> list:
    """The hits of one pattern: a list of (iri, score)."""
    from rdflib.plugins.sparql.sparql import SPARQLError

    f = _bound.functions
    try:
        if name == "similar":
            target, k = _args(name, args, 1)
            return f.similar(_id(target), k)
        if name == "search":
            text, k = _args(name, args, 1)
            return f.search(_query(text), k)
        if name == "search_text":
            text, k = _args(name, args, 1, allow=3)
            mode = str(args[2]) if len(args) > 2 else "keyword"
            return f.search_text(_text(text), k, mode)
        if name == "searchIn":
            if len(args) != 3:
                raise TypeError('vec:searchIn takes ("text" k <graph-or-class>)')
            text, k = _args(name, args[:2], 1)
            return f.search_in(_query(text), k, _members(ctx, args[2]))
    except (ValueError, TypeError, LookupError) as e:
        raise SPARQLError(f"vec:{name}: {e}") from e
    raise SPARQLError(f"unknown pattern vec:{name}")


def _query(term):
    """The query of vec:search: a text, or a vec:Vector literal."""
    from rdflib import Literal

    if isinstance(term, Literal) and str(term.datatype) == VECTOR:
        return _vec(term)
    return _text(term)


def _args(name: str, args: tuple, need: int, allow: int = 2):
    """(first argument, k) with k defaulting to DEFAULT_K."""
    if not need <= len(args) <= allow:
        raise TypeError(f"vec:{name} takes {need} to {allow} arguments, got {len(args)}")
    k = args[1].toPython() if len(args) > 1 else DEFAULT_K
    return args[0], check_k(k)


def _members(ctx, where) -> set:
    """The resources of a named graph (when the dataset has one by that
    name) or else the instances (rdf:type) of a class."""
    from rdflib import RDF, URIRef

    if not isinstance(where, URIRef):
        raise TypeError(f"vec:searchIn's third argument is a graph or class IRI, not {where!r}")
    ds = getattr(ctx, "_dataset", None)
    graphs = getattr(ds, "graphs", None) or getattr(ds, "contexts", None)  # graphs(): rdflib 7.1+
    if ds is not None and any(g.identifier == where for g in graphs()):
        return {str(s) for s in ds.get_context(where).subjects()}
    return {str(s) for s in ctx.graph.subjects(RDF.type, where)}
