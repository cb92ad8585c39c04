"""Chapter titles a listener would write: a short Dutch noun phrase from what is said.

:func:`chapter_titles` takes every chapter of an episode at once (idf is over the episode's
chapters, and two chapters never get the same title) and returns one title per chapter:

1. candidates: the noun phrases of the chapter's sentences (:mod:`.phrases`), 3 to 7
   words, or two strong short ones joined by "en" ("De frietkar en het sporttoernooi");
2. every word must be a real Dutch word (:func:`.lexicon_words.is_dutch_word`; with ASR word
   confidences also heard with confidence), the head must not be a generic noun, and a title
   is never only a name;
3. score: the chapter weight of the content words (tf x idf over the chapters x rarity in
   Dutch), the head counting most, plus how often the phrase itself recurs and whether it
   shares a word with the chapter's ingredient titles;
4. no candidate: the chapter's ``fallback`` (its strongest tagged ingredient), else "Deel N".

Titles are in Dutch sentence case: first letter upper case, the rest as spoken, except names
which keep their capital.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .lexicon_words import GENERIC_NOUNS, fold, fold_word, is_dutch_word, is_name_like, lemma, zipf
from .phrases import DETERMINERS, PREPOSITIONS, Phrase, phrases, tokenize


@dataclass(frozen=True)
class ChapterText:
    """One chapter: its sentences; ``ingredients``: titles of ingredients it has evidence for
    (strongest first; their words favour a candidate); ``fallback``: titles to use when no
    phrase qualifies (give only ingredients the chapter is really tagged with)."""

    sentences: tuple[str, ...]
    ingredients: tuple[str, ...] = ()
    fallback: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TitleOptions:
    min_words: int = 3
    max_words: int = 7
    min_zipf: float = 2.8  # a word at least this frequent in Dutch is a real word
    min_part_zipf: float = 3.0  # each part of a compound that is not in the list itself
    min_confidence: float = 0.5  # ASR: a word heard with less (on average) never makes a title
    compound_confidence: float = 0.9  # ASR: ... nor a compound the frequency list lacks
    ingredient_bonus: float = 1.0
    fallback: str = "Deel {n}"


_JOINERS = frozenset(DETERMINERS.values()) | PREPOSITIONS | {"en"}


# --- word checks ----------------------------------------------------------------------------
def word_ok(word: str, confidences: Mapping[str, float] | None, opts: TitleOptions) -> bool:
    """A title word: a real Dutch word, and (with ASR confidences) heard clearly enough."""
    key = fold_word(word)
    if key in _JOINERS:
        return True
    if not is_dutch_word(key, opts.min_zipf, opts.min_part_zipf):
        return False
    if len(key) <= 3 and zipf(key) < opts.min_zipf + 0.7:
        return False  # short rare words are often a clipped word: "kno"
    if not confidences:
        return True
    conf = confidences.get(key, 1.0)
    if conf < opts.min_confidence:
        return False
    listed = zipf(key) >= opts.min_zipf or "-" in key
    return listed or conf >= opts.compound_confidence


def phrase_ok(phrase: Phrase, confidences: Mapping[str, float] | None, opts: TitleOptions) -> bool:
    """Every word real (and clearly heard), the head no generic noun, not only names."""
    if not phrase.content or any(h in GENERIC_NOUNS for h in phrase.heads + phrase.head_words):
        return False
    if all(name for name, w in zip(phrase.names, phrase.words, strict=True) if w not in _JOINERS):
        return False  # a bare name (or names joined)
    return all(word_ok(w, confidences, opts) for w in phrase.words)


def is_bare_name(title: str) -> bool:
    """Whether a title is only a name (or names joined by articles, prepositions, "en"):
    every content word capitalised, the first one a name or no Dutch word."""
    toks = [t for t in tokenize(title) if not t.brk]
    for n, t in enumerate(toks):
        if t.key in _JOINERS:
            continue
        if n == 0:
            named = is_name_like(t.text, True) or not is_dutch_word(t.key)
        else:
            named = t.text[:1].isupper()
        if not named:
            return False
    return any(t.key not in _JOINERS for t in toks)


# --- weights --------------------------------------------------------------------------------
def _lemmas(sentences: Sequence[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for s in sentences:
        for t in tokenize(s):
            if not t.brk and t.key.isalpha() and len(t.key) > 2:
                counts[fold(lemma(t.key)).replace("_", "")] += 1
    return counts


def _rarity(word: str) -> float:
    """How telling a word is in Dutch at large: rare words tell more (0.3 to 1.5)."""
    return min(1.5, max(0.3, (7.0 - zipf(word)) / 3.0))


def term_weights(chapters: Sequence[ChapterText]) -> list[dict[str, float]]:
    """Per chapter, per content lemma: tf x idf (over the chapters) x rarity."""
    counts = [_lemmas(c.sentences) for c in chapters]
    df: Counter[str] = Counter()
    for c in counts:
        df.update(c.keys())
    n = len(chapters)
    out = []
    for c in counts:
        out.append(
            {
                w: (1 + math.log(tf)) * (math.log((1 + n) / (1 + df[w])) + 1) * _rarity(w)
                for w, tf in c.items()
            }
        )
    return out


# --- candidates -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    title: str
    score: float
    phrase: Phrase


def _ingredient_words(titles: Sequence[str]) -> set[str]:
    return {fold(lemma(t.key)) for title in titles[:1] for t in tokenize(title) if len(t.key) > 3}


def score_phrase(
    phrase: Phrase, weights: Mapping[str, float], recur: int, ingredient: set[str],
    opts: TitleOptions,
) -> float:  # fmt: skip
    """Head nouns count fully, modifiers half; a recurring phrase and a shared ingredient word
    add; past five words each word costs."""
    heads = set(phrase.heads)
    score = sum(weights.get(w, 0.0) * (1.0 if w in heads else 0.5) for w in set(phrase.content))
    score /= math.sqrt(len(set(phrase.content)))  # long phrases must earn their words
    score += 0.6 * math.log(recur)
    if ingredient & set(phrase.content):
        score += opts.ingredient_bonus
    score -= 0.3 * max(0, len(phrase.words) - 5)
    return score


def render(phrase_words: Sequence[str], names: Sequence[bool]) -> str:
    """Dutch sentence case: the first letter upper case, names keep theirs, the rest lower."""
    words = [w if name else w.lower() for w, name in zip(phrase_words, names, strict=True)]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def candidates(
    chapter: ChapterText,
    weights: Mapping[str, float],
    confidences: Mapping[str, float] | None = None,
    options: TitleOptions | None = None,
) -> list[Candidate]:
    """Scored title candidates of one chapter, best first (3 to ``max_words`` words)."""
    opts = options or TitleOptions()
    found: dict[str, tuple[Phrase, int]] = {}
    for sentence in chapter.sentences:
        for ph in phrases(sentence):
            if len(ph.words) > opts.max_words or not phrase_ok(ph, confidences, opts):
                continue
            key = fold(ph.text)
            prev = found.get(key)
            found[key] = (ph, (prev[1] if prev else 0) + 1)
    ingredient = _ingredient_words(chapter.ingredients)
    scored = [
        Candidate(render(ph.words, ph.names), score_phrase(ph, weights, n, ingredient, opts), ph)
        for ph, n in found.values()
    ]
    long_enough = [c for c in scored if len(c.phrase.words) >= opts.min_words]
    short = sorted((c for c in scored if len(c.phrase.words) < opts.min_words), key=_short_order)
    long_enough += _pairs(short, opts)
    return sorted(long_enough, key=lambda c: (-c.score, c.title))


def _short_order(c: Candidate) -> tuple[float, int, str]:
    """Best first; on a tie "de"/"het" before "een" before no article."""
    first = c.phrase.words[0].lower()
    return (-c.score, 0 if first in ("de", "het") else 1 if first == "een" else 2, c.title)


def _pairs(short: Sequence[Candidate], opts: TitleOptions) -> list[Candidate]:
    """Two short phrases with different heads joined by "en": "De dijk en de steunberm"."""
    out: list[Candidate] = []
    top: list[Candidate] = []
    for c in short:  # the best phrase of each of the four strongest heads
        if len(top) < 4 and not any(set(c.phrase.heads) & set(t.phrase.heads) for t in top):
            top.append(c)
    for i, a in enumerate(top):
        for b in top[i + 1 :]:
            if set(a.phrase.heads) & set(b.phrase.heads):
                continue
            words = (*a.phrase.words, "en", *b.phrase.words)
            if not opts.min_words <= len(words) <= opts.max_words:
                continue
            names = (*a.phrase.names, False, *b.phrase.names)
            ph = Phrase(words, a.phrase.content + b.phrase.content, names,
                        a.phrase.heads + b.phrase.heads,
                        a.phrase.head_words + b.phrase.head_words)  # fmt: skip
            out.append(Candidate(render(words, names), 0.7 * (a.score + b.score) / 2, ph))
    return out


# --- the titles of an episode ---------------------------------------------------------------
def chapter_titles(
    chapters: Sequence[ChapterText],
    confidences: Mapping[str, float] | None = None,
    options: TitleOptions | None = None,
) -> list[str]:
    """One title per chapter, all different; see the module docstring.

    ``confidences``: per folded word its mean ASR probability (leave out for a clean text).
    """
    opts = options or TitleOptions()
    weights = term_weights(chapters)
    used: set[str] = set()
    titles: list[str] = []
    for n, (chapter, w) in enumerate(zip(chapters, weights, strict=True), start=1):
        title = _first_unused(candidates(chapter, w, confidences, opts), used)
        if title is None:
            title = _fallback(chapter, n, used, opts)
        used.add(fold(title))
        titles.append(title)
    return titles


def _first_unused(cands: Sequence[Candidate], used: set[str]) -> str | None:
    for c in cands:
        if fold(c.title) not in used:
            return c.title
    return None


def _fallback(chapter: ChapterText, n: int, used: set[str], opts: TitleOptions) -> str:
    for title in chapter.fallback:
        if fold(title) not in used:
            return title
    return opts.fallback.format(n=n)


def chapter_title(
    sentences: Sequence[str],
    confidences: Mapping[str, float] | None = None,
    options: TitleOptions | None = None,
) -> str:
    """The title of a single chapter (idf is flat: rarity in Dutch does the work)."""
    return chapter_titles([ChapterText(tuple(sentences))], confidences, options)[0]
