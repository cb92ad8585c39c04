"""The transcribe stage: an episode's audio -> :class:`~pipeline.core.models.Transcript` ->
``transcripts/`` (the ``transcribe`` verb).

- Resume: each finished chunk's segments go to ``.vlinder/transcribe/<slug>/chunk-NNNN.json``
  (atomically); a killed run starts again after the last finished chunk.
- Cached: see :func:`pipeline.transcribe.options.cache_key`.
- A person's transcript is not overwritten without ``force``: a file changed after Vlinder
  wrote it (see :func:`pipeline.transcribe.store.edited_files`), an imported transcript
  (``vlinder add --transcript``) and one corrected in the web app
  (:func:`pipeline.transcribe.store.protected_reason`).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipeline.catalogue import Catalogue, open_catalogue
from pipeline.core.episodes import load_episode
from pipeline.core.errors import (
    NotFoundError,
    ProtectedTranscriptError,
    TranscriptError,
    VlinderError,
)
from pipeline.core.models import Episode, Progress, Segment, Transcript
from pipeline.core.workspace import Workspace, atomic_write_text
from pipeline.transcribe.formats.readers import parse_transcript_file
from pipeline.transcribe.formats.sentences import split_sentences
from pipeline.transcribe.store import (
    edited_files,
    human_source,
    protected_reason,
    read_transcript_json,
    refresh_formats,
    transcript_data,
    transcript_from_data,
    write_transcript,
)
from pipeline.transcribe.weights.models import (
    ModelSpec,
    file_sha256,
    resolve_model,
)

from .engines import open_transcriber, release_free_memory
from .glossary import load_glossary
from .options import TranscribeOptions, cache_key
from .streaming import AudioChunk, audio_duration, stream_chunks


class ChunkState:
    """Finished chunks of one run in ``.vlinder/transcribe/<slug>/``, valid for one key."""

    def __init__(self, ws: Workspace, slug: str, key: str):
        self.dir = ws.state_dir / "transcribe" / slug
        self.key = key
        self.chunks: list[dict[str, Any]] = []
        if self.dir.exists():
            for n, path in enumerate(sorted(self.dir.glob("chunk-*.json"))):
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    break
                if data.get("key") != key or data.get("index") != n:
                    break
                self.chunks.append(data)
            if not self.chunks:
                self.clear()

    @property
    def resume_at(self) -> float:
        return float(self.chunks[-1]["end"]) if self.chunks else 0.0

    def add(self, chunk: AudioChunk, segments: list[Segment]) -> None:
        data = {
            "key": self.key,
            "index": chunk.index,
            "start": round(chunk.start, 4),
            "end": round(chunk.end, 4),
            "segments": transcript_data(Transcript("", tuple(segments)))["segments"],
        }
        atomic_write_text(self.dir / f"chunk-{chunk.index:04d}.json", json.dumps(data))
        self.chunks.append(data)

    def segments(self) -> list[Segment]:
        out: list[Segment] = []
        for data in self.chunks:
            out.extend(transcript_from_data({"segments": data["segments"]}).segments)
        return out

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass(frozen=True)
class TranscribeResult:
    slug: str
    status: str  # transcribed | cached | imported
    key: str
    segments: int
    duration: float
    resumed_chunks: int = 0
    chunks: int = 0
    elapsed: float = 0.0
    model: str = ""
    engine: str = ""
    warnings: tuple[str, ...] = field(default=())

    @property
    def rtf(self) -> float:
        return self.elapsed / self.duration if self.duration else 0.0


def episode_audio(ws: Workspace, ep: Episode) -> Path:
    path = ws.episode_dir(ep.slug) / ep.audio_file if ep.audio_file else None
    if path is None or not path.exists():
        raise NotFoundError(
            f"aflevering '{ep.slug}' heeft geen audiobestand (episodes/{ep.slug}/"
            f"{ep.audio_file or '?'}); voeg de opname opnieuw toe"
        )
    return path


def _set_stage(ws: Workspace, ep: Episode, status: str, key: str, message: str = "") -> None:
    with open_catalogue(ws) as cat:
        try:
            cat.set_stage(ep.slug, "transcribe", status, key, message)
        except sqlite3.IntegrityError:
            cat.upsert_episode(ep)  # the catalogue is an index; it may lag behind the files
            cat.set_stage(ep.slug, "transcribe", status, key, message)


def _speaker(ep: Episode) -> str | None:
    """A talk with one speaker: every segment is theirs. Otherwise unknown."""
    return ep.speakers[0] if ep.kind == "talk" and len(ep.speakers) == 1 else None


def episode_options(ws: Workspace, **overrides: Any) -> TranscribeOptions:
    return TranscribeOptions.from_settings(ws.settings.transcribe, load_glossary(ws), **overrides)


def transcribe(
    ws: Workspace,
    slug: str,
    *,
    options: TranscribeOptions | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> TranscribeResult:
    """Transcribe one episode into ``transcripts/`` (cached, resumable, keeps human edits)."""
    ep = load_episode(ws, slug)
    audio = episode_audio(ws, ep)
    opts = options or episode_options(ws)
    opts.check()
    with ws.lock(f"transcribe-{slug}"):
        spec = resolve_model(opts.model, opts.engine, ws.cache_dir)
        key = cache_key(file_sha256(audio, ws.cache_dir, audio_only=True), spec, opts)
        try:
            existing = read_transcript_json(ws, slug)
        except TranscriptError:
            existing = None
        if existing and existing.get("options", {}).get("key") == key and not force:
            refresh_formats(ws, slug, existing)
            _set_stage(ws, ep, "done", key)
            return TranscribeResult(
                slug,
                "cached",
                key,
                len(existing.get("segments", [])),
                float(existing.get("duration", 0.0)),
                model=spec.name,
                engine=opts.engine,
            )
        reason = None if force else protected_reason(ws, slug, existing)
        if reason:
            if existing:
                refresh_formats(ws, slug, existing)  # a person's words, in today's formats
            raise ProtectedTranscriptError(
                f"{reason} en wordt niet overschreven; gebruik --force om toch opnieuw te "
                "transcriberen",
                reason,
            )
        try:
            return _run(ws, ep, audio, spec, opts, key, progress)
        except VlinderError as exc:
            _set_stage(ws, ep, "failed", key, str(exc))
            raise


def _run(
    ws: Workspace,
    ep: Episode,
    audio: Path,
    spec: ModelSpec,
    opts: TranscribeOptions,
    key: str,
    progress: Progress | None,
) -> TranscribeResult:
    started = time.monotonic()
    total = ep.duration or audio_duration(audio)
    state = ChunkState(ws, ep.slug, key)
    resumed = len(state.chunks)
    transcriber = open_transcriber(opts, ws.cache_dir)
    if progress:
        progress(min(state.resume_at, total), total)
    for chunk in stream_chunks(audio, opts.chunk_seconds, state.resume_at, resumed):

        def report(done: float, chunk: AudioChunk = chunk) -> None:
            if progress:
                progress(min(chunk.start + done, total), total)

        segments = transcriber.transcribe(chunk.samples, chunk.start, opts, report)
        state.add(chunk, segments)
        release_free_memory()
        report(chunk.end - chunk.start)
    speaker = _speaker(ep)
    segments = [
        replace(seg, speaker=speaker or seg.speaker) for seg in split_sentences(state.segments())
    ]
    transcript = Transcript(
        language=opts.language,
        segments=tuple(segments),
        engine=opts.engine,
        model=spec.name,
        options={
            **opts.key_fields(),
            "device": opts.device,
            "key": key,
            "model_identity": spec.identity,
            "words_estimated": False,
        },
        duration=round(total, 3),
    )
    write_transcript(ws, ep.slug, transcript)
    state.clear()
    _set_stage(ws, ep, "done", key)
    if progress:
        progress(total, total)
    return TranscribeResult(
        ep.slug,
        "transcribed",
        key,
        len(segments),
        total,
        resumed_chunks=resumed,
        chunks=len(state.chunks),
        elapsed=time.monotonic() - started,
        model=spec.name,
        engine=opts.engine,
    )


def import_transcript(
    ws: Workspace, slug: str, path: Path, *, force: bool = False
) -> TranscribeResult:
    """Use an existing VTT/SRT/Podcasting JSON transcript instead of running Whisper."""
    ep = load_episode(ws, slug)
    transcript = parse_transcript_file(path, ws.settings.transcribe.language)
    key = "import:sha256:" + file_sha256(path)[:32]
    with ws.lock(f"transcribe-{slug}"):
        existing = None
        with contextlib.suppress(TranscriptError):
            existing = read_transcript_json(ws, slug)
        if existing and existing.get("options", {}).get("key") == key and not force:
            _set_stage(ws, ep, "done", key)
            return TranscribeResult(
                slug, "cached", key, len(existing.get("segments", [])), transcript.duration
            )
        reason = None if force else protected_reason(ws, slug, existing)
        if reason and human_source(existing) == "import" and not edited_files(ws, slug):
            reason = None  # a new import over an untouched import: what the producer asks for
        if reason:
            raise ProtectedTranscriptError(
                f"{reason} en wordt niet overschreven; gebruik --force om het te vervangen",
                reason,
            )
        speaker = _speaker(ep)
        segments = tuple(replace(s, speaker=s.speaker or speaker) for s in transcript.segments)
        transcript = replace(
            transcript,
            segments=segments,
            duration=max(ep.duration, transcript.duration),
            options={**transcript.options, "key": key},
        )
        write_transcript(ws, slug, transcript)
        _set_stage(ws, ep, "done", key)
    return TranscribeResult(
        slug, "imported", key, len(segments), transcript.duration, engine="import"
    )


def transcribe_audio(
    path: Path,
    opts: TranscribeOptions,
    cache_dir: Path,
    progress: Progress | None = None,
) -> tuple[Transcript, float]:
    """Transcribe any audio file without a workspace episode (``vlinder eval asr``).

    Returns the transcript and the seconds spent transcribing (model loading excluded).
    """
    if not path.exists():
        raise NotFoundError(f"audiobestand {path} bestaat niet")
    total = audio_duration(path)
    transcriber = open_transcriber(opts, cache_dir)
    started = time.monotonic()
    segments: list[Segment] = []
    for chunk in stream_chunks(path, opts.chunk_seconds):

        def report(done: float, chunk: AudioChunk = chunk) -> None:
            if progress:
                progress(min(chunk.start + done, total), total)

        segments.extend(transcriber.transcribe(chunk.samples, chunk.start, opts, report))
        release_free_memory()
    elapsed = time.monotonic() - started
    segments = split_sentences(segments)
    transcript = Transcript(
        language=opts.language,
        segments=tuple(segments),
        engine=opts.engine,
        model=transcriber.spec.name,
        options={**opts.key_fields(), "model_identity": transcriber.spec.identity},
        duration=round(total, 3),
    )
    return transcript, elapsed


def reindex(ws: Workspace, cat: Catalogue, ep: Episode) -> bool:
    """Restore the transcribe stage of an episode in the catalogue (``vlinder reindex``) from
    ``transcripts/<slug>.json``; False when it has no readable transcript."""
    try:
        data = read_transcript_json(ws, ep.slug)
    except TranscriptError:
        return False
    if data is None:
        return False
    options = data.get("options")
    key = str(options.get("key", "")) if isinstance(options, dict) else ""
    cat.set_stage(ep.slug, "transcribe", "done", key)
    return True
