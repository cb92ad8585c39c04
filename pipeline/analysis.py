"""Dutch analysis for search: word keys, compound splitting, related terms.

Builds on :mod:`pipeline.text` (folding, Snowball stems):

* :func:`key` maps a word form to one search key: lemma (simplemma, so ``symposia`` ->
  ``symposium``, ``deelden`` -> ``delen``, ``risico's`` -> ``risico``), folded and stemmed.
* :func:`split_compound` splits a Dutch compound into its parts by word frequency
  (``natuurcompensatie`` -> ``natuur`` + ``compensatie``, ``verkenningsfase`` -> ``verkenning``
  + ``fase``): a split is taken when its parts are more common than the whole word.
* :class:`Thesaurus` holds groups of related words and phrases (data in
  ``pipeline/data/thesaurus.toml``): ``moed`` ~ ``lef``, ``durven``; ``samen eten`` ~ ``lunch``.
* :func:`index_fields` gives the analysed columns of a fragment for the full-text index and
  :func:`analyse_query` turns a query as people type it into weighted concepts.

The lemma and frequency tables load lazily (a few hundred ms, once per process). To keep a
search fast, each word's analysis (its key and the keys of its compound parts) is also kept in
the catalogue (see :func:`load_words`): words found there never touch the tables.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

from .text import fold, stem

# Bump when the analysis changes: stored index columns are rebuilt when this differs.
ANALYSIS_VERSION = "2"

THESAURUS_PATH = Path(__file__).parent / "data" / "thesaurus.toml"

_WORD = re.compile(r"[0-9a-zà-ÿ]+(?:['’][a-z]+)?")

# Parts that never stand alone as the head or tail of a compound: prefixes, particles and
# suffixes (``ver|kenning``, ``aan|spreken``, ``water|schap`` are no compounds to split).
_NO_HEAD = frozenset(
    [
        "aan",
        "af",
        "al",
        "be",
        "bij",
        "by",
        "de",
        "der",
        "des",
        "door",
        "een",
        "er",
        "ge",
        "her",
        "in",
        "mede",
        "mee",
        "met",
        "mis",
        "na",
        "niet",
        "om",
        "on",
        "ont",
        "onder",
        "op",
        "over",
        "per",
        "te",
        "ter",
        "toe",
        "tot",
        "uit",
        "van",
        "ver",
        "voor",
        "weg",
        "wan",
        "zo",
    ]
)
_NO_TAIL = frozenset(
    [
        "aar",
        "aard",
        "ant",
        "baar",
        "de",
        "den",
        "der",
        "dom",
        "dt",
        "en",
        "end",
        "er",
        "es",
        "heid",
        "ig",
        "ing",
        "isch",
        "je",
        "jes",
        "lijk",
        "lijke",
        "lijkheid",
        "loos",
        "ner",
        "nis",
        "sel",
        "ster",
        "te",
        "ten",
        "tje",
        "tjes",
        "tie",
        "zaam",
        "schap",
        "schappen",
        "heden",
        "ingen",
        "achtig",
        "erig",
        "ische",
    ]
)
_LINKS = ("", "s", "e", "en", "er")
_MIN_PART = 3
_MIN_COMPOUND = 7


# words ------------------------------------------------------------------------------------
def words(text: str) -> list[str]:
    """Lower-case word forms with their diacritics, apostrophe plurals joined
    (``risico's`` -> ``risicos``); hyphens and slashes split words (``wij-zij``)."""
    out = []
    for w in _WORD.findall(text.lower().replace("’", "'").replace("‘", "'")):
        if w.endswith("'s") and len(w) > 3:
            out.append(w[:-2])  # risico's -> risico (plural of a word ending in a vowel)
        else:
            out.append(w.replace("'", ""))
    return out


@cache
def _lemmatizer() -> object:
    import simplemma  # noqa: F401  (loads its Dutch tables on first use)

    return simplemma


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The dictionary form of a lower-case word (unknown words come back as they are)."""
    if len(word) < 3 or word.isdigit():
        return word
    irregular = _forms().get(fold(word))
    if irregular:
        return irregular
    simplemma = _lemmatizer()
    try:
        found = simplemma.lemmatize(word, lang="nl")  # type: ignore[attr-defined]
    except (ValueError, KeyError):  # pragma: no cover - defensive: odd input
        found = word
    return found.lower() if found else word


# word analysis cache: word form -> key, and -> keys of its compound parts. Filled from the
# catalogue (load_words) and by computing; what was computed is handed back by fresh_words.
_KEYS: dict[str, str] = {}
_PARTS: dict[str, tuple[str, ...]] = {}
_FRESH: set[str] = set()
_CACHE_LIMIT = 500_000

WordEntry = tuple[str, str, str | None]  # word, key, part keys joined by spaces (None: unknown)


def _room() -> None:
    if len(_KEYS) > _CACHE_LIMIT or len(_PARTS) > _CACHE_LIMIT:  # a long-running process
        _KEYS.clear()
        _PARTS.clear()
        _FRESH.clear()


def key(word: str) -> str:
    """The search key of one word form: folded stem of its lemma."""
    found = _KEYS.get(word)
    if found is None:
        _room()
        found = _KEYS[word] = stem(fold(lemma(word)))
        _FRESH.add(word)
    return found


def part_keys(word: str) -> list[str]:
    """Keys of the compound parts of a word form (empty when it is no compound)."""
    found = _PARTS.get(word)
    if found is None:
        _room()
        found = _PARTS[word] = tuple(key(p) for p in split_compound(fold(word)))
        _FRESH.add(word)
    return list(found)


def load_words(entries: Iterable[WordEntry]) -> None:
    """Take word analyses from the catalogue (``(word, key, parts)``), so that these words
    are not analysed again (which would load the lemma and frequency tables)."""
    for word, k, parts in entries:
        _KEYS.setdefault(word, k)
        if parts is not None:
            _PARTS.setdefault(word, tuple(parts.split()))


def missing_words(candidates: Iterable[str]) -> list[str]:
    """Those of ``candidates`` whose key or compound parts are not known in this process."""
    return [w for w in candidates if w not in _PARTS or w not in _KEYS]


def word_entry(word: str) -> WordEntry:
    """``(word, key, parts)`` of a word as the catalogue keeps it (parts when known)."""
    parts = _PARTS.get(word)
    return (word, key(word), " ".join(parts) if parts is not None else None)


def known_words(candidates: Iterable[str]) -> list[WordEntry]:
    """``(word, key, parts)`` of those of ``candidates`` analysed in this process so far."""
    return [word_entry(w) for w in candidates if w in _KEYS]


def fresh_words() -> list[WordEntry]:
    """The words analysed (not loaded) since the last call: to keep in the catalogue."""
    out = [word_entry(w) for w in sorted(_FRESH)]
    _FRESH.clear()
    return out


def tables_loaded() -> bool:
    """Whether this process loaded the lemma or frequency tables (for tests and benchmarks)."""
    return _lemmatizer.cache_info().currsize > 0 or _frequencies.cache_info().currsize > 0


# compounds --------------------------------------------------------------------------------
@cache
def _frequencies() -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict("nl")


def _zipf(word: str) -> float:
    freq = _frequencies().get(word, 0.0)
    # capped: very common short words (ter, ver) must not make accidental splits win
    return min(math.log10(freq) + 9, 5.0) if freq > 0 else 0.0


def _known(word: str) -> float:
    """Zipf frequency of a word or of its lemma (``prijzen`` is known through ``prijs``)."""
    z = _zipf(word)
    if z < 2.5 and len(word) >= _MIN_PART:
        z = max(z, _zipf(fold(lemma(word))))
    return z


@lru_cache(maxsize=100_000)
def split_compound(word: str) -> tuple[str, ...]:
    """The parts of a folded Dutch compound, or ``()`` when it is not one.

    Koehn & Knight style: of all ways to cut the word in two (allowing a linking ``s``/``e``/
    ``en``), take the one whose parts have the highest mean Zipf frequency, when that beats the
    frequency of the whole word. The head may itself be a compound
    (``dijkversterking|s|traject``). Inflected forms are split through their lemma, so
    ``deelden`` (``delen``) is no compound.
    """
    if len(word) < _MIN_COMPOUND or not word.isalpha():
        return ()
    base = fold(lemma(word))
    if base != word and len(base) < _MIN_COMPOUND:
        return ()
    found = _best_split(word)
    if found is None:
        return ()
    head, tail = found
    return (*(split_compound(head) or (head,)), tail)


@lru_cache(maxsize=100_000)
def _compound_zipf(word: str) -> float:
    """How known a word is, directly or as a compound of known words (a bit less)."""
    z = _known(word)
    if z >= 2.5 or len(word) < _MIN_COMPOUND:
        return z
    split = _best_split(word)
    if split is None:
        return z
    return max(z, (_compound_zipf(split[0]) + _known(split[1])) / 2 - 1.0)


@lru_cache(maxsize=100_000)
def _best_split(word: str) -> tuple[str, str] | None:
    whole = _zipf(word)
    best: tuple[float, str, str] | None = None
    for i in range(_MIN_PART, len(word) - _MIN_PART + 1):
        tail = word[i:]
        if tail in _NO_TAIL:
            continue
        zt = _known(tail)
        if zt < 2.5:
            continue
        for link in _LINKS:
            head = word[:i]
            if link:
                if not head.endswith(link) or len(head) - len(link) < _MIN_PART:
                    continue
                head = head[: -len(link)]
            if head in _NO_HEAD:
                continue
            zh = _compound_zipf(head) if len(head) >= _MIN_COMPOUND else _zipf(head)
            if zh < 2.5:
                continue
            # short parts are often accidental (gesp|rekken): ask more of them
            penalty = 0.75 * sum(1 for p in (head, tail) if len(p) <= 3)
            score = (zh + zt) / 2 - penalty - (0.2 if link else 0.0)
            if best is None or score > best[0]:
                best = (score, head, tail)
    if best is None or best[0] <= whole:
        return None
    return best[1], best[2]


def _splits_into(joined: str, a: str, b: str) -> bool:
    """True when two neighbouring words make a compound (``natuur`` + ``compensatie``)."""
    if _zipf(joined) == 0.0 and (_zipf(a) < 2.5 or _zipf(b) < 2.5):
        return False
    found = _best_split(joined)
    return found is not None and found[1] == b


# thesaurus --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Thesaurus:
    """Groups of related terms (each a tuple of key sequences), stopwords, irregular forms."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]
    stopwords: frozenset[str]
    forms: dict[str, str] = field(default_factory=dict, compare=False)
    # key sequence -> indices of the groups it belongs to
    index: dict[tuple[str, ...], tuple[int, ...]] = field(default_factory=dict, compare=False)

    def related(self, phrase: tuple[str, ...]) -> list[tuple[str, ...]]:
        """The other members of every group that ``phrase`` (a key sequence) is in."""
        out: list[tuple[str, ...]] = []
        for g in self.index.get(phrase, ()):
            out.extend(m for m in self.groups[g] if m != phrase and m not in out)
        return out

    @property
    def max_phrase(self) -> int:
        return max((len(p) for p in self.index), default=1)


@cache
def _data() -> dict:
    return tomllib.loads(THESAURUS_PATH.read_text(encoding="utf-8"))


@cache
def _forms() -> dict[str, str]:
    """Irregular forms the lemma tables miss (``risicos`` -> ``risico``)."""
    return {fold(k): fold(v) for k, v in _data().get("forms", {}).items()}


@cache
def thesaurus() -> Thesaurus:
    data = _data()
    stop = frozenset(fold(w) for w in data.get("stopwords", []))
    # keys that stand for a stopword (eenheid -> een, kans -> kan): no use as a related term
    stop_keys = stop | {key(w) for w in stop}
    groups: list[tuple[tuple[str, ...], ...]] = []
    index: dict[tuple[str, ...], list[int]] = {}
    for entry in data.get("related", []):
        members: list[tuple[str, ...]] = []
        lookups: list[tuple[str, ...]] = []
        for term in entry.get("terms", []):
            ws = words(term)
            full = tuple(key(w) for w in ws)
            kept = tuple(key(w) for w in ws if fold(w) not in stop)
            # "samen eten": both; "alles delen", "wij-zij": only whole (else it means "delen")
            phrase = kept if len(kept) >= 2 else full
            if not phrase or (len(phrase) == 1 and phrase[0] in stop_keys):
                continue
            if phrase not in members:
                members.append(phrase)
            lookups.extend(f for f in {phrase, full} if f not in lookups)
        if len(members) < 2:
            continue
        for m in lookups:
            index.setdefault(m, []).append(len(groups))
        groups.append(tuple(members))
    return Thesaurus(
        groups=tuple(groups),
        stopwords=stop,
        forms=_forms(),
        index={k: tuple(v) for k, v in index.items()},
    )


# index and query --------------------------------------------------------------------------
@dataclass(frozen=True)
class IndexFields:
    """The analysed columns of one fragment for the full-text index."""

    terms: str  # one key per word, in order (phrases match on it)
    parts: str  # keys of compound parts, and of neighbouring words joined into a compound
    # (word, key, parts) of its words, their lemmas and joined neighbours: the catalogue keeps
    # them, so a search for these words needs no lemma or frequency tables
    words: tuple[WordEntry, ...] = ()


def index_fields(text: str) -> IndexFields:
    ws = words(text)
    keys = [key(w) for w in ws]
    parts: list[str] = []
    seen = set(ws)
    for w in ws:
        parts.extend(part_keys(w))
        seen.update(split_compound(fold(w)))  # "toernooi" is typed for "sporttoernooi"
    # "natuur compensatie" written apart is found by "natuurcompensatie" too
    for a, b in zip(ws, ws[1:], strict=False):
        if a.isalpha() and b.isalpha() and len(a) >= 4 and len(b) >= 4:
            joined = fold(a + b)
            if _splits_into(joined, fold(a), fold(b)):
                parts.append(key(joined))
                part_keys(joined)
                seen.add(joined)
    # the dictionary form of each word too: a query types "symposium" for "symposia"
    for w in list(seen):
        base = lemma(w)
        if base != w and base.isalpha():
            seen.add(base)
    for w in seen:
        part_keys(w)
    return IndexFields(
        terms=" ".join(keys),
        parts=" ".join(parts),
        words=tuple(word_entry(w) for w in sorted(seen)),
    )


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


RELATED_WEIGHT = 0.55
PART_WEIGHT = 0.7
SURFACE_WEIGHT = 0.3


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


def joined_key(a: str, b: str) -> str | None:
    """The key of two neighbouring query words written as one compound (``natuur`` +
    ``compensatie``), when they make one by word frequency; else None."""
    joined = fold(a + b)
    return key(joined) if _splits_into(joined, fold(a), fold(b)) else None


def compound_parts(a: str, b: str) -> str:
    """The compound parts (keys, space-separated) that ``a`` + ``b`` joined would have: what
    :func:`joined_key` looks for among the words a catalogue knows."""
    return " ".join([*(part_keys(a) or [key(a)]), key(b)])


def analyse_query(
    query: str, joined: Callable[[str, str], str | None] = joined_key
) -> QueryAnalysis:
    """Split a query into concepts: content words (stopwords and question words dropped),
    with their compound parts, joined neighbours and related terms as weaker variants;
    phrases of the thesaurus ("samen eten", "geen wij-zij") are concepts of their own.

    ``joined(a, b)`` gives the key of two neighbouring words as one compound (or None); a
    search passes one that looks in the catalogue's words, so no frequency table loads."""
    th = thesaurus()
    all_words = words(query)
    all_keys = [key(w) for w in all_words]
    content_pos = [i for i, w in enumerate(all_words) if fold(w) not in th.stopwords]
    if not content_pos:
        content_pos = list(range(len(all_words)))  # only stopwords: search them anyway
    concepts: list[Concept] = []
    highlight: set[str] = set()

    def related_variants(phrase: tuple[str, ...]) -> list[Variant]:
        out = []
        for rel in th.related(phrase):
            out.append(Variant(rel, "terms", RELATED_WEIGHT))
            if len(rel) == 1:  # "teamuitje" ~ "toernooi" also finds "sporttoernooi"
                out.append(Variant(rel, "parts", RELATED_WEIGHT * PART_WEIGHT))
            highlight.update(rel)
        return out

    taken: set[int] = set()
    phrases = _find_phrases([(i, all_keys[i]) for i in content_pos], th, taken)
    phrases += _find_phrases(list(enumerate(all_keys)), th, taken)
    for phrase, positions in phrases:
        label = " ".join(all_words[positions[0] : positions[-1] + 1])
        variants = [Variant(phrase, "terms", 1.0), *related_variants(phrase)]
        concepts.append(Concept(label, 1.0, tuple(_dedupe(variants))))
        highlight.update(k for k in phrase if k not in th.stopwords)
    for i in content_pos:
        w, k = all_words[i], all_keys[i]
        variants = [
            Variant((k,), "terms", 1.0),
            Variant((k,), "parts", PART_WEIGHT),
            Variant((fold(w),), "text", SURFACE_WEIGHT, surface_of=(k,)),
        ]
        highlight.add(k)
        parts = part_keys(w)
        if parts:  # "natuurcompensatie" finds "natuur compensatie" and parts elsewhere
            variants.append(Variant(tuple(parts), "terms", 0.9))
            variants.extend(Variant((p,), "terms", 0.35) for p in parts if len(p) >= 4)
            highlight.update(parts)
        variants.extend(related_variants((k,)))
        # a word that is part of a matched phrase counts less on its own
        weight = 0.5 if i in taken else 1.0
        concepts.append(Concept(w, weight, tuple(_dedupe(variants))))
    # neighbours joined: "natuur compensatie" finds "natuurcompensatie"
    for i, j in zip(content_pos, content_pos[1:], strict=False):
        a, b = all_words[i], all_words[j]
        k = joined(a, b) if j == i + 1 and a.isalpha() and b.isalpha() else None
        if k:
            joined_variants = (Variant((k,), "terms", 1.0), Variant((k,), "parts", PART_WEIGHT))
            concepts.append(Concept(a + b, 0.8, joined_variants, optional=True))
            highlight.add(k)
    return QueryAnalysis(
        text=query,
        concepts=tuple(concepts),
        content_words=tuple(fold(all_words[i]) for i in content_pos),
        highlight_keys=frozenset(highlight),
    )


def _dedupe(variants: Iterable[Variant]) -> list[Variant]:
    best: dict[tuple[tuple[str, ...], str], Variant] = {}
    for v in variants:
        k = (v.keys, v.column)
        if k not in best or best[k].weight < v.weight:
            best[k] = v
    return list(best.values())


def word_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, key) of each word in ``text``, for highlighting matches in the raw text."""
    spans = []
    lowered = text.lower()
    for m in _WORD.finditer(lowered):
        w = words(m.group(0))
        if w:
            spans.append((m.start(), m.end(), key(w[0])))
    return spans


def keys_of_word(word: str) -> set[str]:
    """The key of a word and of its compound parts."""
    return {key(word), *part_keys(word)}


def thesaurus_words() -> set[str]:
    """The words whose analysis compiling the thesaurus needs."""
    data = _data()
    out = {fold(w) for w in data.get("stopwords", [])}
    for entry in data.get("related", []):
        for term in entry.get("terms", []):
            out.update(words(term))
    return out
