"""The lexical tagger: give every fragment its vlinder ingredients, each with a score and its evidence.

Method (chosen by measurement, see ``docs/evaluation.md`` and ``benchmarks/results/tag.json``):
lexical evidence against the descriptor phrases of the taxonomy. Each phrase of an ingredient is
matched on Dutch stems with diacritics folded, its words in any order within a short window;
``woord*`` and ``*woord`` match compounds. A phrase counts 1, a hint 0.5; an ingredient is tagged
when its sum reaches its threshold (default 1). Words count once per ingredient: a match that
reuses words already counted (``kennen`` inside ``elkaar kennen``) adds nothing. Off-topic guard:
when a fragment matches an off-topic context of the taxonomy (dike engineering, permits, planning,
housekeeping, weather), hints alone never tag it; next to a ``strict`` context (housekeeping,
small talk) one single-word phrase alone does not either. The evidence of a tag is the list of
descriptor phrases that matched.

:func:`tag_fragments` is pure; the stage is :func:`pipeline.tagging.stage.tag`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from pipeline.core.models import Chapter, Fragment, Tag
from pipeline.core.taxonomy import Taxonomy
from pipeline.core.text import fold, stem, tokens

if TYPE_CHECKING:
    pass


#: Bump when the method (not the taxonomy) changes: every episode is re-tagged.
METHOD_VERSION = "lexical-3"


PHRASE_WEIGHT = 1.0


HINT_WEIGHT = 0.5


WINDOW_SLACK = 2  # a phrase of n words matches within n + WINDOW_SLACK tokens


#: Endings that turn a descriptor word into an inflected form (``podcast`` -> ``podcasts``).
_INFLECTIONS = ("s", "en", "es", "n", "e", "er", "ers", "je", "jes", "tje", "tjes", "d", "t")


# --- matching -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Word:
    text: str  # folded descriptor word, without '*'
    stem: str
    mode: str  # "word" | "form" | "prefix" | "suffix"


@dataclass(frozen=True)
class _Phrase:
    owner: str  # ingredient or context id
    text: str
    weight: float
    alternatives: tuple[tuple[_Word, ...], ...]


def _compile_words(text: str) -> tuple[_Word, ...]:
    words = []
    for raw in fold(text).replace("’", "'").split():
        raw = raw.strip(".,;:!?\"'()")
        prefix, suffix = raw.endswith("*"), raw.startswith("*")
        toks = tokens(raw.strip("*"))
        for n, tok in enumerate(toks):
            if prefix and n == len(toks) - 1:
                words.append(_Word(tok, tok, "prefix"))
            elif suffix and n == 0:
                words.append(_Word(tok, tok, "suffix"))
            else:
                st = stem(tok)
                # A stem that strips much of the word (openheid -> open, uitje -> uit) would
                # match unrelated words: such words match on their form (plus inflection) only.
                form_only = len(tok) <= 3 or (
                    st != tok and (len(st) <= 3 or len(tok) - len(st) >= 4)
                )
                words.append(_Word(tok, st, "form" if form_only else "word"))
    return tuple(words)


def _compile_phrase(owner: str, text: str, weight: float) -> _Phrase | None:
    """``"a b|c d"``: alternatives of one descriptor, which counts at most once."""
    alternatives = tuple(w for w in (_compile_words(alt) for alt in text.split("|")) if w)
    if not alternatives:
        return None
    return _Phrase(owner, text, weight, alternatives)


@dataclass(frozen=True)
class _Analysed:
    folded: tuple[str, ...]
    stems: tuple[str, ...]
    by_stem: dict[str, list[int]]
    by_token: dict[str, list[int]]
    memo: dict[_Word, list[int]]


def _analyse(text: str) -> _Analysed:
    folded = tuple(tokens(text))
    stems_ = tuple(stem(t) for t in folded)
    by_stem: dict[str, list[int]] = {}
    by_token: dict[str, list[int]] = {}
    for i, (t, s) in enumerate(zip(folded, stems_, strict=True)):
        by_stem.setdefault(s, []).append(i)
        by_token.setdefault(t, []).append(i)
    return _Analysed(folded, stems_, by_stem, by_token, {})


def _positions(word: _Word, doc: _Analysed) -> list[int]:
    """Where ``word`` occurs; exact words were indexed by :func:`_index_words` already."""
    cached = doc.memo.get(word)
    if cached is None:
        if word.mode in ("prefix", "suffix"):
            test = str.startswith if word.mode == "prefix" else str.endswith
            cached = sorted(p for t, ps in doc.by_token.items() if test(t, word.text) for p in ps)
        else:
            cached = []
        doc.memo[word] = cached
    return cached


def _word_forms(word: _Word) -> tuple[str, ...]:
    """The token forms a (non-wildcard) word matches besides its stem: itself, inflected."""
    if len(word.text) < 4:
        return (word.text,)
    return (word.text, *(word.text + e for e in _INFLECTIONS))


def _index_words(
    doc: _Analysed, by_form: dict[str, tuple[_Word, ...]], by_stem: dict[str, tuple[_Word, ...]]
) -> None:
    """One pass over the tokens: the positions of every exact descriptor word in ``doc``."""
    found: dict[_Word, set[int]] = {}
    for i, (tok, st) in enumerate(zip(doc.folded, doc.stems, strict=True)):
        for word in by_form.get(tok, ()):
            found.setdefault(word, set()).add(i)
        for word in by_stem.get(st, ()):
            found.setdefault(word, set()).add(i)
    for word, pos in found.items():
        doc.memo[word] = sorted(pos)


def _match_words(words: tuple[_Word, ...], doc: _Analysed) -> tuple[int, ...] | None:
    lists = []
    for word in words:
        pos = _positions(word, doc)
        if not pos:
            return None
        lists.append(pos)
    if len(lists) == 1:
        return (lists[0][0],)
    window = len(words) + WINDOW_SLACK
    for anchor in lists[0]:
        chosen = [anchor]
        for pos in lists[1:]:
            near = [p for p in pos if abs(p - anchor) < window and p not in chosen]
            if not near:
                break
            chosen.append(min(near, key=lambda p: abs(p - anchor)))
        else:
            if max(chosen) - min(chosen) < window:
                return tuple(chosen)
    return None


def _match(phrase: _Phrase, doc: _Analysed) -> tuple[int, ...] | None:
    """Token positions of the first alternative that occurs in ``doc``, or None."""
    for words in phrase.alternatives:
        found = _match_words(words, doc)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class Tagger:
    """The taxonomy compiled for matching; build once with :func:`compile_taxonomy`."""

    taxonomy: Taxonomy
    phrases: tuple[_Phrase, ...]
    contexts: tuple[_Phrase, ...]
    by_form: dict[str, tuple[_Word, ...]] = field(default_factory=dict, compare=False)
    by_stem: dict[str, tuple[_Word, ...]] = field(default_factory=dict, compare=False)


def _compile_all(owner: str, texts: Iterable[str], weight: float) -> list[_Phrase]:
    return [p for p in (_compile_phrase(owner, t, weight) for t in texts) if p is not None]


def _word_index(
    phrases: Iterable[_Phrase],
) -> tuple[dict[str, tuple[_Word, ...]], dict[str, tuple[_Word, ...]]]:
    """The exact descriptor words by token form (with inflections) and by stem."""
    by_form: dict[str, list[_Word]] = {}
    by_stem: dict[str, list[_Word]] = {}
    for phrase in phrases:
        for words in phrase.alternatives:
            for word in words:
                if word.mode in ("prefix", "suffix"):
                    continue
                for form in _word_forms(word):
                    if word not in by_form.setdefault(form, []):
                        by_form[form].append(word)
                if word.mode == "word" and word not in by_stem.setdefault(word.stem, []):
                    by_stem[word.stem].append(word)
    return {k: tuple(v) for k, v in by_form.items()}, {k: tuple(v) for k, v in by_stem.items()}


def compile_taxonomy(tax: Taxonomy) -> Tagger:
    phrases: list[_Phrase] = []
    for ing in tax.ingredients:
        phrases += _compile_all(ing.id, ing.phrases, PHRASE_WEIGHT)
        phrases += _compile_all(ing.id, ing.hints, HINT_WEIGHT)
    contexts: list[_Phrase] = []
    for ctx in tax.contexts:
        contexts += _compile_all(ctx.id, ctx.phrases, PHRASE_WEIGHT)
    by_form, by_stem = _word_index((*phrases, *contexts))
    return Tagger(tax, tuple(phrases), tuple(contexts), by_form, by_stem)


@lru_cache(maxsize=8)
def tagger_for(tax: Taxonomy) -> Tagger:
    return compile_taxonomy(tax)


def _score(total: float) -> float:
    """Map the summed evidence to (0, 1): 1 -> 0.5, 2 -> 0.75, 3 -> 0.875."""
    return round(1.0 - math.pow(0.5, total), 3)


@dataclass(frozen=True)
class Evidence:
    """What the tagger saw in one text: per ingredient its sum and matched phrases."""

    totals: dict[str, float]
    strong: dict[str, bool]  # at least one phrase (not only hints) matched
    matched: dict[str, tuple[str, ...]]
    contexts: tuple[str, ...]  # off-topic contexts that matched
    strict: bool = False  # one of them is strict (housekeeping, small talk)
    #: Ingredients whose only evidence is one single-word phrase (``congres``, ``lef``).
    lone: frozenset[str] = frozenset()


def evidence(text: str, tagger: Tagger) -> Evidence:
    doc = _analyse(text)
    _index_words(doc, tagger.by_form, tagger.by_stem)
    totals: dict[str, float] = {}
    strong: dict[str, bool] = {}
    matched: dict[str, list[str]] = {}
    covered: dict[str, set[int]] = {}
    single: set[str] = set()
    for phrase in tagger.phrases:  # phrases first, then hints (compile order)
        found = _match(phrase, doc)
        if found is None:
            continue
        seen = covered.setdefault(phrase.owner, set())
        if not seen.isdisjoint(found):
            continue  # these words already counted for this ingredient (kennen, elkaar kennen)
        seen.update(found)
        totals[phrase.owner] = totals.get(phrase.owner, 0.0) + phrase.weight
        if phrase.weight >= PHRASE_WEIGHT:
            strong[phrase.owner] = True
        matched.setdefault(phrase.owner, []).append(phrase.text)
        if len(found) == 1 and phrase.weight >= PHRASE_WEIGHT and len(matched[phrase.owner]) == 1:
            single.add(phrase.owner)
    lone = frozenset(i for i in single if len(matched[i]) == 1)
    contexts = tuple(dict.fromkeys(p.owner for p in tagger.contexts if _match(p, doc) is not None))
    strict = any(c.strict for c in tagger.taxonomy.contexts if c.id in contexts)
    return Evidence(
        totals,
        strong,
        {k: tuple(v) for k, v in matched.items()},
        contexts,
        strict,
        lone,
    )


def tag_text(text: str, tagger: Tagger | Taxonomy) -> tuple[Tag, ...]:
    """The ingredients of one text, strongest first."""
    if isinstance(tagger, Taxonomy):
        tagger = tagger_for(tagger)
    ev = evidence(text, tagger)
    tags = []
    for ing in tagger.taxonomy.ingredients:
        total = ev.totals.get(ing.id, 0.0)
        if total < ing.threshold:
            continue
        if ev.contexts and not ev.strong.get(ing.id):
            continue  # off-topic guard: hints next to engineering or housekeeping are noise
        if ev.strict and ing.id in ev.lone:
            continue  # next to housekeeping or small talk, one word ("borrel", "lef") is noise
        tags.append(Tag(ing.id, _score(total), ev.matched[ing.id]))
    return tuple(sorted(tags, key=lambda t: (-t.score, t.ingredient)))


def tag_fragments(fragments: Sequence[Fragment], tax: Taxonomy) -> list[Fragment]:
    """Pure: the fragments with their automatic tags (manual tags are kept)."""
    tagger = tagger_for(tax)
    out = []
    for frag in fragments:
        manual = tuple(t for t in frag.tags if t.source == "manual")
        auto = tuple(
            t
            for t in tag_text(frag.text, tagger)
            if t.ingredient not in {m.ingredient for m in manual}
        )
        out.append(replace(frag, tags=manual + auto))
    return out


def sum_tags(tag_lists: Iterable[Iterable[Tag]]) -> tuple[Tag, ...]:
    """Ingredients of a chapter or an episode: the scores of its fragments' tags, summed."""
    totals: dict[str, float] = {}
    evid: dict[str, list[str]] = {}
    manual: set[str] = set()
    for tags in tag_lists:
        for t in tags:
            totals[t.ingredient] = totals.get(t.ingredient, 0.0) + t.score
            for e in t.evidence:
                if e not in evid.setdefault(t.ingredient, []):
                    evid[t.ingredient].append(e)
            if t.source == "manual":
                manual.add(t.ingredient)
    return tuple(
        Tag(i, round(s, 3), tuple(evid.get(i, ())[:5]), "manual" if i in manual else "auto")
        for i, s in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def chapters_with_tags(chapters: Sequence[Chapter], fragments: Sequence[Fragment]) -> list[Chapter]:
    out = []
    for ch in chapters:
        own = [f.tags for f in fragments if f.chapter == ch.index]
        manual = [t for t in ch.tags if t.source == "manual"]
        summed = sum_tags([*own, manual])
        out.append(replace(ch, tags=summed))
    return out
