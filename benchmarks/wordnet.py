"""WordNet glosses from Debian's wordnet-base package (/usr/share/wordnet):
real English definitions, one per synset, to embed as benchmark data.

A data.* line is: offset lex_filenum ss_type w_cnt word lex_id [word lex_id
...] p_cnt [pointers] [frames] | gloss. The gloss holds the definition and,
after "; ", optional quoted examples; we keep the definition only.
"""

from __future__ import annotations

import os

WORDNET = "/usr/share/wordnet"
PARTS = ("noun", "verb", "adj", "adv")
NOUN_ANIMAL = 5  # lexicographer file noun.animal


def available() -> bool:
    return all(os.path.exists(os.path.join(WORDNET, f"data.{p}")) for p in PARTS)


def glosses(parts=PARTS, lex_file: int | None = None):
    """Yield (synset key, words, definition) for every synset."""
    for part in parts:
        with open(os.path.join(WORDNET, f"data.{part}"), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):  # licence header
                    continue
                head, _, gloss = line.partition(" | ")
                fields = head.split()
                if lex_file is not None and int(fields[1]) != lex_file:
                    continue
                n = int(fields[3], 16)
                words = [fields[4 + 2 * i].replace("_", " ") for i in range(n)]
                definition = gloss.split("; \"")[0].strip().rstrip(";").strip()
                if definition:
                    yield f"{part}.{fields[0]}", words, definition
