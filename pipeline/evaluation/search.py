"""Search evaluation: recall@k and MRR of queries over a labelled corpus."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.catalogue import Catalogue
from pipeline.core.errors import InputError
from pipeline.core.models import Episode, Fragment, Tag
from pipeline.core.taxonomy import load_taxonomy
from pipeline.search import Searcher, SearchOptions, index
from pipeline.tagging.semantic import tag_fragments


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
        fragments = tag_fragments(fragments, taxonomy or load_taxonomy())
    cat.replace_fragments("eval", [], fragments)
    index(cat)
    id_map = {fid: corpus[idx].id for idx, fid in cat.fragment_ids("eval").items()}
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
    searcher = Searcher(taxonomy)
    recalls: list[float] = []
    rrs: list[float] = []
    try:
        per_query: list[dict[str, Any]] = []
        for q in queries:
            result = searcher.search(cat, q.query, SearchOptions(limit=max(k, 20)))
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
