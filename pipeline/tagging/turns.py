"""Who says what in a fragment: the runs of one speaker's words within its time (pure).

The transcript's words carry their speaker once the diarize stage ran (or a talk's one
speaker, or an imported file's ``<v Name>``); a fragment's turns are its words grouped by
speaker, in order. Without speakers a fragment has no turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipeline.core.models import Fragment, SpeakerTurn, Transcript, Word

#: Slack (seconds) at a fragment's edges: its times are the first and last word's.
EDGE = 0.01


def _words(transcript: Transcript) -> list[Word]:
    out: list[Word] = []
    for seg in transcript.segments:
        if seg.words:
            out.extend(w if w.speaker else replace(w, speaker=seg.speaker) for w in seg.words)
        elif seg.text.strip():  # a cue without words: the whole cue as one "word"
            out.append(Word(seg.start, seg.end, seg.text.strip(), speaker=seg.speaker))
    return sorted(out, key=lambda w: w.start)


def turns_of(start: float, end: float, words: Sequence[Word]) -> tuple[SpeakerTurn, ...]:
    """The turns of the words whose middle lies within [start, end]."""
    turns: list[tuple[float, str, list[str]]] = []
    for w in words:
        middle = (w.start + w.end) / 2
        if not start - EDGE <= middle <= end + EDGE or not w.speaker or not w.text.strip():
            continue
        if turns and turns[-1][1] == w.speaker:
            turns[-1][2].append(w.text.strip())
        else:
            turns.append((w.start, w.speaker, [w.text.strip()]))
    return tuple(SpeakerTurn(round(s, 3), name, " ".join(ws)) for s, name, ws in turns)


def with_turns(fragments: Sequence[Fragment], transcript: Transcript) -> list[Fragment]:
    """The fragments with their turns (unchanged when the transcript has no speakers)."""
    words = _words(transcript)
    if not any(w.speaker for w in words):
        return list(fragments)
    return [replace(f, turns=turns_of(f.start, f.end, words)) for f in fragments]
