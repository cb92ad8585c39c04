"""The ``clip`` verb: part of an episode as an MP3 (or an MP4 audiogram), cut at whole words.

Steps, all ffmpeg, all streaming (Python never holds the audio):

1. cut the snapped range from the episode's MP3 with short fades (a WAV in a temporary folder);
2. measure it and encode it exactly as ingest encodes an episode (:func:`pipeline.ingest.audio.
   encode`: same bitrate, sample rate, true-peak limit), aiming at the episode's own measured
   loudness, with ID3 tags (title "episode: fragment");
3. for ``video``: the audiogram from that MP3, the cover and the captions.

The result is written to a temporary file next to ``output`` and renamed into place, so a
failure leaves nothing behind (and an older file of that name untouched).
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.core.episodes import load_episode
from pipeline.core.errors import InputError, ToolError
from pipeline.core.models import Episode
from pipeline.core.timefmt import clock
from pipeline.core.workspace import Workspace
from pipeline.ingest.audio import (
    SILENCE_LUFS,
    encode,
    measure,
    probe,
    run_ffmpeg,
)
from pipeline.transcribe import load_transcript
from pipeline.transcribe.stage import episode_audio

from .captions import ass_document
from .video import SIZE, SIZES, audiogram_args, background_for
from .words import Span, caption_lines, check_range, first_words, snap, transcript_words

#: Fade in and out (seconds), inside the room :data:`words.PAD_S` keeps around the words.
FADE_S = 0.1
#: The shortest clip (loudness is measured over 400 ms blocks; shorter says nothing).
MIN_SECONDS = 1.0
#: The longest audiogram: social media play a minute or two; a long video is not a clip.
MAX_VIDEO_SECONDS = 600.0


@dataclass(frozen=True, kw_only=True)
class ClipOptions:
    """What to cut: ``start`` and ``end`` in seconds of the episode (snapped to whole words).

    ``title`` names the fragment in the ID3 title (empty: its first words); ``video`` makes an
    MP4 audiogram of ``size`` x ``size`` pixels instead of an MP3.
    """

    start: float
    end: float
    title: str = ""
    video: bool = False
    size: int = SIZE


@dataclass(frozen=True)
class ClipResult:
    slug: str
    path: Path
    start: float  # the snapped range: what the file holds, in seconds of the episode
    end: float
    requested_start: float
    requested_end: float
    title: str  # the ID3 title: "episode: fragment"
    video: bool
    snapped: bool  # False when the episode has no transcript (cut at the times as given)
    words: int
    speakers: tuple[str, ...]
    loudness: float  # integrated loudness of the clip (LUFS)
    target_loudness: float  # the episode's

    @property
    def duration(self) -> float:
        return self.end - self.start


def default_name(slug: str, options: ClipOptions) -> str:
    """``klompje-goud-0m12-0m45.mp3``: the file name when none is given."""

    def part(seconds: float) -> str:
        return clock(seconds).replace(":", "m", 1).replace(":", "m")

    ext = "mp4" if options.video else "mp3"
    return f"{slug}-{part(options.start)}-{part(options.end)}.{ext}"


def _target_loudness(ws: Workspace, ep: Episode) -> float:
    measured = ep.loudness.output_i if ep.loudness is not None else None
    if measured is not None and math.isfinite(measured) and measured > SILENCE_LUFS:
        return round(measured, 1)
    return ws.settings.audio.target_lufs


@contextlib.contextmanager
def _atomic_output(output: Path) -> Iterator[Path]:
    """A temporary path next to ``output``, renamed to it when the block succeeds."""
    folder = output.parent
    if not folder.is_dir():
        raise InputError(f"de map {folder} bestaat niet")
    fd, name = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o644)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)


def _ffmpeg(args: list[str], what: str) -> None:
    run = run_ffmpeg(args)
    if run.returncode != 0:
        detail = (run.errors() or ["onbekende fout"])[-1].split("]")[-1].strip()
        raise ToolError(f"ffmpeg kon {what} niet maken ({detail})")


def _span(ws: Workspace, ep: Episode, options: ClipOptions, duration: float) -> Span:
    check_range(options.start, options.end, duration)
    transcript = load_transcript(ws, ep.slug)
    words = transcript_words(transcript) if transcript is not None else ()
    if words:
        return snap(words, options.start, options.end, duration)
    return Span(options.start, min(options.end, duration) if duration > 0 else options.end)


def clip(ws: Workspace, slug: str, options: ClipOptions, output: Path) -> ClipResult:
    """Write the part ``options.start``-``options.end`` of episode ``slug`` to ``output``."""
    ep = load_episode(ws, slug)
    audio = episode_audio(ws, ep)
    if options.video and (options.size not in SIZES or options.size % 2):
        raise InputError(
            f"de videogrootte moet een even aantal pixels tussen {SIZES.start} en "
            f"{SIZES.stop - 1} zijn, niet {options.size}"
        )
    if output.resolve() == audio.resolve():
        raise InputError("een fragment mag de aflevering zelf niet overschrijven")
    duration = ep.duration if ep.duration > 0 else probe(audio).duration
    span = _span(ws, ep, options, duration)
    if span.duration < MIN_SECONDS:
        raise InputError(f"een fragment duurt minstens {MIN_SECONDS:g} seconde")
    if options.video and span.duration > MAX_VIDEO_SECONDS:
        raise InputError(
            f"een audiogram duurt hoogstens {clock(MAX_VIDEO_SECONDS)} "
            f"(dit fragment: {clock(span.duration)})"
        )
    fragment = options.title.strip() or first_words(span.words)
    fragment = fragment or f"{clock(span.start)}–{clock(span.end)}"
    title = f"{ep.title}: {fragment}"
    target = _target_loudness(ws, ep)
    settings = replace(ws.settings.audio, target_lufs=target)
    podcast = ws.settings.podcast
    tags = {
        "title": title,
        "artist": ", ".join(span.speakers or ep.speakers) or podcast.author,
        "album": podcast.title,
        "album_artist": podcast.author,
        "date": ep.date.isoformat(),
        "comment": f"{clock(span.start)}–{clock(span.end)} uit “{ep.title}”",
        "genre": "Podcast",
    }
    with (
        tempfile.TemporaryDirectory(prefix=f"clip-{slug}.", dir=ws.tmp_dir) as tmp_name,
        _atomic_output(output) as out,
    ):
        tmp = Path(tmp_name)
        cut = tmp / "cut.wav"
        length = span.duration
        fades = f"afade=t=in:d={FADE_S},afade=t=out:st={max(0.0, length - FADE_S):.3f}:d={FADE_S}"
        _ffmpeg(
            [
                *("-ss", f"{span.start:.3f}", "-t", f"{length:.3f}", "-i", str(audio)),
                *("-map", "0:a:0", "-af", fades, "-c:a", "pcm_s16le", "-f", "wav", "-y"),
                str(cut),
            ],
            "het fragment",
        )
        info = probe(cut)
        mp3 = tmp / "clip.mp3" if options.video else out
        encoded = encode(cut, mp3, measure(cut, info, settings), settings, tags)
        if options.video:
            background = background_for(ws, ep, options.size)
            captions = None
            if span.words:
                captions = tmp / "captions.ass"
                lines = caption_lines(span.words)
                captions.write_text(
                    ass_document(lines, size=options.size, offset=span.start), encoding="utf-8"
                )
            _ffmpeg(
                audiogram_args(
                    background,
                    mp3,
                    captions,
                    out,
                    size=options.size,
                    duration=length,
                    title=title,
                ),
                "het audiogram",
            )
    return ClipResult(
        slug=slug,
        path=output,
        start=span.start,
        end=span.end,
        requested_start=options.start,
        requested_end=options.end,
        title=title,
        video=options.video,
        snapped=bool(span.words),
        words=len(span.words),
        speakers=span.speakers,
        loudness=encoded.output_i,
        target_loudness=target,
    )
