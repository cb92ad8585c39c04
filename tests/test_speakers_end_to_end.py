"""Real speech: a ~100 s dialogue of two voices built from the Fish Fillets NG voice acting
(the ``dialogue`` fixture in conftest.py: scripts/make_dialogue.py, Dutch voices)."""

from __future__ import annotations

import json
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.core.models import Segment, Transcript
from pipeline.evaluation.speakers import parse_segments_json, read_spans, score, turn_spans
from pipeline.speakers import SpeakerOptions, diarize_audio, label_speakers
from pipeline.speakers.encoder import VoiceEncoder
from pipeline.speakers.weights import Weights
from pipeline.transcribe.formats.readers import estimate_words
from pipeline.transcribe.formats.writers import to_podcast_json

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder(real_weights: Weights) -> VoiceEncoder:
    return VoiceEncoder(real_weights)


def blocks(path: Path) -> list[np.ndarray]:
    with wave.open(str(path)) as w:
        raw = w.readframes(w.getnframes())
    samples = np.frombuffer(raw, "<i2").astype(np.float32) / 32768
    return [samples[i : i + 160000] for i in range(0, len(samples), 160000)]


def truth_transcript(folder: Path) -> tuple[Transcript, list[str]]:
    """Segments from the true turns' texts (words spread evenly), two turns per segment where
    the speaker changes, so that splitting is needed; names in order of first appearance."""
    turns = [json.loads(line) for line in (folder / "dialogue.jsonl").read_text().splitlines()]
    names: list[str] = []
    segments: list[Segment] = []
    for i in range(0, len(turns), 2):
        pair = turns[i : i + 2]
        words = tuple(
            w for t in pair for w in estimate_words(t["text"] or "bla bla", t["start"], t["end"])
        )
        text = " ".join(w.text.strip() for w in words)
        segments.append(Segment(len(segments), words[0].start, words[-1].end, text, words))
        for t in pair:
            if t["speaker"] not in names:
                names.append(t["speaker"])
    return Transcript(language="nl", segments=tuple(segments)), names


def test_turns_of_two_real_voices(dialogue: Path, encoder: VoiceEncoder) -> None:
    truth = read_spans(dialogue / "dialogue.rttm")
    assert len({s.speaker for s in truth}) == 2
    known = diarize_audio(blocks(dialogue / "dialogue.wav"), 2, SpeakerOptions(), encoder)
    result = score(truth, turn_spans(known))
    assert result.accuracy > 0.9 and result.der < 0.1
    estimated = diarize_audio(blocks(dialogue / "dialogue.wav"), None, SpeakerOptions(), encoder)
    assert estimated.estimated and estimated.speakers == 2


def test_transcript_segments_get_the_right_names(dialogue: Path, encoder: VoiceEncoder) -> None:
    transcript, names = truth_transcript(dialogue)
    opts = SpeakerOptions(names=tuple(names))
    result = label_speakers(transcript, blocks(dialogue / "dialogue.wav"), opts, encoder)
    assert result.names == tuple(names)
    segments = result.transcript.segments
    assert len(segments) > len(transcript.segments)  # split where the speaker changes
    assert [s.id for s in segments] == list(range(len(segments)))
    hyp = parse_segments_json(to_podcast_json(result.transcript))
    scored = score(read_spans(dialogue / "dialogue.rttm"), hyp)
    assert scored.accuracy > 0.9
    assert scored.mapping == {n: n for n in names}  # names in order of first appearance


def test_one_speaker_changes_nothing(dialogue: Path) -> None:
    transcript, _ = truth_transcript(dialogue)
    result = label_speakers(transcript, iter(()), SpeakerOptions(names=("Anna",)))
    assert result.transcript is transcript and result.diarization is None
    assert replace(transcript) == result.transcript
