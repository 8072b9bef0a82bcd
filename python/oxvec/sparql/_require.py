"""The optional RDF libraries, imported on first use with a message that
names the pip command when they are missing."""

from __future__ import annotations

INSTALL = "pip install 'oxvec[rdf]'  (rdflib and pyoxigraph)"


def rdflib():
    try:
        import rdflib as m
    except ImportError as e:
        raise ImportError(f"oxvec.sparql needs rdflib for this: {INSTALL}") from e
    return m


def pyoxigraph():
    try:
        import pyoxigraph as m
    except ImportError as e:
        raise ImportError(f"oxvec.sparql needs pyoxigraph for this: {INSTALL}") from e
    return m
