"""Speakers for a transcript from its audio: features, turns and labels, without a workspace.

:func:`label_speakers` gives a transcript a speaker per segment; :func:`diarize_audio` finds who
speaks when. The audio is given as blocks of 16 kHz mono float32 samples (e.g.
``pipeline.transcribe.streaming.stream_chunks``), so memory does not grow with the recording's
length.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline.core.episodes import check_speakers
from pipeline.core.models import Transcript

from .assign import assign_speakers, speaker_name
from .blas import blas_threads
from .clustering import Diarization, DiarizeOptions, find_turns
from .encoder import VoiceEncoder
from .features import FeatureOptions, Features, FeatureStream

MULTI_SPEAKER_KINDS = ("interview", "panel")


@dataclass(frozen=True, kw_only=True)
class SpeakerOptions:
    names: tuple[str, ...] = ()  # in order of first appearance
    count: int | None = None  # --speakers N
    kind: str = "talk"  # the episode's kind: talk | interview | panel
    backend: str = "onnx"  # onnx | numpy
    threads: int = 0  # encoder threads (0: all cores)
    features: FeatureOptions = field(default_factory=FeatureOptions)
    diarize: DiarizeOptions = field(default_factory=DiarizeOptions)


@dataclass(frozen=True)
class SpeakerResult:
    transcript: Transcript
    diarization: Diarization | None  # None when nothing ran (one speaker)
    names: tuple[str, ...]  # the names given to speakers 0, 1, ...
    seconds: float  # time spent (model loading included)


def speaker_count(names: Sequence[str], count: int | None, kind: str) -> int | None:
    """How many speakers to find: 1 (nothing to do), N, or None (estimate, 2 to 6).

    ``--speakers N`` wins; else two or more names give their number; an interview or a panel
    with fewer names is estimated; a talk has one speaker."""
    check_speakers(names, count)
    if count is not None:
        return count
    if len(names) >= 2:
        return len(names)
    return None if kind in MULTI_SPEAKER_KINDS else 1


def extract_features(
    audio: Iterable[np.ndarray], encoder: VoiceEncoder, opts: FeatureOptions
) -> Features:
    stream = FeatureStream(encoder, opts)
    for block in audio:
        stream.add(block)
    return stream.finish()


def diarize_audio(
    audio: Iterable[np.ndarray],
    count: int | None,
    opts: SpeakerOptions | None = None,
    encoder: VoiceEncoder | None = None,
    cache_dir: Path | None = None,
) -> Diarization:
    """Who speaks when in the audio (blocks of 16 kHz mono float32)."""
    opts = opts or SpeakerOptions()
    encoder = encoder or VoiceEncoder.load(cache_dir, backend=opts.backend, threads=opts.threads)
    features = extract_features(audio, encoder, opts.features)
    with blas_threads(1):
        return find_turns(features, count, opts.diarize)


def label_speakers(
    transcript: Transcript,
    audio: Iterable[np.ndarray],
    opts: SpeakerOptions | None = None,
    encoder: VoiceEncoder | None = None,
    cache_dir: Path | None = None,
) -> SpeakerResult:
    """The transcript with a speaker per segment (split where the speaker changes)."""
    opts = opts or SpeakerOptions()
    started = time.monotonic()
    count = speaker_count(opts.names, opts.count, opts.kind)
    if count == 1:
        return SpeakerResult(transcript, None, opts.names, 0.0)
    result = diarize_audio(audio, count, opts, encoder, cache_dir)
    names = tuple(speaker_name(i, opts.names) for i in range(result.speakers))
    segments = assign_speakers(transcript.segments, result.turns, names)
    labelled = replace(transcript, segments=tuple(segments))
    return SpeakerResult(labelled, result, names, time.monotonic() - started)
