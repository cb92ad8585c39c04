"""Frozen dataclasses passed between the pipeline stages.

ingest -> Episode; transcribe -> Transcript; segment -> Chapter/Fragment; tag -> Tag.
All times are seconds (float) from the start of the episode's audio.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Progress callback of a long step: (seconds of audio done, seconds in all).
Progress = Callable[[float, float], None]

KINDS = ("talk", "interview", "panel")


@dataclass(frozen=True, kw_only=True)
class EpisodeMeta:
    """What the producer tells about a recording (CLI options, the upload form, a queued job);
    empty fields get defaults at ingest (the title from the tags or the file name, the date
    from the tags or today)."""

    title: str = ""
    date: dt.date | str | None = None  # a date, or JJJJ-MM-DD text (checked at ingest)
    speakers: tuple[str, ...] = ()
    description: str = ""
    event: str = ""
    kind: str = "talk"  # one of KINDS
    speaker_count: int | None = None  # `--speakers N`: how many people speak (names unknown)


@dataclass(frozen=True)
class Loudness:
    """EBU R128 figures measured by ffmpeg's loudnorm, before and after normalisation."""

    input_i: float
    input_tp: float
    input_lra: float
    output_i: float
    output_tp: float
    output_lra: float | None = None


@dataclass(frozen=True)
class Episode:
    """One episode: the metadata file ``episodes/<slug>/episode.toml`` plus its MP3."""

    slug: str
    title: str
    date: dt.date
    guid: str
    speakers: tuple[str, ...] = ()
    description: str = ""
    event: str = ""
    kind: str = "talk"  # one of KINDS
    speaker_count: int | None = None  # `--speakers N`: how many people speak (names unknown)
    source_name: str = ""
    content_hash: str = ""  # "sha256:<hex>" of the original recording
    duration: float = 0.0  # seconds, of the podcast MP3
    audio_file: str = ""  # file name inside episodes/<slug>/
    audio_bytes: int = 0
    loudness: Loudness | None = None
    season: int | None = None
    episode_number: int | None = None
    episode_type: str = "full"  # full | trailer | bonus
    explicit: bool = False
    created: str = ""  # ISO timestamp of ingest
    # Producer corrections for chapters/tags/transcript (issue 4/7); free-form TOML tables.
    overrides: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str
    probability: float = 1.0
    speaker: str | None = None


@dataclass(frozen=True)
class Segment:
    """A Whisper segment (or an imported cue): a sentence or so, with its words."""

    id: int
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    speaker: str | None = None


@dataclass(frozen=True)
class Transcript:
    language: str
    segments: tuple[Segment, ...]
    engine: str = ""  # faster-whisper | openai-whisper | import
    model: str = ""
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    duration: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())


@dataclass(frozen=True)
class Tag:
    """An ingredient on a fragment, with its score and the evidence that matched."""

    ingredient: str
    score: float
    evidence: tuple[str, ...] = ()
    source: str = "auto"  # auto | manual


@dataclass(frozen=True)
class SpeakerTurn:
    """Part of a fragment said by one person (when the speakers are known)."""

    start: float
    speaker: str
    text: str


@dataclass(frozen=True)
class Fragment:
    """The tagging and search unit: a few sentences, roughly 15-60 s, on sentence boundaries."""

    index: int
    start: float
    end: float
    text: str
    tags: tuple[Tag, ...] = ()
    chapter: int = 0
    turns: tuple[SpeakerTurn, ...] = ()  # who says what, when the speakers are known

    def anchor(self) -> str:
        return f"f{self.index}"

    @property
    def speakers(self) -> tuple[str, ...]:
        """The people who speak in this fragment, in order."""
        return tuple(dict.fromkeys(t.speaker for t in self.turns))


@dataclass(frozen=True)
class Chapter:
    index: int
    start: float
    end: float
    title: str
    summary: str = ""
    tags: tuple[Tag, ...] = ()
