"""Tagging evaluation: micro and macro precision, recall and F1 against a labelled JSONL set,
how many off-topic items got a tag, and k-fold cross-validation for sets whose lines may also
serve as examples (a classifier never scores the lines it learned from)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.core.errors import InputError, TaxonomyError
from pipeline.core.models import Tag
from pipeline.core.taxonomy import Taxonomy, taxonomy_version
from pipeline.tagging.semantic import SemanticTagger, method_version, semantic_tagger


# --- evaluation -----------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalItem:
    id: str
    text: str
    gold: frozenset[str]


def read_tagging_jsonl(lines: Iterable[str], origin: str = "bestand") -> list[EvalItem]:
    """Items in the format of ``tagging-dev.jsonl``; a bad line raises :class:`InputError`."""
    items = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(
                EvalItem(str(row.get("id", n)), str(row["text"]), frozenset(row["ingredients"]))
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(
                f"{origin}, regel {n}: verwacht JSON met 'text' en 'ingredients'"
            ) from exc
    if not items:
        raise InputError(f"{origin}: geen items")
    return items


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def _check_ids(items: Sequence[EvalItem], tax: Taxonomy) -> None:
    unknown = sorted({i for it in items for i in it.gold} - set(tax.ingredient_ids))
    if unknown:
        raise TaxonomyError(
            f"ingrediënt '{unknown[0]}' uit de evaluatieset staat niet in de taxonomie"
        )


def score(
    items: Sequence[EvalItem], predicted: Sequence[Sequence[Tag]], tax: Taxonomy
) -> dict[str, Any]:
    """Micro and macro precision/recall/F1, a per-ingredient table, the off-topic items that
    got a tag, and every prediction."""
    counts = {i: [0, 0, 0] for i in tax.ingredient_ids}  # tp, fp, fn
    predictions = []
    for it, tags in zip(items, predicted, strict=True):
        pred = {t.ingredient for t in tags}
        for i in pred & it.gold:
            counts[i][0] += 1
        for i in pred - it.gold:
            counts[i][1] += 1
        for i in it.gold - pred:
            counts[i][2] += 1
        predictions.append(
            {
                "id": it.id,
                "gold": sorted(it.gold),
                "predicted": [
                    {"ingredient": t.ingredient, "score": t.score, "evidence": list(t.evidence)}
                    for t in tags
                ],
            }
        )
    tp, fp, fn = (sum(c[k] for c in counts.values()) for k in range(3))
    per = {i: {**_prf(*c), "support": c[0] + c[2]} for i, c in counts.items()}
    present = [v for i, v in per.items() if counts[i][0] + counts[i][1] + counts[i][2]]
    macro = {
        k: round(sum(v[k] for v in present) / len(present), 4) if present else 0.0
        for k in ("precision", "recall", "f1")
    }
    off = [it.id for it, tags in zip(items, predicted, strict=True) if not it.gold]
    off_tagged = [it.id for it, tags in zip(items, predicted, strict=True) if not it.gold and tags]
    return {
        "items": len(items),
        "taxonomy_version": tax.version,
        "method": method_version(),
        "micro": _prf(tp, fp, fn),
        "macro": macro,
        "offtopic": {"items": len(off), "tagged": len(off_tagged), "tagged_ids": off_tagged},
        "per_ingredient": per,
        "predictions": predictions,
    }


def evaluate_tagging(
    items: Sequence[EvalItem], tax: Taxonomy, cache_dir: Path | None = None
) -> dict[str, Any]:
    """Score the shipped tagger (learned from the taxonomy's examples only) on ``items``."""
    _check_ids(items, tax)
    predicted = semantic_tagger(tax, cache_dir).tag_texts([it.text for it in items])
    return score(items, predicted, tax)


def with_examples(tax: Taxonomy, items: Sequence[EvalItem], negative: str) -> Taxonomy:
    """The taxonomy with ``items`` added as examples: on-topic lines to their ingredients,
    off-topic lines to the context ``negative``."""
    extra: dict[str, list[str]] = {}
    for it in items:
        for ing in it.gold or {negative}:
            extra.setdefault(ing, []).append(it.text)
    ings = tuple(replace(i, examples=(*i.examples, *extra.get(i.id, ()))) for i in tax.ingredients)
    ctxs = tuple(replace(c, examples=(*c.examples, *extra.get(c.id, ()))) for c in tax.contexts)
    out = replace(tax, ingredients=ings, contexts=ctxs)
    return replace(out, version=taxonomy_version(out))


def cross_validate(
    items: Sequence[EvalItem], tax: Taxonomy, folds: int = 5, cache_dir: Path | None = None
) -> dict[str, Any]:
    """k-fold cross-validation: each fold is scored by a tagger that learned from the
    taxonomy's examples plus the lines of the other folds, never from its own lines."""
    if folds < 2 or folds > len(items):
        raise InputError(f"--folds moet tussen 2 en {len(items)} liggen")
    _check_ids(items, tax)
    negative = next((c.id for c in reversed(tax.contexts)), "")
    if not negative:
        raise TaxonomyError("kruisvalidatie heeft een [[contexts]]-onderwerp nodig")
    encoder = semantic_tagger(tax, cache_dir).encoder
    predicted: list[Sequence[Tag]] = [() for _ in items]
    for f in range(folds):
        test = [k for k in range(len(items)) if k % folds == f]
        train = [it for k, it in enumerate(items) if k % folds != f]
        tagger = SemanticTagger.load(with_examples(tax, train, negative), encoder=encoder)
        for k, tags in zip(test, tagger.tag_texts([items[k].text for k in test]), strict=True):
            predicted[k] = tags
    return {**score(items, predicted, tax), "folds": folds}
