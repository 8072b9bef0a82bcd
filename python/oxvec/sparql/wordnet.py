"""WordNet as RDF: synsets with their lemmas, glosses and hypernym links, read
from Debian's wordnet-base (/usr/share/wordnet), and a VectorStore of the
glosses embedded by :class:`oxvec.embed.MiniLM`.

A data.* line is ``offset lex_filenum ss_type w_cnt word lex_id [word lex_id
...] p_cnt [symbol offset pos source/target ...] [frames] | gloss``; an
index.* line is ``lemma pos synset_cnt p_cnt [symbol ...] sense_cnt
tagsense_cnt offset [offset ...]``, the lemma's synsets in sense order. A
synset is named as NLTK names it, ``dog.n.01``: its first lemma, its type and
the sense number of the synset among that lemma's senses.

The vocabulary (prefix ``wn:`` = :data:`WN`)::

    wn:dog-n-01  a wn:Synset ;
        wn:name "dog.n.01" ; wn:pos "n" ; wn:lexFile "noun.animal" ;
        rdfs:label "dog", "domestic dog", "Canis familiaris" ;
        wn:gloss "a member of the genus Canis ..." ;
        wn:hypernym wn:canine-n-02, wn:domestic_animal-n-01 .

``wn:instanceHypernym`` links instances (wn:africa-n-01) to their class.
The IRI is the name with its dots as hyphens (see Synset.iri).
The gloss is the definition only (the quoted examples after it are dropped),
the text that is embedded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from urllib.parse import quote

import numpy as np

WORDNET = "/usr/share/wordnet"
WN = "http://oxirs.org/wordnet/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PARTS = {"noun": "n", "verb": "v", "adj": "a", "adv": "r"}
# the lexicographer files, by number (WordNet's lexnames, which wordnet-base does not ship)
LEX_FILES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body "
    "noun.cognition noun.communication noun.event noun.feeling noun.food noun.group noun.location "
    "noun.motive noun.object noun.person noun.phenomenon noun.plant noun.possession noun.process "
    "noun.quantity noun.relation noun.shape noun.state noun.substance noun.time verb.body verb.change "
    "verb.cognition verb.communication verb.competition verb.consumption verb.contact verb.creation "
    "verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()
_MARKER = re.compile(r"\((a|p|ip)\)$")  # adjective position markers on words: "galore(ip)"


@dataclass
class Synset:
    key: str  # pos letter of its data file + offset: "n02084071"
    pos: str  # n, v, a, s (adjective satellite), r
    lex_file: str
    lemmas: list
    definition: str
    hypernyms: list = field(default_factory=list)  # keys
    instance_hypernyms: list = field(default_factory=list)
    name: str = ""

    @property
    def iri(self) -> str:
        """wn:dog-n-01: the name with '.' as '-' (pyoxigraph 0.5 cannot parse
        a prefixed name like wn:dog.n.01, though SPARQL allows it)."""
        return WN + quote(self.name.replace(".", "-"), safe="-_~")


def available(path: str = WORDNET) -> bool:
    return all(os.path.exists(os.path.join(path, f"data.{p}")) for p in PARTS)


def _require(path: str) -> None:
    if not available(path):
        raise FileNotFoundError(2, "WordNet's data files are missing: apt-get install wordnet-base", path)


def read(path: str = WORDNET) -> dict:
    """Every synset of WordNet, by key, named and linked."""
    _require(path)
    synsets: dict = {}
    for part, letter in PARTS.items():
        with open(os.path.join(path, f"data.{part}"), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):  # licence header
                    continue
                s = _parse_data_line(line, letter)
                synsets[s.key] = s
    _name(synsets, path)
    return synsets


def _parse_data_line(line: str, letter: str) -> Synset:
    head, _, gloss = line.partition(" | ")
    f = head.split()
    n = int(f[3], 16)
    lemmas = [_MARKER.sub("", f[4 + 2 * i]).replace("_", " ") for i in range(n)]
    at = 4 + 2 * n
    p_cnt = int(f[at])
    hyper, inst = [], []
    for j in range(p_cnt):
        sym, off, pos = f[at + 1 + 4 * j: at + 4 + 4 * j]
        target = ("a" if pos == "s" else pos) + off
        if sym == "@":
            hyper.append(target)
        elif sym == "@i":
            inst.append(target)
    definition = gloss.split('; "')[0].strip().rstrip(";").strip()
    return Synset(letter + f[0], f[2], LEX_FILES[int(f[1])] if int(f[1]) < len(LEX_FILES) else f[1],
                  lemmas, definition, hyper, inst)


def _name(synsets: dict, path: str) -> None:
    """NLTK's names: first lemma . type . sense number of the synset for that lemma."""
    sense: dict = {}
    for part, letter in PARTS.items():
        with open(os.path.join(path, f"index.{part}"), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                t = line.split()
                p_cnt = int(t[3])
                for i, off in enumerate(t[6 + p_cnt:]):
                    sense[(t[0], letter + off)] = i + 1
    for s in synsets.values():
        lemma = s.lemmas[0].lower().replace(" ", "_")
        s.name = f"{lemma}.{s.pos}.{sense.get((lemma, s.key), 0):02d}"


def by_name(synsets: dict) -> dict:
    return {s.name: s for s in synsets.values()}


def hyponyms(synsets: dict, name: str) -> set:
    """Keys of a synset and everything below it (hypernym links reversed,
    instances included)."""
    below: dict = {}
    for k, s in synsets.items():
        for h in s.hypernyms + s.instance_hypernyms:
            below.setdefault(h, []).append(k)
    out: set = set()
    todo = [by_name(synsets)[name].key]
    while todo:
        k = todo.pop()
        if k not in out:
            out.add(k)
            todo.extend(below.get(k, ()))
    return out


def subset(synsets: dict, below=(), names=(), sample: int = 0, seed: int = 0) -> dict:
    """A smaller WordNet: the synsets under each name of ``below``, the
    synsets of ``names``, ``sample`` other noun synsets drawn with a seeded
    generator, and all the hypernym ancestors of those (so hierarchy queries
    still reach the top), in WordNet's order."""
    named = by_name(synsets)
    keep = set()
    for b in below:
        keep |= hyponyms(synsets, b)
    keep |= {named[n].key for n in names}
    if sample:
        nouns = sorted(k for k in synsets if k[0] == "n" and k not in keep)
        rng = np.random.default_rng(seed)
        keep |= {nouns[i] for i in rng.choice(len(nouns), min(sample, len(nouns)), replace=False)}
    todo = list(keep)
    while todo:
        k = todo.pop()
        for h in synsets[k].hypernyms + synsets[k].instance_hypernyms:
            if h not in keep:
                keep.add(h)
                todo.append(h)
    return {k: s for k, s in synsets.items() if k in keep}


def _lit(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # N-Triples string escapes are JSON's (\", \\, \n, \uXXXX)


def ntriples(synsets: dict) -> str:
    """The synsets as N-Triples (load with rdflib's Graph.parse(data=...,
    format="nt") or pyoxigraph's Store.load(..., "application/n-triples"))."""
    out = []
    for s in synsets.values():
        i = f"<{s.iri}>"
        out.append(f"{i} <{RDF_TYPE}> <{WN}Synset> .")
        out.append(f"{i} <{WN}name> {_lit(s.name)} .")
        out.append(f"{i} <{WN}pos> {_lit(s.pos)} .")
        out.append(f"{i} <{WN}lexFile> {_lit(s.lex_file)} .")
        out.append(f"{i} <{WN}gloss> {_lit(s.definition)} .")
        for lemma in s.lemmas:
            out.append(f"{i} <{RDFS_LABEL}> {_lit(lemma)} .")
        for p, targets in (("hypernym", s.hypernyms), ("instanceHypernym", s.instance_hypernyms)):
            for t in targets:
                if t in synsets:
                    out.append(f"{i} <{WN}{p}> <{synsets[t].iri}> .")
    return "\n".join(out) + "\n"


def embeddings(synsets: dict, embedder, cache_dir: str = "build/wordnet-embeddings") -> np.ndarray:
    """(len(synsets), dim) float32 gloss vectors, in the synsets' order.

    Cached in cache_dir by embedder name and the set of glosses; a cached
    full WordNet serves any subset of it."""
    keys = list(synsets)
    texts = [synsets[k].definition for k in keys]
    digest = hashlib.sha256("\n".join(f"{k}\t{t}" for k, t in zip(keys, texts)).encode()).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", str(getattr(embedder, "name", "embedder")))
    os.makedirs(cache_dir, exist_ok=True)
    own = os.path.join(cache_dir, f"{name}-{digest}")
    for base in [own] + sorted(os.path.join(cache_dir, f[:-5]) for f in os.listdir(cache_dir) if f.endswith(".keys")):
        try:
            with open(base + ".keys") as f:
                cached_keys = f.read().split("\n")
            if not os.path.basename(base).startswith(name + "-"):
                continue
            at = {k: i for i, k in enumerate(cached_keys)}
            if all(k in at for k in keys):
                return np.load(base + ".npy", mmap_mode="r")[[at[k] for k in keys]].astype(np.float32)
        except (OSError, ValueError):
            continue
    vecs = np.ascontiguousarray(embedder(texts), np.float32)
    np.save(own + ".npy", vecs)
    with open(own + ".keys.tmp", "w") as f:  # the .keys file marks the cache complete
        f.write("\n".join(keys))
    os.replace(own + ".keys.tmp", own + ".keys")
    return vecs


def vector_store(path: str, synsets: dict, embedder, cache_dir: str = "build/wordnet-embeddings", **store_kw):
    """A cosine VectorStore of the glosses: ids are the synset IRIs,
    documents the glosses, metadata pos and lexFile."""
    from .._store import VectorStore

    vecs = embeddings(synsets, embedder, cache_dir)
    st = VectorStore(path, dim=vecs.shape[1], metric="cosine", durability="never", embedder=embedder, **store_kw)
    ss = list(synsets.values())
    if st.count() == 0:
        st.add([s.iri for s in ss], vecs, documents=[s.definition for s in ss],
               metadatas=[{"pos": s.pos, "lex_file": s.lex_file} for s in ss])
    return st
