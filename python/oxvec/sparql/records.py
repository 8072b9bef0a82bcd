"""A VectorStore's records as RDF: an rdflib Store that reads the triples
from the records when a query asks for them (nothing is copied), so a SPARQL
endpoint over a collection can join vector search with documents and
metadata, and - when the caller's key may write - change them.

Each record ``<id>`` (its id an IRI) reads as::

    <id> a vec:Record ;
        vec:document "its document" ;          # when it has one
        vec:meta/genre "jazz" ;                  # one triple per metadata key
        vec:meta/year 1959 ;                     # (a list value: one per element)
        vec:meta/tags "a", "b" .

(``vec:meta/`` is ``http://oxirs.org/vec/meta/`` followed by the key,
percent-encoded.) Strings are plain literals, ints xsd:integer, floats
xsd:double, booleans xsd:boolean.

Writes (SPARQL Update's INSERT DATA / DELETE DATA / DELETE WHERE) change
documents and metadata of records that exist: adding ``vec:meta/k v`` sets
k to v (or makes it a list when k already has another value), removing it
drops that value; adding ``vec:document`` replaces the document, removing
it clears it. Records are not created or deleted through SPARQL (a record
needs a vector: use the store's add/delete); any other triple is refused
with UnsupportedError. The store checks each write as usual - a tenancy
Collection opened with a read-only key refuses it (PermissionDeniedError).
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from . import _require
from .._errors import NotFoundError, UnsupportedError
from .vector import VEC

META = VEC + "meta/"
RECORD = VEC + "Record"
DOCUMENT = VEC + "document"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_PAGE = 1000


def graph(store):
    """An rdflib Graph whose triples are store's records (see the module)."""
    rdflib = _require.rdflib()
    return rdflib.Graph(store=_store_class()(store))


def _store_class():
    rdflib = _require.rdflib()
    from rdflib import Literal, URIRef
    from rdflib.store import Store

    type_, record, document = URIRef(RDF_TYPE), URIRef(RECORD), URIRef(DOCUMENT)

    def value_term(v):
        return Literal(v)  # rdflib types str, int, float and bool as plain, xsd:integer, xsd:double, xsd:boolean

    def record_triples(rid: str, doc, meta):
        s = URIRef(rid)
        yield (s, type_, record)
        if doc is not None:
            yield (s, document, Literal(doc))
        for k, v in (meta or {}).items():
            p = URIRef(META + quote(k, safe=""))
            for x in v if isinstance(v, list) else [v]:
                yield (s, p, value_term(x))

    class RecordStore(Store):
        """rdflib Store over a VectorStore's records."""

        context_aware = False

        def __init__(self, vstore) -> None:
            super().__init__()
            self.vstore = vstore
            self._ns: dict = {}

        # --- reads ----------------------------------------------------------
        def _rows(self, s, p, o):
            """(id, document, metadata) of the records a pattern can match."""
            if isinstance(s, URIRef):
                got = self.vstore.get([str(s)])
                yield from zip(got["ids"], got["documents"], got["metadatas"])
                return
            if s is not None:
                return
            flt = None
            if isinstance(p, URIRef) and str(p).startswith(META) and isinstance(o, Literal) and o.value is not None \
                    and isinstance(o.toPython(), (str, int, float, bool)):
                flt = {unquote(str(p)[len(META):]): o.toPython()}  # the engine's filter finds them
            at = 0
            while True:
                got = self.vstore.get(filter=flt, limit=_PAGE, offset=at)
                yield from zip(got["ids"], got["documents"], got["metadatas"])
                if len(got["ids"]) < _PAGE:
                    return
                at += _PAGE

        def triples(self, triple_pattern, context=None):
            s, p, o = triple_pattern
            if p is not None and not isinstance(p, URIRef):
                return
            for rid, doc, meta in self._rows(s, p, o):
                for t in record_triples(rid, doc, meta):
                    if (p is None or t[1] == p) and (o is None or t[2] == o):
                        yield t, iter(())

        def __len__(self, context=None) -> int:
            return sum(1 for _ in self.triples((None, None, None)))

        def contexts(self, triple=None):
            return iter(())

        # --- writes ---------------------------------------------------------
        def _meta_of(self, rid: str) -> dict:
            got = self.vstore.get([rid])
            if not got["ids"]:
                raise NotFoundError(f"{rid} is not a record of this collection; add it (with its vector) first")
            return dict(got["metadatas"][0] or {})

        def add(self, triple, context=None, quoted=False) -> None:
            s, p, o = triple
            rid, key = self._target(s, p, o)
            if key is None:
                self._meta_of(rid)
                self.vstore.update([rid], documents=[str(o)])
                return
            meta = self._meta_of(rid)
            v = o.toPython()
            if key not in meta:
                meta[key] = v
            else:
                old = meta[key] if isinstance(meta[key], list) else [meta[key]]
                if v not in old:
                    meta[key] = old + [v]
            self.vstore.update([rid], metadatas=[meta])

        def remove(self, triple, context=None) -> None:
            s, p, o = triple
            matches = [t for t, _ in self.triples((s, p, o))]
            for ts, tp, to in matches:
                if tp == type_:
                    continue  # a record stays a record while it exists
                rid, key = self._target(ts, tp, to)
                if key is None:
                    self.vstore.update([rid], documents=[None])
                    continue
                meta = self._meta_of(rid)
                v = to.toPython()
                cur = meta.get(key)
                if isinstance(cur, list):
                    rest = [x for x in cur if x != v]
                    if rest:
                        meta[key] = rest if len(rest) > 1 else rest[0]
                    else:
                        meta.pop(key)
                elif cur == v:
                    meta.pop(key)
                self.vstore.update([rid], metadatas=[meta])

        def _target(self, s, p, o):
            """(record id, metadata key or None for the document) of a
            writable triple."""
            if not isinstance(s, URIRef) or not isinstance(p, URIRef) or not isinstance(o, Literal):
                raise UnsupportedError("only <record> vec:document \"...\" and <record> vec:meta/<key> value triples "
                                       f"can be written here, not {s} {p} {o}")
            if str(p) == DOCUMENT:
                return str(s), None
            if str(p).startswith(META) and isinstance(o.toPython(), (str, int, float, bool)):
                return str(s), unquote(str(p)[len(META):])
            raise UnsupportedError(f"{p} with {o!r} cannot be written: the collection's records take vec:document "
                                   "and vec:meta/<key> with a string, number or boolean")

        # --- prefixes (kept in memory) --------------------------------------
        def bind(self, prefix, namespace, override=True) -> None:
            self._ns[prefix] = namespace

        def namespace(self, prefix):
            return self._ns.get(prefix)

        def prefix(self, namespace):
            return next((p for p, n in self._ns.items() if n == namespace), None)

        def namespaces(self):
            return iter(self._ns.items())

    del rdflib
    return RecordStore
