"""A small reader of the WordNet 3.0 database that Debian's `wordnet-base` installs.

Read at training time only (the corpus generator's synonyms); nothing of it ships but what
the model learns. Only what the corpus needs: the senses of a lemma in frequency order, the
lemmas of a synset, adjectives' "similar to" links, and the lemmas of a part of speech with
how often their senses were seen in tagged text (a rough measure of how common a word is).

    wn = WordNet()                          # /usr/share/wordnet, or $WORDNET_DIR
    wn.synonyms("put", "v", senses=1)       # ['put', 'set', 'place', 'pose', 'position', 'lay']
    wn.similar("thirsty")                   # adjectives WordNet lists as similar
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Tuple

POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}


class WordNetMissing(RuntimeError):
    pass


class WordNet:
    def __init__(self, root: str | None = None):
        self.root = Path(root or os.environ.get("WORDNET_DIR") or "/usr/share/wordnet")
        if not (self.root / "index.noun").exists():
            raise WordNetMissing(
                f"WordNet's database is not in {self.root}: install Debian's wordnet-base "
                "(apt-get install wordnet-base) or set WORDNET_DIR to a WordNet 3.0 dict folder")
        self._index: Dict[str, Dict[str, Tuple[List[int], int]]] = {}
        self._data: Dict[str, Dict[int, str]] = {}

    def _load_index(self, pos: str) -> Dict[str, Tuple[List[int], int]]:
        if pos not in self._index:
            out = {}
            with open(self.root / f"index.{POS_FILES[pos]}", encoding="latin-1") as f:
                for line in f:
                    if line.startswith(" "):
                        continue
                    parts = line.split()
                    lemma, synset_cnt, p_cnt = parts[0], int(parts[2]), int(parts[3])
                    tagged = int(parts[5 + p_cnt])
                    offsets = [int(o) for o in parts[6 + p_cnt:6 + p_cnt + synset_cnt]]
                    out[lemma] = (offsets, tagged)
            self._index[pos] = out
        return self._index[pos]

    def _line(self, pos: str, offset: int) -> str:
        data = self._data.setdefault(pos, {})
        if offset not in data:
            with open(self.root / f"data.{POS_FILES[pos]}", "rb") as f:
                f.seek(offset)
                data[offset] = f.readline().decode("latin-1")
        return data[offset]

    def _synset(self, pos: str, offset: int) -> Tuple[List[str], List[Tuple[str, int, str]]]:
        """The synset's lemmas and its pointers (symbol, offset, pos)."""
        parts = self._line(pos, offset).split(" | ")[0].split()
        n_words = int(parts[3], 16)
        words = []
        for i in range(n_words):
            w = parts[4 + 2 * i]
            w = w.split("(")[0]  # adjective markers: (a), (p), (ip)
            words.append(w.replace("_", " "))
        k = 4 + 2 * n_words
        n_ptr = int(parts[k])
        ptrs = []
        for i in range(n_ptr):
            sym, off, p = parts[k + 1 + 4 * i], int(parts[k + 2 + 4 * i]), parts[k + 3 + 4 * i]
            ptrs.append((sym, off, "a" if p == "s" else p))
        return words, ptrs

    def senses(self, lemma: str, pos: str) -> List[int]:
        return self._load_index(pos).get(lemma.replace(" ", "_").lower(), ([], 0))[0]

    def synonyms(self, lemma: str, pos: str, senses: int = 1) -> List[str]:
        """The lemmas of the first `senses` senses of `lemma` (itself first), lower-case ASCII."""
        out = [lemma]
        for off in self.senses(lemma, pos)[:senses]:
            for w in self._synset(pos, off)[0]:
                w = w.lower()
                if w.isascii() and w not in out:
                    out.append(w)
        return out

    def lemmas(self, lemma: str, pos: str, senses=(0,), exclude=()) -> List[str]:
        """`lemma` and the lemmas of its chosen senses (indices in WordNet's frequency order),
        lower-case ASCII, without `exclude`; a sense that does not exist is skipped."""
        out = [lemma]
        offsets = self.senses(lemma, pos)
        for i in senses:
            if i < len(offsets):
                for w in self._synset(pos, offsets[i])[0]:
                    w = w.lower()
                    if w.isascii() and w not in out and w not in exclude:
                        out.append(w)
        return out

    def similar(self, lemma: str, senses: int = 1) -> List[str]:
        """Adjectives WordNet links to the first `senses` senses of `lemma` by "similar to"."""
        out = []
        for off in self.senses(lemma, "a")[:senses]:
            for sym, o, p in self._synset("a", off)[1]:
                if sym == "&" and p == "a":
                    for w in self._synset("a", o)[0]:
                        w = w.lower()
                        if w.isascii() and w not in out and w != lemma:
                            out.append(w)
        return out

    def common_lemmas(self, pos: str, min_tagged: int = 5) -> List[str]:
        """Single-word lower-case lemmas whose senses were tagged at least `min_tagged` times
        in WordNet's sense-tagged corpus, sorted (a deterministic list of common words)."""
        return sorted(l for l, (_, tagged) in self._load_index(pos).items()
                      if tagged >= min_tagged and l.isalpha() and l.isascii() and l.islower())
