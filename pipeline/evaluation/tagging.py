"""Tagging evaluation: micro and macro precision, recall and F1 against a labelled JSONL set."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import (
    InputError,
    TaxonomyError,
)
from pipeline.tagging.taxonomy import Taxonomy

if TYPE_CHECKING:
    pass
from pipeline.tagging.lexicon import METHOD_VERSION, tag_text, tagger_for


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


def evaluate_tagging(items: Sequence[EvalItem], tax: Taxonomy) -> dict[str, Any]:
    """Micro and macro precision/recall/F1, a per-ingredient table and every prediction."""
    unknown = sorted({i for it in items for i in it.gold} - set(tax.ingredient_ids))
    if unknown:
        raise TaxonomyError(
            f"ingrediënt '{unknown[0]}' uit de evaluatieset staat niet in de taxonomie"
        )
    tagger = tagger_for(tax)
    counts = {i: [0, 0, 0] for i in tax.ingredient_ids}  # tp, fp, fn
    predictions = []
    for it in items:
        tags = tag_text(it.text, tagger)
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
    return {
        "items": len(items),
        "taxonomy_version": tax.version,
        "method": METHOD_VERSION,
        "micro": _prf(tp, fp, fn),
        "macro": macro,
        "per_ingredient": per,
        "predictions": predictions,
    }
