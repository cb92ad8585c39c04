"""Ranking: the whole scoring formula of a search, in one place.

A query is a list of concepts (:class:`pipeline.search.analysis.Concept`), each with variants
(its key, compound parts, surface form, related terms), each variant one FTS5 expression.

* A variant scores ``concept weight x variant weight x bm25`` in a fragment; a concept counts
  with its best variant.
* A concept's weight is its own weight times its rarity in the catalogue (the idf of its key):
  in "elkaar aanspreken" the rare word counts more (:func:`concept_weights`).
* A fragment scores the sum over concepts, times a coverage factor
  ``COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) x covered / total``, where ``covered`` sums the
  idf weights of the concepts it matches (weighted by the variant) and ``total`` those of the
  query: query words are OR-ed, and a fragment that matches only some of them ranks below
  one that matches all.
* A fragment tagged with an ingredient whose description matches the query (at least
  ``INGREDIENT_MIN_MATCH`` of its concepts) gets ``INGREDIENT_BOOST x (best lexical score) x
  (how well the query matches the ingredient) x (tag score)`` on top.

The lexical part runs in one SQLite statement (:meth:`Catalogue.search_scores`) with the
weights computed here; common weaker variants are only scored for the fragments the other
variants find, when a bound shows that this cannot change the results (else everything is
scored): see :func:`scored_variants` and :func:`rank`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pipeline.catalogue import Catalogue

from .analysis import Analyser, QueryAnalysis, Variant
from .words import words

MAX_CONCEPTS = 12
COVERAGE_FLOOR = 0.4
INGREDIENT_BOOST = 1.0
INGREDIENT_MIN_MATCH = 0.5
MAX_VARIANTS = 400  # one compound SELECT in SQLite has at most 500 arms
# a weaker variant (compound part, related word, surface form) that matches more than this
# share of the catalogue, and more than COMMON_MIN_ROWS fragments, is only scored for the
# fragments the other variants find; a fragment it alone finds scores at most its bm25 bound
# (idf x 2.2), and the ranking is only taken when that cannot reach the results shown
COMMON_SHARE = 0.01
COMMON_MIN_ROWS = 1000
COMMON_CONCEPT = 0.6  # (idf weight of the concept / the highest)
SPLIT_WORTH = 1.0  # ... when they have at least as many rows as the essential variants
BM25_BOUND = 2.2 * 1.0001  # bm25 of one phrase < idf x (k1 + 1); k1 = 1.2 in FTS5


def _quote(k: str) -> str:
    return '"' + k.replace('"', '""') + '"'


def _match_expr(v: Variant) -> str:
    if len(v.keys) == 1:
        body = _quote(v.keys[0])
    else:  # phrase words near each other, in any order ("samen ... eten")
        body = "NEAR(" + " ".join(_quote(k) for k in v.keys) + f", {2 + len(v.keys)})"
    return "{" + v.column + "} : " + body


class Counts:
    """How many fragments match an FTS5 expression, asked once per search."""

    def __init__(self, cat: Catalogue):
        self.cat = cat
        self.n = cat.search_count()
        self.known: dict[str, int] = {}

    def df(self, expr: str) -> int:
        if expr not in self.known:
            self.known[expr] = self.cat.search_df(expr)
        return self.known[expr]

    def idf(self, expr: str) -> float:
        """The idf FTS5's bm25 gives an expression."""
        df = self.df(expr)
        return max(math.log((self.n - df + 0.5) / (df + 0.5)), 1e-6)


def concept_weights(cat: Catalogue, qa: QueryAnalysis, counts: Counts | None = None) -> list[float]:
    """Each concept's weight times its rarity (idf of its own key in the catalogue): in
    "elkaar aanspreken" the rare word counts more than the common one."""
    counts = counts or Counts(cat)
    n = max(counts.n, 1)
    out = []
    for c in qa.concepts[:MAX_CONCEPTS]:
        if c.optional:
            out.append(0.0)
            continue
        df = counts.df(_match_expr(c.variants[0]))
        out.append(c.weight * math.log((n + 1) / (df + 0.5)) if n > 1 else c.weight)
    return out


def scored_variants(
    qa: QueryAnalysis, weights: Sequence[float], counts: Counts, split: bool = True
) -> tuple[list[tuple[int, float, float, str, bool]], float]:
    """The FTS5 queries of a search, as :meth:`Catalogue.search_scores` takes them: (concept,
    concept weight x variant weight, idf weight x variant weight, expression, essential), and
    the most a fragment that only the non-essential ones match can score (with ``split``,
    common weaker variants are not essential).

    A surface-form variant (``{text}: "delen"``) is left out when it can never beat the key
    variant of the same word (``{terms}: "deel"``): every fragment it matches has the key at
    least as often, with the same length, so its bm25 is at most the key's times the ratio of
    their idfs; when weight x idf is not above the key's, the best variant is always the
    key's. This halves the rows of a typical query and does not change any score."""
    common = max(COMMON_MIN_ROWS, counts.n * COMMON_SHARE)
    # the words of a concept much more common than the rarest one count as weaker too
    minor = COMMON_CONCEPT * max(weights, default=0.0)
    out: list[tuple[int, float, float, str, bool]] = []
    bound: dict[int, float] = {}
    for i, (c, idf_weight) in enumerate(zip(qa.concepts[:MAX_CONCEPTS], weights, strict=True)):
        by_keys = {(v.keys, v.column): v for v in c.variants}
        for v in c.variants:
            expr = _match_expr(v)
            main = by_keys.get((v.surface_of, "terms")) if v.surface_of else None
            if main is not None:
                main_expr = _match_expr(main)
                if v.weight * counts.idf(expr) <= main.weight * counts.idf(main_expr):
                    continue
            weight = c.weight * v.weight
            essential = True
            weak = split and (v.weight < 1.0 or idf_weight <= minor) and len(v.keys) == 1
            weak = weak and counts.n > common
            if weak and counts.df(expr) > common:
                essential = False
                top = weight * counts.idf(expr) * BM25_BOUND
                bound[i] = max(bound.get(i, 0.0), top)
            out.append((i, weight, idf_weight * v.weight, expr, essential))
    out = out[:MAX_VARIANTS]
    if bound:  # worth it only when the common weaker variants have the most rows: scanning
        # them for the candidates costs about half of scoring them everywhere
        weak_rows = sum(counts.df(v[3]) for v in out if not v[4])
        if weak_rows < SPLIT_WORTH * sum(counts.df(v[3]) for v in out if v[4]):
            return [(*v[:4], True) for v in out], 0.0
    return out, sum(bound.values())


def ingredient_words(taxonomy: Any) -> dict[str, tuple[str, ...]]:
    """Per ingredient: the words of its title, description, phrases and hints."""
    out: dict[str, tuple[str, ...]] = {}
    for ing in getattr(taxonomy, "ingredients", ()):
        found: set[str] = set()
        for t in (ing.title, ing.description, *ing.phrases, *ing.hints):
            found.update(words(t.replace("*", " ").replace("|", " ")))
        out[ing.id] = tuple(sorted(found))
    return out


def ingredient_keys(taxonomy: Any, analyser: Analyser) -> dict[str, frozenset[str]]:
    """Per ingredient: the keys of its words and of their compound parts."""
    out: dict[str, frozenset[str]] = {}
    for ing_id, ws in ingredient_words(taxonomy).items():
        keys: set[str] = set()
        for w in ws:
            keys |= analyser.keys_of_word(w)
        out[ing_id] = frozenset(keys)
    return out


def ingredient_matches(
    qa: QueryAnalysis,
    keys_by_ingredient: dict[str, frozenset[str]],
    weights: Sequence[float] | None = None,
) -> dict[str, float]:
    """How well the query matches each ingredient (0..1): the (idf-)weighted share of its
    concepts that occur in the ingredient's description (:func:`ingredient_keys`), through
    any variant."""
    if not keys_by_ingredient or not qa.concepts:
        return {}
    concepts = qa.concepts[:MAX_CONCEPTS]
    weights = list(weights) if weights is not None else [c.weight for c in concepts]
    total = sum(weights) or 1.0
    out: dict[str, float] = {}
    for ing_id, keys in keys_by_ingredient.items():
        got = 0.0
        for c, cw in zip(concepts, weights, strict=True):
            best = 0.0
            for v in c.variants:
                if v.column != "text" and all(k in keys for k in v.keys):
                    best = max(best, v.weight)
            got += cw * best
        share = got / total
        if share >= INGREDIENT_MIN_MATCH:
            out[ing_id] = share
    return out


def rank(
    cat: Catalogue,
    qa: QueryAnalysis,
    weights: Sequence[float],
    counts: Counts,
    related: dict[int, float],
    allowed: set[int] | None,
    limit: int,
) -> tuple[list[int], dict[int, float], int]:
    """The best ``limit`` fragment ids, their scores, and how many fragments match."""
    for split in (True, False):
        variants, bound = scored_variants(qa, weights, counts, split)
        # lexical scores, in SQLite: the best `limit` (among the allowed), those of the
        # related fragments, how many were scored, and the best score
        top, lexical, count, best = cat.search_scores(
            variants, sum(weights), limit, related, allowed, floor=COVERAGE_FLOOR
        )
        # the boost scales with the best lexical score, so it means the same on any corpus;
        # a fragment outside the lexical top that is not boosted cannot pass those in it
        scale = best or 1.0
        scores = dict(top)
        for fid, r in related.items():
            scores[fid] = lexical.get(fid, 0.0) + INGREDIENT_BOOST * scale * r
        ranked = sorted(scores, key=lambda fid: (-scores[fid], fid))[:limit]
        if bound == 0.0:  # every variant was scored everywhere
            return ranked, scores, count + sum(1 for fid in related if fid not in lexical)
        # fragments only non-essential variants match score at most `bound`: the ranking
        # holds when the last one shown and the best (the boost's scale) are above it
        if len(ranked) == limit and scores[ranked[-1]] > bound and best > bound:
            matched = cat.search_count_any((v[3] for v in variants), allowed)
            return ranked, scores, matched + sum(1 for fid in related if fid not in lexical)
    raise AssertionError("unreachable: the second round scores every variant")
