"""Subtitle cues: a transcript's words in cues of at most two lines (WebVTT and SRT)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from pipeline.core.models import Segment, Transcript

from .readers import estimate_words
from .sentences import _SENTENCE_END

MAX_LINE = 42  # WebVTT: the spec sets no maximum; 42 is the usual subtitle line


SRT_MAX_LINE = 32  # the Podcasting 2.0 transcript spec: SRT lines of at most 32 characters


MAX_LINES = 2


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]
    speaker: str | None = None


def _word_items(seg: Segment) -> list[tuple[str, float, float]]:
    if seg.words:
        return [(w.text.strip(), w.start, w.end) for w in seg.words if w.text.strip()]
    return [(w.text, w.start, w.end) for w in estimate_words(seg.text, seg.start, seg.end)]


def wrap(words: Sequence[str], width: int = MAX_LINE) -> list[str]:
    """Greedy line filling; a word longer than ``width`` is cut into pieces."""
    lines: list[str] = []
    current = ""
    for word in words:
        pieces = [word[i : i + width] for i in range(0, len(word), width)] or [""]
        for piece in pieces:
            if not current:
                current = piece
            elif len(current) + 1 + len(piece) <= width:
                current += " " + piece
            else:
                lines.append(current)
                current = piece
    if current:
        lines.append(current)
    return lines


def _balanced(words: Sequence[str], width: int = MAX_LINE) -> list[str]:
    """Two lines of about equal length where that still fits (easier to read than greedy)."""
    lines = wrap(words, width)
    if len(lines) != 2:
        return lines
    best = lines
    best_diff = abs(len(lines[0]) - len(lines[1]))
    for cut in range(1, len(words)):
        a, b = " ".join(words[:cut]), " ".join(words[cut:])
        if len(a) <= width and len(b) <= width and abs(len(a) - len(b)) < best_diff:
            best, best_diff = [a, b], abs(len(a) - len(b))
    return best


def cues(transcript: Transcript, width: int = MAX_LINE, *, label_turns: bool = False) -> list[Cue]:
    """Subtitle cues: at most 2 lines of at most ``width`` characters, never across segments.

    With ``label_turns``, the first cue of each speaker's turn starts with ``Name:`` (within
    the line widths), as SubRip shows who speaks."""
    out: list[Cue] = []
    last_speaker: str | None = None
    for seg in transcript.segments:
        items = _word_items(seg)
        if label_turns and items and seg.speaker and seg.speaker != last_speaker:
            items.insert(0, (f"{seg.speaker}:", items[0][1], items[0][1]))
        if items:
            last_speaker = seg.speaker
        group: list[tuple[str, float, float]] = []

        def flush(group: list[tuple[str, float, float]] = group, seg: Segment = seg) -> None:
            if group:
                lines = _balanced([g[0] for g in group], width)
                out.append(Cue(group[0][1], group[-1][2], tuple(lines), seg.speaker))
                group.clear()

        for item in items:
            candidate = [g[0] for g in group] + [item[0]]
            if group and len(wrap(candidate, width)) > MAX_LINES:
                flush()
            group.append(item)
            # a sentence end in the second half of a full cue is a good place to break
            if item[0].endswith(_SENTENCE_END) and len(" ".join(g[0] for g in group)) > width:
                flush()
        flush()
    # times: increasing, no overlap, never empty
    fixed: list[Cue] = []
    for i, cue in enumerate(out):
        start = max(cue.start, fixed[-1].end if fixed else 0.0)
        end = max(cue.end, start + 0.1)
        if i + 1 < len(out):
            end = min(end, max(out[i + 1].start, start + 0.1))
        fixed.append(replace(cue, start=round(start, 3), end=round(end, 3)))
    return fixed
