"""Scoring who-spoke-when against true turns: DER and speaker-attributed accuracy.

Frame level (10 ms), as NIST's md-eval: frames within ``collar`` seconds (0.25) of a true turn's
start or end are not scored. Hypothesis names are mapped to true names one to one so that
their overlap is largest (:func:`best_assignment`); speakers left over stay unmatched.

- DER = (missed speech + false alarm + confusion) / scored true speech, with per frame
  ``missed = max(0, n_ref - n_hyp)``, ``false alarm = max(0, n_hyp - n_ref)`` and
  ``confusion = min(n_ref, n_hyp) - n_correct``.
- Speaker-attributed accuracy = scored true speech given to its own (mapped) speaker / scored
  true speech: what a listener reading the transcript sees. Missed speech counts as wrong.

Truth and hypotheses are lists of :class:`Span` (start, end, speaker), read from RTTM, JSONL
(``{"start", "end", "speaker"}`` a line), a Podcasting 2.0 transcript JSON (``segments`` with
``startTime``, ``endTime``, ``speaker``) or Vlinder's transcript JSON (``segments`` with
``start``, ``end``, ``speaker``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.core.errors import InputError
from pipeline.speakers import SpeakerOptions, diarize_audio
from pipeline.speakers.assign import speaker_name
from pipeline.speakers.clustering import Diarization
from pipeline.transcribe.streaming import stream_chunks

FRAME = 0.01
COLLAR = 0.25


class ScoreError(InputError):
    """A truth or hypothesis file that cannot be read."""


@dataclass(frozen=True)
class Span:
    start: float
    end: float
    speaker: str


@dataclass(frozen=True)
class Score:
    scored: float  # seconds of true speech scored (outside the collars)
    missed: float
    false_alarm: float
    confusion: float
    correct: float  # seconds of true speech given to the right speaker
    mapping: dict[str, str]  # hypothesis name -> true name

    @property
    def der(self) -> float:
        if self.scored <= 0:
            return 0.0
        return (self.missed + self.false_alarm + self.confusion) / self.scored

    @property
    def accuracy(self) -> float:
        return self.correct / self.scored if self.scored > 0 else 1.0


# --- readers ---------------------------------------------------------------------------------


def parse_rttm(text: str) -> list[Span]:
    """``SPEAKER file channel start duration <NA> <NA> name <NA> <NA>`` lines."""
    spans = []
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or parts[0] != "SPEAKER":
            continue
        try:
            start, duration, name = float(parts[3]), float(parts[4]), parts[7]
        except (IndexError, ValueError) as exc:
            raise ScoreError(f"RTTM-regel {number} is ongeldig: {line.strip()!r}") from exc
        spans.append(Span(start, start + duration, name))
    return spans


def _span(item: Any, keys: tuple[str, str], where: str) -> Span | None:
    if not isinstance(item, dict):
        raise ScoreError(f"{where}: geen object")
    if item.get("speaker") in (None, ""):
        return None
    try:
        return Span(float(item[keys[0]]), float(item[keys[1]]), str(item["speaker"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ScoreError(f"{where}: begin, eind of spreker ontbreekt") from exc


def parse_jsonl(text: str) -> list[Span]:
    spans = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ScoreError(f"JSONL-regel {number} is geen JSON: {exc.msg}") from exc
        span = _span(item, ("start", "end"), f"JSONL-regel {number}")
        if span:
            spans.append(span)
    return spans


def parse_segments_json(text: str) -> list[Span]:
    """Segments with a speaker of a Podcasting 2.0 or a Vlinder transcript JSON."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScoreError(f"geen JSON: {exc.msg}") from exc
    segments = data.get("segments") if isinstance(data, dict) else None
    if not isinstance(segments, list):
        raise ScoreError("JSON zonder lijst 'segments'")
    spans = []
    for number, item in enumerate(segments):
        podcast = isinstance(item, dict) and "startTime" in item
        keys = ("startTime", "endTime") if podcast else ("start", "end")
        span = _span(item, keys, f"segment {number}")
        if span:
            spans.append(span)
    return spans


def read_spans(path: Path) -> list[Span]:
    """Spans of an ``.rttm``, ``.jsonl`` or ``.json`` file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScoreError(f"{path} is niet te lezen: {exc.strerror}") from exc
    suffix = path.suffix.lower()
    if suffix == ".rttm":
        return parse_rttm(text)
    if suffix == ".jsonl":
        return parse_jsonl(text)
    if suffix == ".json":
        return parse_segments_json(text)
    raise ScoreError(f"onbekend formaat {path.name}: gebruik .rttm, .jsonl of .json")


def to_rttm(spans: Sequence[Span], file_id: str = "audio") -> str:
    return "".join(
        f"SPEAKER {file_id} 1 {s.start:.3f} {s.end - s.start:.3f} <NA> <NA> {s.speaker} <NA> <NA>\n"
        for s in spans
        if s.end > s.start
    )


# --- scoring ---------------------------------------------------------------------------------


def _index(t: float) -> int:
    return max(0, int(round(t / FRAME)))


def activity(spans: Sequence[Span], names: Sequence[str], frames: int) -> np.ndarray:
    """(frames, speakers) bool: who speaks in each frame."""
    out = np.zeros((frames, len(names)), bool)
    column = {name: i for i, name in enumerate(names)}
    for s in spans:
        out[_index(s.start) : _index(s.end), column[s.speaker]] = True
    return out


def scored_frames(truth: Sequence[Span], frames: int, collar: float) -> np.ndarray:
    """False within ``collar`` seconds of each true turn's start and end."""
    scored = np.ones(frames, bool)
    for s in truth:
        for edge in (s.start, s.end):
            scored[_index(edge - collar) : _index(edge + collar)] = False
    return scored


MAX_PERMUTATIONS = 100_000


def best_assignment(overlap: np.ndarray) -> tuple[list[int], list[int]]:
    """Rows and columns paired one to one so that their summed ``overlap`` is largest.

    A recording has a few speakers: every pairing is tried (720 for six); with more than
    :data:`MAX_PERMUTATIONS` pairings the largest overlaps are taken greedily."""
    n_rows, n_cols = overlap.shape
    if not n_rows or not n_cols:
        return [], []
    if math.perm(max(n_rows, n_cols), min(n_rows, n_cols)) > MAX_PERMUTATIONS:
        pairs: list[tuple[int, int]] = []
        for flat in np.argsort(-overlap, axis=None):
            r, c = divmod(int(flat), n_cols)
            if all(r != pr and c != pc for pr, pc in pairs):
                pairs.append((r, c))
        pairs.sort()
        return [r for r, _ in pairs], [c for _, c in pairs]
    best: tuple[float, list[int], list[int]] = (-1.0, [], [])
    if n_rows <= n_cols:
        for cols in permutations(range(n_cols), n_rows):
            total = float(sum(overlap[r, c] for r, c in enumerate(cols)))
            if total > best[0]:
                best = (total, list(range(n_rows)), list(cols))
    else:
        for rows in permutations(range(n_rows), n_cols):
            total = float(sum(overlap[r, c] for c, r in enumerate(rows)))
            if total > best[0]:
                order = sorted(range(n_cols), key=lambda c: rows[c])
                best = (total, [rows[c] for c in order], order)
    return best[1], best[2]


def score(
    truth: Sequence[Span],
    hypothesis: Sequence[Span],
    collar: float = COLLAR,
    covered_only: bool = False,
) -> Score:
    """DER and speaker-attributed accuracy of ``hypothesis`` against ``truth``.

    With ``covered_only``, only frames that the hypothesis gives a speaker are scored: how
    well the speech that a transcript has is attributed, whatever it left out.
    """
    ref_names = sorted({s.speaker for s in truth})
    hyp_names = sorted({s.speaker for s in hypothesis})
    end = max([s.end for s in truth] + [s.end for s in hypothesis] + [0.0])
    frames = _index(end) + 1
    ref = activity(truth, ref_names, frames)
    hyp = activity(hypothesis, hyp_names, frames)
    keep = scored_frames(truth, frames, collar)
    if covered_only:
        keep &= hyp.any(axis=1)
    ref, hyp = ref[keep], hyp[keep]
    overlap = hyp.T.astype(np.float64) @ ref.astype(np.float64)  # (hyp, ref) frames
    rows, cols = best_assignment(overlap)
    mapping = {
        hyp_names[r]: ref_names[c] for r, c in zip(rows, cols, strict=True) if overlap[r, c] > 0
    }
    mapped = np.zeros_like(ref)
    for r, c in zip(rows, cols, strict=True):
        mapped[:, c] |= hyp[:, r]
    n_ref = ref.sum(axis=1)
    n_hyp = hyp.sum(axis=1)
    n_correct = (ref & mapped).sum(axis=1)
    return Score(
        scored=float(n_ref.sum()) * FRAME,
        missed=float(np.maximum(n_ref - n_hyp, 0).sum()) * FRAME,
        false_alarm=float(np.maximum(n_hyp - n_ref, 0).sum()) * FRAME,
        confusion=float((np.minimum(n_ref, n_hyp) - n_correct).sum()) * FRAME,
        correct=float(n_correct.sum()) * FRAME,
        mapping=mapping,
    )


def turn_spans(found: Diarization, names: Sequence[str] = ()) -> list[Span]:
    """Diarized turns as named spans (``Spreker N`` where no name is given)."""
    return [Span(t.start, t.end, speaker_name(t.speaker, names)) for t in found.turns]


@dataclass(frozen=True)
class SpeakerEvaluation:
    audio: str
    truth: str
    speakers_true: int
    speakers_found: int
    estimated: bool
    score: Score
    seconds: float


def evaluate_speakers(
    audio: Path, truth_path: Path, cache_dir: Path, *, estimate: bool = False
) -> SpeakerEvaluation:
    """``vlinder eval speakers``: find who speaks when in ``audio`` (with the true number of
    speakers, or estimating it) and score the turns against the truth file."""
    if not audio.is_file():
        raise InputError(f"audiobestand {audio} bestaat niet")
    truth = read_spans(truth_path)
    if not truth:
        raise ScoreError(f"{truth_path}: geen sprekersbeurten gevonden")
    names = sorted({s.speaker for s in truth})
    started = time.monotonic()
    blocks = (chunk.samples for chunk in stream_chunks(audio, 180.0))
    found = diarize_audio(
        blocks, None if estimate else len(names), SpeakerOptions(), cache_dir=cache_dir
    )
    hypothesis = turn_spans(found)
    return SpeakerEvaluation(
        audio=str(audio),
        truth=str(truth_path),
        speakers_true=len(names),
        speakers_found=found.speakers,
        estimated=found.estimated,
        score=score(truth, hypothesis),
        seconds=time.monotonic() - started,
    )
