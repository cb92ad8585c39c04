"""Dutch word forms for search: words of a text, their lemmas, and compound splitting.

* :func:`lemma`: the dictionary form (simplemma, so ``symposia`` -> ``symposium``,
  ``deelden`` -> ``delen``; irregular forms from the thesaurus data, ``risicos`` -> ``risico``).
* :func:`split_compound` splits a Dutch compound into its parts by word frequency
  (``natuurcompensatie`` -> ``natuur`` + ``compensatie``, ``verkenningsfase`` -> ``verkenning``
  + ``fase``): a split is taken when its parts are more common than the whole word.

Pure functions of a word, memoised; the lemma and frequency tables load lazily (a few hundred
ms, once per process).
"""

from __future__ import annotations

import math
import re
import tomllib
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from pipeline.core.text import fold

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

THESAURUS_PATH = Path(__file__).parent / "data" / "thesaurus.toml"


@cache
def thesaurus_data() -> dict[str, Any]:
    """The thesaurus file: related terms, stopwords and irregular forms."""
    return tomllib.loads(THESAURUS_PATH.read_text(encoding="utf-8"))


@cache
def irregular_forms() -> dict[str, str]:
    """Irregular forms the lemma tables miss (``risicos`` -> ``risico``)."""
    return {fold(k): fold(v) for k, v in thesaurus_data().get("forms", {}).items()}


@cache
def stopwords() -> frozenset[str]:
    """Words no search is about (folded): ``de``, ``hoe``, ``kon``."""
    return frozenset(fold(w) for w in thesaurus_data().get("stopwords", []))


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
    irregular = irregular_forms().get(fold(word))
    if irregular:
        return irregular
    simplemma = _lemmatizer()
    try:
        found = simplemma.lemmatize(word, lang="nl")  # type: ignore[attr-defined]
    except (ValueError, KeyError):  # pragma: no cover - defensive: odd input
        found = word
    return found.lower() if found else word


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


def splits_into(joined: str, a: str, b: str) -> bool:
    """True when two neighbouring words make a compound (``natuur`` + ``compensatie``)."""
    if _zipf(joined) == 0.0 and (_zipf(a) < 2.5 or _zipf(b) < 2.5):
        return False
    found = _best_split(joined)
    return found is not None and found[1] == b
