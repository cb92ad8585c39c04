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

Without a query, the ingredient/vlinder/speaker/episode filters list matching fragments.
"""

from __future__ import annotations

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
    load_words,
    missing_words,
    part_keys,
    thesaurus_words,
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


def concept_weights(cat: Catalogue, qa: QueryAnalysis) -> list[float]:
    """Each concept's weight times its rarity (idf of its own key in the catalogue): in
    "elkaar aanspreken" the rare word counts more than the common one."""
    n = max(cat.search_count(), 1)
    out = []
    for c in qa.concepts[:MAX_CONCEPTS]:
        if c.optional:
            out.append(0.0)
            continue
        df = cat.search_df(_match_expr(c.variants[0]))
        out.append(c.weight * math.log((n + 1) / (df + 0.5)) if n > 1 else c.weight)
    return out


def _score_fragments(
    cat: Catalogue, qa: QueryAnalysis, weights: Sequence[float]
) -> dict[int, float]:
    """Fragment id -> lexical score: weighted best-variant bm25 per concept, times coverage."""
    concepts = qa.concepts[:MAX_CONCEPTS]
    if not concepts:
        return {}
    cache: dict[str, list[tuple[int, float]]] = {}
    scores: dict[int, float] = {}
    covered: dict[int, float] = {}
    for c, idf_weight in zip(concepts, weights, strict=True):
        best: dict[int, tuple[float, float]] = {}
        for v in c.variants:
            expr = _match_expr(v)
            if expr not in cache:
                cache[expr] = cat.search_match(expr)
            for fid, s in cache[expr]:
                val = v.weight * s
                if val > best.get(fid, (0.0, 0.0))[0]:
                    best[fid] = (val, v.weight)
        for fid, (val, vw) in best.items():
            scores[fid] = scores.get(fid, 0.0) + c.weight * val
            covered[fid] = covered.get(fid, 0.0) + idf_weight * vw
    total = sum(weights) or 1.0
    # more of the query (its rare words first) matched ranks higher: a soft AND
    return {fid: s * (0.4 + 0.6 * min(covered[fid] / total, 1.0)) for fid, s in scores.items()}


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
    try:
        return _search(cat, query, options, taxonomy, allowed)
    finally:  # words analysed here (not in the catalogue yet): keep them for the next search
        cat.remember_search_words(fresh_words())


def _search(
    cat: Catalogue,
    query: str,
    options: SearchOptions,
    taxonomy: Any,
    allowed: set[int] | None,
) -> SearchResult:
    needed = set(words(query)) | thesaurus_words()
    for ws in _ingredient_words(taxonomy).values() if taxonomy is not None else ():
        needed.update(ws)
    _load_words(cat, needed)
    qa = analyse_query(query, _catalogue_joined(cat))
    if not qa.concepts:
        return SearchResult(query, (), 0)
    weights = concept_weights(cat, qa)
    scores = _score_fragments(cat, qa, weights)
    # the boost scales with the best lexical score, so it means the same on any corpus
    scale = max(scores.values(), default=0.0) or 1.0
    boosts: dict[int, float] = {}
    for ing, share in ingredient_matches(qa, taxonomy, weights).items():
        for fid, tag_score in cat.tagged_fragments([ing]).items():
            boost = INGREDIENT_BOOST * scale * share * tag_score
            boosts[fid] = max(boosts.get(fid, 0.0), boost)
    for fid, boost in boosts.items():
        scores[fid] = scores.get(fid, 0.0) + boost
    if allowed is not None:
        scores = {fid: s for fid, s in scores.items() if fid in allowed}
    ranked = sorted(scores, key=lambda fid: (-scores[fid], fid))
    top = ranked[: options.limit]
    hits = _hits(cat, top, scores, qa)
    return SearchResult(query, tuple(hits), len(scores), tuple(c.label for c in qa.concepts))


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
