"""Segmentation evaluation: Pk and WindowDiff of the chapters against reference topics."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.core.errors import InputError
from pipeline.core.models import Chapter, Segment, Transcript
from pipeline.core.taxonomy import Taxonomy
from pipeline.tagging.segment import SegmentOptions, segment

# --- evaluation -----------------------------------------------------------------------------


def pk(reference: Sequence[int], hypothesis: Sequence[int], k: int | None = None) -> float:
    """Beeferman's Pk over per-unit segment labels (lower is better, 0 = perfect)."""
    n = len(reference)
    if n != len(hypothesis):
        raise ValueError("reference and hypothesis differ in length")
    if k is None:
        k = default_k(reference)
    if n <= k:
        return 0.0
    errors = sum(
        (reference[i] == reference[i + k]) != (hypothesis[i] == hypothesis[i + k])
        for i in range(n - k)
    )
    return errors / (n - k)


def window_diff(reference: Sequence[int], hypothesis: Sequence[int], k: int | None = None) -> float:
    """Pevzner and Hearst's WindowDiff over per-unit segment labels (lower is better)."""
    n = len(reference)
    if n != len(hypothesis):
        raise ValueError("reference and hypothesis differ in length")
    if k is None:
        k = default_k(reference)
    if n <= k:
        return 0.0

    def bounds(labels: Sequence[int], i: int) -> int:
        return sum(labels[j] != labels[j + 1] for j in range(i, i + k))

    errors = sum(bounds(reference, i) != bounds(hypothesis, i) for i in range(n - k))
    return errors / (n - k)


def default_k(reference: Sequence[int]) -> int:
    """Half the mean reference segment length, at least 2."""
    segments = len(set(reference)) or 1
    return max(2, round(len(reference) / segments / 2))


@dataclass(frozen=True)
class SegEvalItem:
    id: str
    transcript: Transcript
    reference: tuple[int, ...]  # per transcript segment: its reference chapter number


def read_segmentation_jsonl(lines: Iterable[str], origin: str = "bestand") -> list[SegEvalItem]:
    """Talks as ``{"id", "segments": [{"start", "end", "text", "topic"}]}``, one per line;
    a new reference chapter starts wherever ``topic`` changes."""
    import json

    items = []
    for n, line in enumerate(lines, start=1):
        if not str(line).strip():
            continue
        try:
            row = json.loads(line)
            segs, labels, current, last = [], [], -1, object()
            for i, s in enumerate(row["segments"]):
                segs.append(Segment(i, float(s["start"]), float(s["end"]), str(s["text"])))
                if s["topic"] != last:
                    current += 1
                    last = s["topic"]
                labels.append(current)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise InputError(
                f"{origin}, regel {n}: verwacht JSON met 'segments' (start, end, text, topic)"
            ) from exc
        if not segs:
            raise InputError(f"{origin}, regel {n}: geen segmenten")
        transcript = Transcript(language="nl", segments=tuple(segs), duration=segs[-1].end)
        items.append(SegEvalItem(str(row.get("id", n)), transcript, tuple(labels)))
    if not items:
        raise InputError(f"{origin}: geen items")
    return items


def hypothesis_labels(transcript: Transcript, chapters: Sequence[Chapter]) -> list[int]:
    """Per transcript segment: the chapter that holds its midpoint."""
    labels = []
    for seg in transcript.segments:
        mid = (seg.start + seg.end) / 2
        label = 0
        for ch in chapters:
            if ch.start <= mid:
                label = ch.index
        labels.append(label)
    return labels


def evaluate_segmentation(
    items: Sequence[SegEvalItem], tax: Taxonomy | None = None, options: SegmentOptions | None = None
) -> dict:
    """Pk and WindowDiff per talk and their means (k = half the mean reference chapter)."""
    rows: list[dict[str, Any]] = []
    for it in items:
        chapters, _ = segment(it.transcript, tax, options)
        hyp = hypothesis_labels(it.transcript, chapters)
        ref = list(it.reference)
        rows.append(
            {
                "id": it.id,
                "units": len(ref),
                "reference_chapters": len(set(ref)),
                "predicted_chapters": len(chapters),
                "pk": round(pk(ref, hyp), 4),
                "window_diff": round(window_diff(ref, hyp), 4),
                "titles": [c.title for c in chapters],
            }
        )
    n = len(rows) or 1
    return {
        "items": len(rows),
        "pk": round(sum(r["pk"] for r in rows) / n, 4),
        "window_diff": round(sum(r["window_diff"] for r in rows) / n, 4),
        "talks": rows,
    }
