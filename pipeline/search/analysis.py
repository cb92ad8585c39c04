"""Dutch analysis for search: a word's search key, the analysed index columns of a fragment,
and a query as weighted concepts.

* :meth:`Analyser.key` maps a word form to one search key: lemma (``symposia`` ->
  ``symposium``, ``risico's`` -> ``risico``), folded and stemmed (:mod:`pipeline.core.text`).
* :meth:`Analyser.index_fields` gives the analysed columns of a fragment for the full-text
  index and :meth:`Analyser.analyse_query` turns a query as people type it into weighted
  concepts, with compound parts (:mod:`pipeline.search.words`) and related terms
  (:mod:`pipeline.search.thesaurus`).

An :class:`Analyser` keeps every word analysis it has made or loaded. To keep a search fast,
each word's analysis (its key and the keys of its compound parts) is also kept in the
catalogue: words loaded from there (:meth:`Analyser.load_words`) never touch the lemma and
frequency tables. Whoever runs searches owns the analyser: one per command, or one for the
life of a server or a benchmark.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pipeline.core.text import fold, stem

from .thesaurus import Thesaurus, build_thesaurus
from .words import lemma, split_compound, splits_into, words

# Bump when the analysis changes: stored index columns are rebuilt when this differs.
ANALYSIS_VERSION = "2"

WordEntry = tuple[str, str, str | None]  # word, key, part keys joined by spaces (None: unknown)

RELATED_WEIGHT = 0.55
PART_WEIGHT = 0.7
SURFACE_WEIGHT = 0.3


@dataclass(frozen=True)
class IndexFields:
    """The analysed columns of one fragment for the full-text index."""

    terms: str  # one key per word, in order (phrases match on it)
    parts: str  # keys of compound parts, and of neighbouring words joined into a compound
    # (word, key, parts) of its words, their lemmas and joined neighbours: the catalogue keeps
    # them, so a search for these words needs no lemma or frequency tables
    words: tuple[WordEntry, ...] = ()


@dataclass(frozen=True)
class Variant:
    """One way a concept can match: a key sequence in a column, with a weight."""

    keys: tuple[str, ...]
    column: str  # terms | parts | text
    weight: float
    # a surface form: the keys of the ``terms`` variant that matches wherever this one does
    surface_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Concept:
    """One thing the user asked for (a word, or a phrase), with the ways it can match.

    ``optional`` concepts (two query words joined into a compound) only add to the score:
    they do not count in how much of the query a fragment covers."""

    label: str
    weight: float
    variants: tuple[Variant, ...]
    optional: bool = False


@dataclass(frozen=True)
class QueryAnalysis:
    text: str
    concepts: tuple[Concept, ...]
    content_words: tuple[str, ...]  # folded, stopwords removed: for highlighting
    highlight_keys: frozenset[str]  # keys whose words are highlighted in snippets


class Analyser:
    """Word analyses (word form -> key, -> keys of its compound parts), made or loaded from a
    catalogue, and what is built from them (the thesaurus as keys)."""

    def __init__(self, limit: int = 500_000):
        self.limit = limit
        self._keys: dict[str, str] = {}
        self._parts: dict[str, tuple[str, ...]] = {}
        self._fresh: set[str] = set()
        self._thesaurus: Thesaurus | None = None

    # words --------------------------------------------------------------------------------
    def _room(self) -> None:
        if len(self._keys) > self.limit or len(self._parts) > self.limit:  # a long life
            self._keys.clear()
            self._parts.clear()
            self._fresh.clear()

    def key(self, word: str) -> str:
        """The search key of one word form: folded stem of its lemma."""
        found = self._keys.get(word)
        if found is None:
            self._room()
            found = self._keys[word] = stem(fold(lemma(word)))
            self._fresh.add(word)
        return found

    def part_keys(self, word: str) -> list[str]:
        """Keys of the compound parts of a word form (empty when it is no compound)."""
        found = self._parts.get(word)
        if found is None:
            self._room()
            found = self._parts[word] = tuple(self.key(p) for p in split_compound(fold(word)))
            self._fresh.add(word)
        return list(found)

    def keys_of_word(self, word: str) -> set[str]:
        """The key of a word and of its compound parts."""
        return {self.key(word), *self.part_keys(word)}

    def load_words(self, entries: Iterable[WordEntry]) -> None:
        """Take word analyses from the catalogue (``(word, key, parts)``), so that these words
        are not analysed again (which would load the lemma and frequency tables)."""
        for word, k, parts in entries:
            self._keys.setdefault(word, k)
            if parts is not None:
                self._parts.setdefault(word, tuple(parts.split()))

    def missing_words(self, candidates: Iterable[str]) -> list[str]:
        """Those of ``candidates`` whose key or compound parts are not known yet."""
        return [w for w in candidates if w not in self._parts or w not in self._keys]

    def word_entry(self, word: str) -> WordEntry:
        """``(word, key, parts)`` of a word as the catalogue keeps it (parts when known)."""
        parts = self._parts.get(word)
        return (word, self.key(word), " ".join(parts) if parts is not None else None)

    def known_words(self, candidates: Iterable[str]) -> list[WordEntry]:
        """``(word, key, parts)`` of those of ``candidates`` analysed so far."""
        return [self.word_entry(w) for w in candidates if w in self._keys]

    def fresh_words(self) -> list[WordEntry]:
        """The words analysed (not loaded) since the last call: to keep in the catalogue."""
        out = [self.word_entry(w) for w in sorted(self._fresh)]
        self._fresh.clear()
        return out

    @property
    def thesaurus(self) -> Thesaurus:
        if self._thesaurus is None:
            self._thesaurus = build_thesaurus(self.key)
        return self._thesaurus

    # index --------------------------------------------------------------------------------
    def index_fields(self, text: str) -> IndexFields:
        ws = words(text)
        keys = [self.key(w) for w in ws]
        parts: list[str] = []
        seen = set(ws)
        for w in ws:
            parts.extend(self.part_keys(w))
            seen.update(split_compound(fold(w)))  # "toernooi" is typed for "sporttoernooi"
        # "natuur compensatie" written apart is found by "natuurcompensatie" too
        for a, b in zip(ws, ws[1:], strict=False):
            if a.isalpha() and b.isalpha() and len(a) >= 4 and len(b) >= 4:
                joined = fold(a + b)
                if splits_into(joined, fold(a), fold(b)):
                    parts.append(self.key(joined))
                    self.part_keys(joined)
                    seen.add(joined)
        # the dictionary form of each word too: a query types "symposium" for "symposia"
        for w in list(seen):
            base = lemma(w)
            if base != w and base.isalpha():
                seen.add(base)
        for w in seen:
            self.part_keys(w)
        return IndexFields(
            terms=" ".join(keys),
            parts=" ".join(parts),
            words=tuple(self.word_entry(w) for w in sorted(seen)),
        )

    # queries ------------------------------------------------------------------------------
    def joined_key(self, a: str, b: str) -> str | None:
        """The key of two neighbouring query words written as one compound (``natuur`` +
        ``compensatie``), when they make one by word frequency; else None."""
        joined = fold(a + b)
        return self.key(joined) if splits_into(joined, fold(a), fold(b)) else None

    def compound_parts(self, a: str, b: str) -> str:
        """The compound parts (keys, space-separated) that ``a`` + ``b`` joined would have:
        what :meth:`joined_key` looks for among the words a catalogue knows."""
        return " ".join([*(self.part_keys(a) or [self.key(a)]), self.key(b)])

    def analyse_query(
        self, query: str, joined: Callable[[str, str], str | None] | None = None
    ) -> QueryAnalysis:
        """Split a query into concepts: content words (stopwords and question words dropped),
        with their compound parts, joined neighbours and related terms as weaker variants;
        phrases of the thesaurus ("samen eten", "geen wij-zij") are concepts of their own.

        ``joined(a, b)`` gives the key of two neighbouring words as one compound (or None); a
        search passes one that looks in the catalogue's words, so no frequency table loads."""
        join = joined or self.joined_key
        th = self.thesaurus
        all_words = words(query)
        all_keys = [self.key(w) for w in all_words]
        content_pos = [i for i, w in enumerate(all_words) if fold(w) not in th.stopwords]
        if not content_pos:
            content_pos = list(range(len(all_words)))  # only stopwords: search them anyway
        concepts: list[Concept] = []
        highlight: set[str] = set()
        taken: set[int] = set()
        phrases = _find_phrases([(i, all_keys[i]) for i in content_pos], th, taken)
        phrases += _find_phrases(list(enumerate(all_keys)), th, taken)
        for phrase, positions in phrases:
            label = " ".join(all_words[positions[0] : positions[-1] + 1])
            variants = [Variant(phrase, "terms", 1.0), *_related(th, phrase, highlight)]
            concepts.append(Concept(label, 1.0, tuple(_dedupe(variants))))
            highlight.update(k for k in phrase if k not in th.stopwords)
        for i in content_pos:
            # a word that is part of a matched phrase counts less on its own
            weight = 0.5 if i in taken else 1.0
            concepts.append(self._word_concept(all_words[i], all_keys[i], weight, highlight))
        # neighbours joined: "natuur compensatie" finds "natuurcompensatie"
        for i, j in zip(content_pos, content_pos[1:], strict=False):
            a, b = all_words[i], all_words[j]
            k = join(a, b) if j == i + 1 and a.isalpha() and b.isalpha() else None
            if k:
                both = (Variant((k,), "terms", 1.0), Variant((k,), "parts", PART_WEIGHT))
                concepts.append(Concept(a + b, 0.8, both, optional=True))
                highlight.add(k)
        return QueryAnalysis(
            text=query,
            concepts=tuple(concepts),
            content_words=tuple(fold(all_words[i]) for i in content_pos),
            highlight_keys=frozenset(highlight),
        )

    def _word_concept(self, w: str, k: str, weight: float, highlight: set[str]) -> Concept:
        variants = [
            Variant((k,), "terms", 1.0),
            Variant((k,), "parts", PART_WEIGHT),
            Variant((fold(w),), "text", SURFACE_WEIGHT, surface_of=(k,)),
        ]
        highlight.add(k)
        parts = self.part_keys(w)
        if parts:  # "natuurcompensatie" finds "natuur compensatie" and parts elsewhere
            variants.append(Variant(tuple(parts), "terms", 0.9))
            variants.extend(Variant((p,), "terms", 0.35) for p in parts if len(p) >= 4)
            highlight.update(parts)
        variants.extend(_related(self.thesaurus, (k,), highlight))
        return Concept(w, weight, tuple(_dedupe(variants)))


def _related(th: Thesaurus, phrase: tuple[str, ...], highlight: set[str]) -> list[Variant]:
    """Variants for the thesaurus terms related to ``phrase`` (their keys are highlighted)."""
    out = []
    for rel in th.related(phrase):
        out.append(Variant(rel, "terms", RELATED_WEIGHT))
        if len(rel) == 1:  # "teamuitje" ~ "toernooi" also finds "sporttoernooi"
            out.append(Variant(rel, "parts", RELATED_WEIGHT * PART_WEIGHT))
        highlight.update(rel)
    return out


def _find_phrases(
    seq: list[tuple[int, str]], th: Thesaurus, taken: set[int]
) -> list[tuple[tuple[str, ...], list[int]]]:
    """Thesaurus phrases in a (position, key) sequence, longest first, not overlapping."""
    found = []
    for n in range(min(th.max_phrase, len(seq)), 1, -1):
        for i in range(len(seq) - n + 1):
            window = seq[i : i + n]
            phrase = tuple(k for _, k in window)
            positions = [p for p, _ in window]
            if phrase in th.index and not taken.intersection(positions):
                found.append((phrase, positions))
                taken.update(positions)
    return found


def _dedupe(variants: Iterable[Variant]) -> list[Variant]:
    best: dict[tuple[tuple[str, ...], str], Variant] = {}
    for v in variants:
        k = (v.keys, v.column)
        if k not in best or best[k].weight < v.weight:
            best[k] = v
    return list(best.values())
