"""Chapter starts a listener can use: length-aware boundary selection from depth scores.

Pure functions. Input: the TextTiling depth score of every sentence gap
(``depths[g]`` is the gap before sentence ``g + 1``, as :func:`.segment.depth_scores` gives
them) and the sentences' start and end times. Output: the sentence indices where a chapter
starts, always including 0.

How many chapters and how short they may be follows the length of the recording:

* the shortest chapter is ``min_scale * sqrt(total)`` seconds, kept within
  ``[min_floor_s, min_cap_s]``: 30 s for a talk of a few minutes (so short talks keep their
  topic shifts), ~68 s for 20 minutes, 150 s for an hour;
* at most ``total / (budget_factor * shortest)`` chapters and never more than ``max_chapters``
  (an hour: 20, i.e. one per three minutes);
* gaps are taken deepest first while they stand out (depth above mean + ``depth_cutoff`` *
  std) and keep every chapter at least the shortest length;
* each chosen start may move a sentence or two to where the speaker pauses longest (and to a
  sentence that starts with a capital after a full stop), when that gap is nearly as deep.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

_END_MARKS = (".", "!", "?", "…")


@dataclass(frozen=True, kw_only=True)
class ChapterPolicy:
    """How long chapters are and how many a recording gets (see the module docstring)."""

    min_floor_s: float = 30.0  # shortest chapter in a talk of a few minutes
    min_cap_s: float = 150.0  # shortest chapter in a long recording
    min_scale: float = 2.5  # shortest chapter = min_scale * sqrt(total seconds), clamped
    budget_factor: float = 1.2  # at most total / (budget_factor * shortest) chapters
    max_chapters: int = 20
    depth_cutoff: float = 0.0  # a start needs depth > mean + depth_cutoff * std (and > 0)
    pause_weight: float = 0.0  # choosing: weight of a pause that stands out (z-score)
    snap_s: float = 5.0  # how far (seconds) a start may move to a pause or sentence start
    snap_pause_weight: float = 0.5  # snapping: weight of the pause (z-score) against depth
    snap_min_ratio: float = 0.5  # snapping: the new gap keeps at least this share of the depth


@dataclass(frozen=True)
class Span:
    """One sentence's time span (only the times matter here)."""

    start: float
    end: float
    text: str = ""


def min_chapter_seconds(total_s: float, policy: ChapterPolicy | None = None) -> float:
    """The shortest chapter allowed in a recording of ``total_s`` seconds."""
    p = policy or ChapterPolicy()
    raw = p.min_scale * math.sqrt(max(total_s, 0.0))
    return min(max(raw, p.min_floor_s), p.min_cap_s)


def max_chapter_count(total_s: float, policy: ChapterPolicy | None = None) -> int:
    """The most chapters a recording of ``total_s`` seconds may get (at least 1)."""
    p = policy or ChapterPolicy()
    shortest = min_chapter_seconds(total_s, p)
    by_length = int(total_s // (p.budget_factor * shortest)) if shortest > 0 else 1
    return max(1, min(p.max_chapters, by_length))


def depth_threshold(depths: Sequence[float], cutoff: float) -> float:
    """Mean + ``cutoff`` * std of the depths (0 for none)."""
    if not depths:
        return 0.0
    mean = sum(depths) / len(depths)
    std = math.sqrt(sum((d - mean) ** 2 for d in depths) / len(depths))
    return mean + cutoff * std


def pauses(spans: Sequence[Span]) -> list[float]:
    """Silence before each sentence gap: ``pauses[g]`` is between sentence g and g + 1."""
    return [max(0.0, spans[g + 1].start - spans[g].end) for g in range(len(spans) - 1)]


def _zscores(values: Sequence[float]) -> list[float]:
    if not values:
        return []
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    if std < 1e-6:
        return [0.0] * len(values)
    return [(v - mean) / std for v in values]


def gap_strength(
    depths: Sequence[float], spans: Sequence[Span], pause_weight: float
) -> list[float]:
    """Per gap: its depth in units of the recording's depth spread (mean + std), plus
    ``pause_weight`` times how much its pause stands out (z-score, 0 to 3). Uniform pauses
    add nothing."""
    spread = depth_threshold(depths, 1.0) or 1.0
    pause_z = _zscores(pauses(spans))
    return [
        d / spread + pause_weight * min(max(z, 0.0), 3.0)
        for d, z in zip(depths, pause_z, strict=True)
    ]


def _clean_break(spans: Sequence[Span], gap: int) -> bool:
    """Whether the gap falls between two sentences (full stop, then a capital)."""
    before, after = spans[gap].text.rstrip(), spans[gap + 1].text.lstrip()
    if not before and not after:
        return True  # no text: nothing speaks against it
    return before.endswith(_END_MARKS) and after[:1].isupper()


def snap_gap(
    gap: int,
    depths: Sequence[float],
    spans: Sequence[Span],
    policy: ChapterPolicy | None = None,
    strength: Sequence[float] | None = None,
) -> int:
    """The gap near ``gap`` (within ``snap_s`` seconds) where a listener would start: a long
    pause and a clean sentence break, as long as the gap keeps ``snap_min_ratio`` of the depth
    of ``gap``. ``strength``: :func:`gap_strength` with ``snap_pause_weight``, if computed."""
    p = policy or ChapterPolicy()
    if strength is None:
        strength = gap_strength(depths, spans, p.snap_pause_weight)
    t0 = spans[gap + 1].start
    floor = p.snap_min_ratio * depths[gap]
    best, best_score = gap, -math.inf
    lo = gap
    while lo > 0 and t0 - spans[lo].start <= p.snap_s:
        lo -= 1
    hi = gap
    while hi < len(depths) - 1 and spans[hi + 2].start - t0 <= p.snap_s:
        hi += 1
    for g in range(lo, hi + 1):
        if g != gap and (depths[g] < floor or abs(spans[g + 1].start - t0) > p.snap_s):
            continue
        score = strength[g] + (0.25 if _clean_break(spans, g) else 0.0)
        score -= 0.02 * abs(spans[g + 1].start - t0)
        if score > best_score:
            best, best_score = g, score
    return best


def _fits(t: float, bounds: Sequence[float], shortest: float) -> bool:
    return all(abs(t - b) >= shortest for b in bounds)


def choose_starts(
    depths: Sequence[float],
    spans: Sequence[Span],
    policy: ChapterPolicy | None = None,
) -> list[int]:
    """Sentence indices where a chapter starts (always including 0).

    ``depths[g]`` scores the gap between sentence ``g`` and ``g + 1``; ``len(depths)`` must be
    ``len(spans) - 1``.
    """
    p = policy or ChapterPolicy()
    n = len(spans)
    if n < 2:
        return [0]
    if len(depths) != n - 1:
        raise ValueError("expected one depth per sentence gap")
    total = spans[-1].end - spans[0].start
    shortest = min_chapter_seconds(total, p)
    budget = max_chapter_count(total, p)
    if budget < 2 or total < 2 * shortest:
        return [0]
    strength = gap_strength(depths, spans, p.pause_weight)
    snap_strength = gap_strength(depths, spans, p.snap_pause_weight)
    cutoff = depth_threshold(strength, p.depth_cutoff)
    bounds = [spans[0].start, spans[-1].end]
    starts = [0]
    for gap in sorted(range(len(strength)), key=lambda g: (-strength[g], g)):
        if len(starts) >= budget or strength[gap] <= cutoff or strength[gap] <= 0:
            break
        for g in (snap_gap(gap, depths, spans, p, snap_strength), gap):
            t = spans[g + 1].start
            if _fits(t, bounds, shortest):
                starts.append(g + 1)
                bounds.append(t)
                break
    return sorted(starts)


def chapter_lengths(starts: Sequence[int], spans: Sequence[Span]) -> list[float]:
    """Seconds from each chapter's first sentence to the next chapter's (or the end)."""
    edges = [spans[i].start for i in starts] + [spans[-1].end]
    return [b - a for a, b in zip(edges, edges[1:], strict=False)]
