"""Speakers for a transcript's words and segments, from diarized turns: pure functions.

- A word goes to the speaker whose turns overlap its time most; a word in a pause goes to the
  nearest turn (within ``max_distance`` seconds), else it takes its neighbour's speaker.
- A lone short word of another speaker inside one speaker's run (a word timestamp that slid
  over a turn boundary) takes the run's speaker (:func:`smooth_labels`).
- A segment whose words have more than one speaker is split where the speaker changes; the
  pieces keep the words' times and get the segment's id order (renumbered 0, 1, ...). A
  segment without words (an imported cue) gets the speaker of its time span, unsplit.
- Speaker numbers (0, 1, ... in order of first appearance) become names: the given ones in
  that order, then ``Spreker N`` for any more.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipeline.core.models import Segment, Word

from .clustering import Turn

MAX_DISTANCE = 1.0  # seconds from a word to the nearest turn for it to count
LONE_WORD = 0.5  # seconds: a single word shorter than this between one speaker's words
MAX_SHIFT = 2.0  # seconds a segment's start or end may move to meet its speaker's turn


def speaker_name(index: int, names: Sequence[str]) -> str:
    """The given name of speaker ``index`` (0-based), else ``Spreker <index + 1>``."""
    return names[index] if index < len(names) else f"Spreker {index + 1}"


def span_speaker(
    start: float, end: float, turns: Sequence[Turn], max_distance: float = MAX_DISTANCE
) -> int | None:
    """The speaker whose turns overlap ``[start, end]`` most, or the nearest one."""
    overlap: dict[int, float] = {}
    nearest: tuple[float, int] | None = None
    for turn in turns:
        shared = min(end, turn.end) - max(start, turn.start)
        if shared > 0:
            overlap[turn.speaker] = overlap.get(turn.speaker, 0.0) + shared
            continue
        gap = max(turn.start - end, start - turn.end)
        if gap <= max_distance and (nearest is None or gap < nearest[0]):
            nearest = (gap, turn.speaker)
    if overlap:
        return max(overlap, key=lambda k: overlap[k])
    return nearest[1] if nearest else None


def _fill_gaps(labels: list[int | None]) -> list[int | None]:
    """Unknown labels take the previous known one (or the next, at the start)."""
    out = list(labels)
    for i in range(1, len(out)):
        if out[i] is None:
            out[i] = out[i - 1]
    for i in range(len(out) - 2, -1, -1):
        if out[i] is None:
            out[i] = out[i + 1]
    return out


def smooth_labels(labels: list[int | None], words: Sequence[Word]) -> list[int | None]:
    """A single short word whose neighbours both belong to another speaker joins them.

    Applied within a segment: Whisper writes a real one-word answer ("Ja.") as a sentence of
    its own, so a lone word inside a sentence is a word timestamp over a turn boundary.
    """
    out = list(labels)
    for i in range(1, len(out) - 1):
        prev, cur, nxt = out[i - 1], out[i], out[i + 1]
        short = words[i].end - words[i].start < LONE_WORD
        if short and prev is not None and prev == nxt and cur != prev:
            out[i] = prev
    return out


def word_speakers(words: Sequence[Word], turns: Sequence[Turn]) -> list[int | None]:
    """A speaker number per word (None only when no turn is near any word); not smoothed."""
    ordered = sorted(turns, key=lambda t: t.start)
    return _fill_gaps([_near_turns(w.start, w.end, ordered) for w in words])


def _near_turns(start: float, end: float, ordered: Sequence[Turn]) -> int | None:
    """:func:`span_speaker` over the turns that can matter (``ordered`` by start)."""
    lo, hi = 0, len(ordered)
    while lo < hi:  # the first turn that ends after start - MAX_DISTANCE
        mid = (lo + hi) // 2
        if ordered[mid].end < start - MAX_DISTANCE:
            lo = mid + 1
        else:
            hi = mid
    near = []
    for turn in ordered[lo:]:
        if turn.start > end + MAX_DISTANCE:
            break
        near.append(turn)
    return span_speaker(start, end, near)


def _piece(seg: Segment, words: list[Word], speaker: str | None) -> Segment:
    return replace(
        seg,
        start=words[0].start,
        end=words[-1].end,
        text=" ".join(w.text.strip() for w in words),
        words=tuple(words),
        speaker=speaker,
    )


def split_segment(
    seg: Segment, labels: Sequence[int | None], names: Sequence[str]
) -> list[Segment]:
    """``seg`` as one segment per run of words of one speaker."""
    pieces: list[tuple[int | None, list[Word]]] = []
    for word, label in zip(seg.words, labels, strict=True):
        if pieces and pieces[-1][0] == label:
            pieces[-1][1].append(word)
        else:
            pieces.append((label, [word]))
    if len(pieces) == 1:
        label = pieces[0][0]
        return [replace(seg, speaker=None if label is None else speaker_name(label, names))]
    return [
        _piece(seg, words, None if label is None else speaker_name(label, names))
        for label, words in pieces
    ]


def fit_to_turns(
    segments: Sequence[Segment],
    turns: Sequence[Turn],
    names: Sequence[str] = (),
    max_shift: float = MAX_SHIFT,
) -> list[Segment]:
    """Segment times widened to the turns of their speaker that they overlap.

    Whisper's words leave out a turn's first and last moments and the pauses between its
    sentences, and the Podcasting JSON has only segment times. A segment's start moves back
    to the start of its speaker's turn and its end forward to the turn's end (at most
    ``max_shift`` seconds each, never over the neighbouring segments), so the segments cover
    who speaks when. Words keep their times. (Confining a segment to its own speaker's turns
    as well was tried: it removed the confusion of hallucinated segments whose words spread
    over several turns, but lost more coverage than it gained.)
    """
    out: list[Segment] = []
    for i, seg in enumerate(segments):
        own = [
            t
            for t in turns
            if speaker_name(t.speaker, names) == seg.speaker
            and t.start < seg.end + 0.1
            and t.end > seg.start - 0.1
        ]
        if not own:
            out.append(seg)
            continue
        prev_end = out[-1].end if out else 0.0
        next_start = segments[i + 1].start if i + 1 < len(segments) else float("inf")
        start = max(min(seg.start, min(t.start for t in own)), prev_end, seg.start - max_shift)
        end = min(max(seg.end, max(t.end for t in own)), next_start, seg.end + max_shift)
        start, end = min(start, seg.start), max(end, seg.end)
        out.append(replace(seg, start=round(start, 3), end=round(end, 3)))
    return out


def assign_speakers(
    segments: Sequence[Segment],
    turns: Sequence[Turn],
    names: Sequence[str] = (),
    fit: bool = True,
) -> list[Segment]:
    """Segments with speakers, split where the speaker changes, ids renumbered from 0; with
    ``fit``, their times widened to their speakers' turns (:func:`fit_to_turns`)."""
    words = [w for seg in segments for w in seg.words]
    labels = word_speakers(words, turns)
    out: list[Segment] = []
    first = 0
    for seg in segments:
        if seg.words:
            mine = smooth_labels(labels[first : first + len(seg.words)], seg.words)
            first += len(seg.words)
            out.extend(split_segment(seg, mine, names))
        else:
            label = span_speaker(seg.start, seg.end, turns)
            out.append(replace(seg, speaker=None if label is None else speaker_name(label, names)))
    if fit:
        out = fit_to_turns(out, turns, names)
    return [replace(seg, id=i) for i, seg in enumerate(out)]
