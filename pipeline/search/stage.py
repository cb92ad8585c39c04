"""Search: find the fragments about a topic in the catalogue (the ``search`` verb).

The catalogue keeps an FTS5 index over each fragment's raw text (diacritics folded) and two
analysed columns (:mod:`pipeline.search.analysis`): ``terms`` (one Dutch key per word: lemma,
folded, stemmed) and ``parts`` (keys of compound parts), filled in by :func:`index` after the
tag stage wrote the fragments. A query is split into concepts, each with variants (the word's
key, its compound parts, its surface form, related terms from the thesaurus), ranked by
:mod:`pipeline.search.ranking`. Word analyses come from the catalogue's ``search_words`` table,
so a new process loads no lemma or frequency tables for words the catalogue knows.

Without a query, the ingredient/vlinder/speaker/episode filters list matching fragments.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.catalogue import Catalogue
from pipeline.core.errors import InputError
from pipeline.core.text import fold

from .analysis import ANALYSIS_VERSION, Analyser, QueryAnalysis
from .ranking import (
    Counts,
    concept_weights,
    ingredient_keys,
    ingredient_matches,
    ingredient_words,
    rank,
)
from .snippets import SNIPPET_CHARS, html_escape, match_spans, snippet
from .thesaurus import thesaurus_words
from .words import words

MAX_QUERY_CHARS = 500


@dataclass(frozen=True)
class SearchOptions:
    limit: int = 10
    ingredients: tuple[str, ...] = ()  # only fragments tagged with one of these
    vlinder: str | None = None  # only fragments tagged with an ingredient of this vlinder
    speaker: str | None = None  # only episodes with a speaker whose name contains this
    episode: str | None = None  # only this episode (slug)


@dataclass(frozen=True)
class Hit:
    """One fragment found: where it is, its text with the matches marked, its ingredients."""

    fragment_id: int
    slug: str
    episode_title: str
    episode_date: str
    index: int  # fragment index in the episode (anchor ``f<index>``)
    chapter: int
    start: float
    end: float
    text: str
    score: float
    ingredients: tuple[str, ...]
    speakers: tuple[str, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()  # highlighted character ranges of ``text``

    @property
    def anchor(self) -> str:
        return f"f{self.index}"

    def snippet(self, open_mark: str = "[", close_mark: str = "]", width: int = SNIPPET_CHARS):
        """A window of the text around the best match, matches between the marks."""
        return snippet(self.text, self.spans, open_mark, close_mark, width)

    def snippet_html(self, width: int = SNIPPET_CHARS) -> str:
        """The snippet as HTML: text escaped, matches in ``<mark>``."""
        return snippet(self.text, self.spans, "<mark>", "</mark>", width, escape=html_escape)


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[Hit, ...]
    total: int  # fragments that matched (before the limit)
    concepts: tuple[str, ...] = field(default=())


# the verb ---------------------------------------------------------------------------------
def index(cat: Catalogue, analyser: Analyser | None = None) -> int:
    """Analyse the fragments the full-text index lacks (new ones from the tag stage, or all
    of them when the analysis changed since they were indexed). Returns how many."""
    analyser = analyser or Analyser()
    if cat.search_meta("analysis_version") != ANALYSIS_VERSION:
        cat.reset_search_analysis()
        cat.set_search_meta("analysis_version", ANALYSIS_VERSION)
    todo = cat.unanalysed_fragments()
    if not todo:
        return 0
    rows = []
    known: dict[str, tuple[str, str, str | None]] = {}
    for fid, text in todo:
        f = analyser.index_fields(text)
        rows.append((fid, f.terms, f.parts))
        known.update((w[0], w) for w in f.words)
    cat.set_search_columns(rows)
    cat.add_search_words(known.values())
    return len(rows)


class Searcher:
    """Runs searches with one :class:`Analyser`, so word analyses and the taxonomy's keys are
    made once for all the searches of a command, a server or a benchmark."""

    def __init__(self, taxonomy: Any = None, analyser: Analyser | None = None):
        self.taxonomy = taxonomy
        self.analyser = analyser or Analyser()
        self._ingredient_keys: dict[str, frozenset[str]] | None = None
        self._fixed: tuple[frozenset[str], str] | None = None

    def search(
        self, cat: Catalogue, query: str | None, options: SearchOptions | None = None
    ) -> SearchResult:
        """Find fragments for ``query`` (ranked), or list the fragments passing the filters
        when there is no query. Raises :class:`InputError` for an empty search or bad
        options."""
        options = options or SearchOptions()
        if options.limit < 1:
            raise InputError("--limit moet minstens 1 zijn")
        query = (query or "").strip()
        if len(query) > MAX_QUERY_CHARS:
            raise InputError(f"zoekvraag te lang (meer dan {MAX_QUERY_CHARS} tekens)")
        allowed = _filter_ids(cat, options, self.taxonomy)
        index(cat, self.analyser)
        if not query:
            if allowed is None:
                raise InputError(
                    "geef een zoekvraag, of kies --ingredient, --vlinder, --speaker of --episode"
                )
            ids = cat.listing_fragment_ids(allowed, options.limit)
            hits = _hits(cat, ids, {}, None, self.analyser)
            return SearchResult(query, tuple(hits), len(allowed))
        lacking = self._prepare_words(cat, query)
        try:
            return self._search(cat, query, options, allowed)
        finally:  # words analysed here (not in the catalogue yet): keep them for next time
            an = self.analyser
            cat.remember_search_words(an.fresh_words() + an.known_words(lacking))

    def _search(
        self, cat: Catalogue, query: str, options: SearchOptions, allowed: set[int] | None
    ) -> SearchResult:
        an = self.analyser

        def joined(a: str, b: str) -> str | None:
            # the compound a + b among the words of the catalogue: no frequency table
            # needed, and a compound that no fragment has could not match anyway
            return cat.search_compound_key(an.compound_parts(a, b), fold(a + b))

        qa = an.analyse_query(query, joined)
        if not qa.concepts:
            return SearchResult(query, (), 0)
        counts = Counts(cat)
        weights = concept_weights(cat, qa, counts)
        # fragments tagged with an ingredient the query matches: share x tag score (the best)
        related: dict[int, float] = {}
        for ing, share in ingredient_matches(qa, self.ingredient_keys(), weights).items():
            for fid, tag_score in cat.tagged_fragments([ing]).items():
                related[fid] = max(related.get(fid, 0.0), share * tag_score)
        if allowed is not None:
            related = {fid: r for fid, r in related.items() if fid in allowed}
        ranked, scores, total = rank(cat, qa, weights, counts, related, allowed, options.limit)
        hits = _hits(cat, ranked, scores, qa, an)
        return SearchResult(query, tuple(hits), total, tuple(c.label for c in qa.concepts))

    def ingredient_keys(self) -> dict[str, frozenset[str]]:
        if self._ingredient_keys is None:
            self._ingredient_keys = (
                ingredient_keys(self.taxonomy, self.analyser) if self.taxonomy else {}
            )
        return self._ingredient_keys

    def _fixed_words(self) -> tuple[frozenset[str], str]:
        """The words of the thesaurus and the taxonomy (every search analyses them), and a
        tag that changes with them and with the analysis."""
        if self._fixed is None:
            found = set(thesaurus_words())
            if self.taxonomy is not None:
                for ws in ingredient_words(self.taxonomy).values():
                    found.update(ws)
            digest = hashlib.sha1("\n".join(sorted(found)).encode()).hexdigest()[:16]
            self._fixed = (frozenset(found), f"{ANALYSIS_VERSION}:{digest}")
        return self._fixed

    def _prepare_words(self, cat: Catalogue, query: str) -> list[str]:
        """Load the analyses of the query's words and of the thesaurus and taxonomy words
        from the catalogue. The latter are stored once per catalogue (and when they change);
        returns the query words the catalogue lacks."""
        an = self.analyser
        fixed, tag = self._fixed_words()
        if cat.search_meta("fixed_words") != tag:
            for w in fixed:
                an.part_keys(w)
            cat.remember_search_words(an.word_entry(w) for w in sorted(fixed))
            cat.set_search_meta("fixed_words", tag)
        _load_words(cat, an, fixed)
        asked = sorted(set(words(query)))
        found = cat.search_words(asked)
        an.load_words(found)
        have = {w for w, _, parts in found if parts is not None}
        return [w for w in asked if w not in have]


def search(
    cat: Catalogue,
    query: str | None,
    options: SearchOptions | None = None,
    taxonomy: Any = None,
) -> SearchResult:
    """One search with a fresh :class:`Searcher` (what a command does); see
    :meth:`Searcher.search`."""
    return Searcher(taxonomy).search(cat, query, options)


def _load_words(cat: Catalogue, analyser: Analyser, needed: Iterable[str]) -> None:
    """Take the analyses of ``needed`` words from the catalogue where it has them (the rest
    is analysed when used, which loads the word tables)."""
    missing = analyser.missing_words(needed)
    if missing:
        analyser.load_words(cat.search_words(missing))


def _filter_ids(cat: Catalogue, options: SearchOptions, taxonomy: Any) -> set[int] | None:
    ingredients = list(options.ingredients)
    if options.vlinder:
        if taxonomy is None:
            raise InputError("geen taxonomie om de vlinder in op te zoeken")
        try:
            ingredients.extend(
                i.id for i in taxonomy.ingredients_of(taxonomy.vlinder(options.vlinder).id)
            )
        except Exception as exc:  # TaxonomyError: unknown vlinder
            raise InputError(f"onbekende vlinder '{options.vlinder}'") from exc
    if taxonomy is not None:
        known = set(getattr(taxonomy, "ingredient_ids", ()))
        for ing in options.ingredients:
            if known and ing not in known:
                raise InputError(f"onbekend ingrediënt '{ing}' (zie taxonomy.toml)")
    if not ingredients and not options.speaker and not options.episode:
        return None
    return cat.search_fragment_ids(
        ingredients=ingredients, slug=options.episode, speaker=options.speaker
    )


def _hits(
    cat: Catalogue,
    ids: Sequence[int],
    scores: dict[int, float],
    qa: QueryAnalysis | None,
    analyser: Analyser,
) -> list[Hit]:
    rows = cat.search_rows(ids)
    tags = cat.search_tags(ids)
    if qa is not None:  # the words of the texts, for highlighting
        _load_words(cat, analyser, {w for r in rows.values() for w in words(r["text"])})
    out = []
    for fid in ids:
        r = rows.get(fid)
        if r is None:
            continue
        try:
            speakers = tuple(json.loads(r["speakers"] or "[]"))
        except ValueError:
            speakers = ()
        out.append(
            Hit(
                fragment_id=fid,
                slug=r["slug"],
                episode_title=r["episode_title"],
                episode_date=r["episode_date"],
                index=r["idx"],
                chapter=r["chapter"],
                start=r["start"],
                end=r["end"],
                text=r["text"],
                score=round(scores.get(fid, 0.0), 4),
                ingredients=tuple(i for i, _ in tags.get(fid, [])),
                speakers=speakers,
                spans=match_spans(r["text"], qa, analyser) if qa else (),
            )
        )
    return out
