"""Search: find the fragments about a topic in the catalogue (the ``search`` verb).

The catalogue keeps an FTS5 index over each fragment's raw text (diacritics folded) and two
analysed columns (see :mod:`pipeline.analysis`): ``terms`` (one Dutch key per word: lemma,
folded, stemmed) and ``parts`` (keys of compound parts). A query is split into concepts (its
content words; question words and stopwords are dropped), each with variants: the word's key,
its compound parts, its surface form and related terms from the thesaurus. Every variant is
one FTS5 query scored with bm25; a concept counts with its best variant, and a fragment's
score is the weighted sum over concepts (so query words are OR-ed: a fragment that matches
only some words is still found, ranked below those that match all), times a coverage factor,
plus a boost for fragments tagged with an ingredient whose description matches the query.

Speed: the scoring runs in one SQLite statement (:meth:`Catalogue.search_scores`); common
weaker variants are only scored for the fragments the other variants find, when a bound shows
that this cannot change the results (else everything is scored). Word analyses come from the
catalogue's ``search_words`` table, so a new process loads no lemma or frequency tables for
words the catalogue knows.

Without a query, the ingredient/vlinder/speaker/episode filters list matching fragments.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .analysis import (
    ANALYSIS_VERSION,
    QueryAnalysis,
    Variant,
    analyse_query,
    compound_parts,
    fresh_words,
    index_fields,
    key,
    keys_of_word,
    known_words,
    load_words,
    missing_words,
    part_keys,
    thesaurus_words,
    word_entry,
    words,
)
from .db import Catalogue
from .errors import InputError
from .text import fold

MAX_QUERY_CHARS = 500
MAX_CONCEPTS = 12
SNIPPET_CHARS = 220

# ingredient-aware ranking: a fragment tagged with an ingredient that matches the query gets
# INGREDIENT_BOOST x (best lexical score) x (how well the query matches the ingredient)
# x (tag score)
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
        return snippet(self.text, self.spans, "<mark>", "</mark>", width, escape=_html_escape)


@dataclass(frozen=True)
class SearchResult:
    query: str
    hits: tuple[Hit, ...]
    total: int  # fragments that matched (before the limit)
    concepts: tuple[str, ...] = field(default=())


# scoring ----------------------------------------------------------------------------------
def _quote(k: str) -> str:
    return '"' + k.replace('"', '""') + '"'


def _match_expr(v: Variant) -> str:
    if len(v.keys) == 1:
        body = _quote(v.keys[0])
    else:  # phrase words near each other, in any order ("samen ... eten")
        body = "NEAR(" + " ".join(_quote(k) for k in v.keys) + f", {2 + len(v.keys)})"
    return "{" + v.column + "} : " + body


class _Counts:
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


def concept_weights(
    cat: Catalogue, qa: QueryAnalysis, counts: _Counts | None = None
) -> list[float]:
    """Each concept's weight times its rarity (idf of its own key in the catalogue): in
    "elkaar aanspreken" the rare word counts more than the common one."""
    counts = counts or _Counts(cat)
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
    qa: QueryAnalysis, weights: Sequence[float], counts: _Counts, split: bool = True
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


@lru_cache(maxsize=8)
def _ingredient_words(taxonomy: Any) -> dict[str, tuple[str, ...]]:
    """Per ingredient: the words of its title, description, phrases and hints."""
    out: dict[str, tuple[str, ...]] = {}
    for ing in getattr(taxonomy, "ingredients", ()):
        found: set[str] = set()
        for t in (ing.title, ing.description, *ing.phrases, *ing.hints):
            found.update(words(t.replace("*", " ").replace("|", " ")))
        out[ing.id] = tuple(sorted(found))
    return out


@lru_cache(maxsize=8)
def _ingredient_keys(taxonomy: Any) -> dict[str, frozenset[str]]:
    """Per ingredient: the keys of its words and of their compound parts."""
    out: dict[str, frozenset[str]] = {}
    for ing_id, ws in _ingredient_words(taxonomy).items():
        keys: set[str] = set()
        for w in ws:
            keys |= keys_of_word(w)
        out[ing_id] = frozenset(keys)
    return out


def ingredient_matches(
    qa: QueryAnalysis, taxonomy: Any, weights: Sequence[float] | None = None
) -> dict[str, float]:
    """How well the query matches each ingredient (0..1): the (idf-)weighted share of its
    concepts that occur in the ingredient's description, through any variant."""
    if taxonomy is None or not qa.concepts:
        return {}
    concepts = qa.concepts[:MAX_CONCEPTS]
    weights = list(weights) if weights is not None else [c.weight for c in concepts]
    total = sum(weights) or 1.0
    out: dict[str, float] = {}
    for ing_id, keys in _ingredient_keys(taxonomy).items():
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


# snippets ---------------------------------------------------------------------------------
def _html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_WORD_RE = re.compile(r"[0-9A-Za-zÀ-ÿ]+(?:['’][A-Za-z]+)?")


def match_spans(text: str, qa: QueryAnalysis) -> tuple[tuple[int, int], ...]:
    """Character ranges of the words in ``text`` that match the query (by key, compound part,
    or surface form)."""
    wanted = qa.highlight_keys
    surface = set(qa.content_words)
    spans = []
    for m in _WORD_RE.finditer(text):
        ws = words(m.group(0))
        if not ws:
            continue
        w = ws[0]
        if fold(w) in surface or key(w) in wanted or any(p in wanted for p in part_keys(w)):
            spans.append((m.start(), m.end()))
    return tuple(spans)


def snippet(
    text: str,
    spans: Sequence[tuple[int, int]],
    open_mark: str = "[",
    close_mark: str = "]",
    width: int = SNIPPET_CHARS,
    escape: Any = None,
) -> str:
    """The part of ``text`` (about ``width`` characters, on word boundaries) with the most
    matches, matches wrapped in the marks; ``…`` where text was cut."""
    esc = escape or (lambda s: s)
    if len(text) <= width:
        lo, hi = 0, len(text)
    else:
        best_start, best_count = 0, -1
        for s, _ in spans or [(0, 0)]:
            start = max(0, s - width // 4)
            count = sum(1 for a, b in spans if a >= start and b <= start + width)
            if count > best_count:
                best_start, best_count = start, count
        lo = best_start
        hi = min(len(text), lo + width)
        if lo > 0:  # start on a word boundary
            space = text.find(" ", lo)
            lo = space + 1 if 0 <= space < lo + 30 else lo
        if hi < len(text):
            space = text.rfind(" ", lo, hi)
            hi = space if space > lo else hi
    out = ["…" if lo > 0 else ""]
    pos = lo
    for a, b in spans:
        if a < lo or b > hi:
            continue
        out.append(esc(text[pos:a]))
        out.append(open_mark + esc(text[a:b]) + close_mark)
        pos = b
    out.append(esc(text[pos:hi]))
    if hi < len(text):
        out.append("…")
    return "".join(out).strip()


# the verb ---------------------------------------------------------------------------------
def ensure_index(cat: Catalogue) -> int:
    """Re-analyse the catalogue's fragments when the analysis changed since they were indexed
    (or they were written before search existed). Returns how many were re-analysed."""
    version = cat.search_meta("analysis_version")
    if version == ANALYSIS_VERSION:
        return 0
    if version is None and cat.search_unanalysed_count() == 0:
        # a new catalogue: replace_fragments wrote the columns with this analysis
        cat.set_search_meta("analysis_version", ANALYSIS_VERSION)
        return 0
    rows = []
    known: dict[str, tuple[str, str, str | None]] = {}
    for fid, text in cat.fragment_texts():
        f = index_fields(text)
        rows.append((fid, f.terms, f.parts))
        known.update((w[0], w) for w in f.words)
    cat.set_search_columns(rows)
    cat.add_search_words(known.values())
    cat.set_search_meta("analysis_version", ANALYSIS_VERSION)
    return len(rows)


def _load_words(cat: Catalogue, needed: Iterable[str]) -> None:
    """Take the analyses of ``needed`` words from the catalogue where it has them (the rest
    is analysed when used, which loads the word tables)."""
    missing = missing_words(needed)
    if missing:
        load_words(cat.search_words(missing))


@lru_cache(maxsize=8)
def _fixed_words(taxonomy: Any) -> tuple[frozenset[str], str]:
    """The words of the thesaurus and the taxonomy (every search analyses them), and a tag
    that changes with them and with the analysis."""
    found = set(thesaurus_words())
    for ws in _ingredient_words(taxonomy).values() if taxonomy is not None else ():
        found.update(ws)
    digest = hashlib.sha1("\n".join(sorted(found)).encode()).hexdigest()[:16]
    return frozenset(found), f"{ANALYSIS_VERSION}:{digest}"


def _prepare_words(cat: Catalogue, query: str, taxonomy: Any) -> list[str]:
    """Load the analyses of the query's words and of the thesaurus and taxonomy words from
    the catalogue. The latter are stored once per catalogue (and when they change); returns
    the query words the catalogue lacks."""
    fixed, tag = _fixed_words(taxonomy)
    if cat.search_meta("fixed_words") != tag:
        for w in fixed:
            part_keys(w)
        cat.remember_search_words(word_entry(w) for w in sorted(fixed))
        cat.set_search_meta("fixed_words", tag)
    _load_words(cat, fixed)
    asked = sorted(set(words(query)))
    found = cat.search_words(asked)
    load_words(found)
    have = {w for w, _, parts in found if parts is not None}
    return [w for w in asked if w not in have]


def _catalogue_joined(cat: Catalogue) -> Any:
    """``joined(a, b)`` for :func:`analyse_query` that finds the compound ``a`` + ``b``
    among the words of the catalogue: no frequency table needed, and a compound that no
    fragment has could not match anyway."""

    def joined(a: str, b: str) -> str | None:
        return cat.search_compound_key(compound_parts(a, b), fold(a + b))

    return joined


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


def search(
    cat: Catalogue,
    query: str | None,
    options: SearchOptions | None = None,
    taxonomy: Any = None,
) -> SearchResult:
    """Find fragments for ``query`` (ranked), or list the fragments passing the filters when
    there is no query. Raises :class:`InputError` for an empty search or bad options."""
    options = options or SearchOptions()
    if options.limit < 1:
        raise InputError("--limit moet minstens 1 zijn")
    query = (query or "").strip()
    if len(query) > MAX_QUERY_CHARS:
        raise InputError(f"zoekvraag te lang (meer dan {MAX_QUERY_CHARS} tekens)")
    allowed = _filter_ids(cat, options, taxonomy)
    ensure_index(cat)
    if not query:
        if allowed is None:
            raise InputError(
                "geef een zoekvraag, of kies --ingredient, --vlinder, --speaker of --episode"
            )
        ids = cat.listing_fragment_ids(allowed, options.limit)
        return SearchResult(query, tuple(_hits(cat, ids, {}, None)), len(allowed))
    lacking = _prepare_words(cat, query, taxonomy)
    try:
        return _search(cat, query, options, taxonomy, allowed)
    finally:  # words analysed here (not in the catalogue yet): keep them for the next search
        cat.remember_search_words(fresh_words() + known_words(lacking))


def _search(
    cat: Catalogue,
    query: str,
    options: SearchOptions,
    taxonomy: Any,
    allowed: set[int] | None,
) -> SearchResult:
    qa = analyse_query(query, _catalogue_joined(cat))
    if not qa.concepts:
        return SearchResult(query, (), 0)
    counts = _Counts(cat)
    weights = concept_weights(cat, qa, counts)
    # fragments tagged with an ingredient the query matches: share x tag score (the best)
    related: dict[int, float] = {}
    for ing, share in ingredient_matches(qa, taxonomy, weights).items():
        for fid, tag_score in cat.tagged_fragments([ing]).items():
            related[fid] = max(related.get(fid, 0.0), share * tag_score)
    if allowed is not None:
        related = {fid: r for fid, r in related.items() if fid in allowed}
    ranked, scores, total = _rank(cat, qa, weights, counts, related, allowed, options.limit)
    hits = _hits(cat, ranked, scores, qa)
    return SearchResult(query, tuple(hits), total, tuple(c.label for c in qa.concepts))


def _rank(
    cat: Catalogue,
    qa: QueryAnalysis,
    weights: Sequence[float],
    counts: _Counts,
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
            variants, sum(weights), limit, related, allowed
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


def _hits(
    cat: Catalogue, ids: Sequence[int], scores: dict[int, float], qa: QueryAnalysis | None
) -> list[Hit]:
    rows = cat.search_rows(ids)
    tags = cat.search_tags(ids)
    if qa is not None:  # the words of the texts, for highlighting
        _load_words(cat, {w for r in rows.values() for w in words(r["text"])})
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
                spans=match_spans(r["text"], qa) if qa else (),
            )
        )
    return out


# evaluation -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorpusItem:
    id: str
    text: str
    ingredients: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryItem:
    query: str
    relevant: tuple[str, ...]


def _jsonl(lines: Iterable[str], origin: str) -> list[dict[str, Any]]:
    out = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{origin}, regel {n}: geen geldige JSON") from exc
        if not isinstance(obj, dict):
            raise InputError(f"{origin}, regel {n}: verwacht een JSON-object")
        out.append(obj)
    return out


def read_corpus(lines: Iterable[str], origin: str = "corpus") -> list[CorpusItem]:
    items = []
    for n, obj in enumerate(_jsonl(lines, origin), start=1):
        if not isinstance(obj.get("id"), str | int) or not isinstance(obj.get("text"), str):
            raise InputError(f"{origin}, item {n}: 'id' en 'text' zijn verplicht")
        ings = obj.get("ingredients", [])
        if not isinstance(ings, list):
            raise InputError(f"{origin}, item {n}: 'ingredients' moet een lijst zijn")
        items.append(CorpusItem(str(obj["id"]), obj["text"], tuple(str(i) for i in ings)))
    if not items:
        raise InputError(f"{origin}: geen fragmenten")
    return items


def read_queries(lines: Iterable[str], origin: str = "zoekvragen") -> list[QueryItem]:
    items = []
    for n, obj in enumerate(_jsonl(lines, origin), start=1):
        rel = obj.get("relevant")
        if not isinstance(obj.get("query"), str) or not isinstance(rel, list):
            raise InputError(f"{origin}, item {n}: 'query' en 'relevant' zijn verplicht")
        items.append(QueryItem(obj["query"], tuple(str(r) for r in rel)))
    if not items:
        raise InputError(f"{origin}: geen zoekvragen")
    return items


def build_eval_catalogue(
    corpus: Sequence[CorpusItem], tags: str = "auto", taxonomy: Any = None
) -> tuple[Catalogue, dict[int, str]]:
    """An in-memory catalogue with the corpus as the fragments of one synthetic episode.

    ``tags``: ``auto`` (run our own tagger on the texts, as a new catalogue has them: the
    default, since the corpus labels are the ground truth of the queries too), ``corpus``
    (the ingredients in the corpus file, as a producer-corrected catalogue has them),
    ``none``. Returns the catalogue and a map from fragment id to corpus id.
    """
    import datetime as dt

    from .models import Episode, Fragment, Tag

    cat = Catalogue(":memory:")
    cat.upsert_episode(
        Episode(slug="eval", title="Evaluatiecorpus", date=dt.date(2024, 1, 1), guid="eval")
    )
    fragments = []
    for i, item in enumerate(corpus):
        if tags == "corpus":
            tag_list = tuple(Tag(ing, 1.0, (), "manual") for ing in item.ingredients)
        else:
            tag_list = ()
        fragments.append(
            Fragment(index=i, start=float(i), end=float(i + 1), text=item.text, tags=tag_list)
        )
    if tags == "auto":
        from .tag import tag_fragments
        from .taxonomy import load_taxonomy

        fragments = tag_fragments(fragments, taxonomy or load_taxonomy())
    cat.replace_fragments("eval", [], fragments)
    cat.set_search_meta("analysis_version", ANALYSIS_VERSION)
    id_map = {r[0]: corpus[r[1]].id for r in cat.query("SELECT id, idx FROM fragments")}
    return cat, id_map


def evaluate_search(
    corpus: Sequence[CorpusItem],
    queries: Sequence[QueryItem],
    *,
    k: int = 5,
    tags: str = "auto",
    taxonomy: Any = None,
) -> dict[str, Any]:
    """recall@k (share of each query's relevant fragments in its top k, averaged) and MRR
    (1 / rank of the first relevant fragment, averaged), with every query's ranking."""
    cat, id_map = build_eval_catalogue(corpus, tags, taxonomy)
    recalls: list[float] = []
    rrs: list[float] = []
    try:
        per_query: list[dict[str, Any]] = []
        for q in queries:
            result = search(cat, q.query, SearchOptions(limit=max(k, 20)), taxonomy)
            ranked = [id_map[h.fragment_id] for h in result.hits]
            relevant = set(q.relevant)
            found = len(relevant & set(ranked[:k]))
            recall = found / len(relevant) if relevant else 1.0
            rr = next((1.0 / (n + 1) for n, r in enumerate(ranked) if r in relevant), 0.0)
            recalls.append(recall)
            rrs.append(rr)
            per_query.append(
                {
                    "query": q.query,
                    "relevant": list(q.relevant),
                    "ranked": ranked,
                    f"recall@{k}": round(recall, 4),
                    "rr": round(rr, 4),
                }
            )
    finally:
        cat.close()
    n = len(per_query)
    return {
        "queries": n,
        "fragments": len(corpus),
        "tags": tags,
        f"recall@{k}": round(sum(recalls) / n, 4),
        "mrr": round(sum(rrs) / n, 4),
        "per_query": per_query,
    }
