"""The diarize stage: who speaks when, in the transcript of an interview or a panel (the
``diarize`` verb).

It runs after transcription when an episode has two or more ``--speaker`` names, a
``--speakers N`` count, or is an interview or panel (then the count is estimated, 2 to 6);
with one speaker nothing runs (a talk's speaker is set by the transcribe stage). Names are
given in order of first appearance: the first person heard gets the first name, the next
new voice the second, and so on; voices without a name are ``Spreker N``.

- The turns (who speaks when) are kept in ``transcripts/<slug>.speakers.json``, keyed on the
  audio, the count and the method: running again reuses them.
- Every segment and word of the transcript gets its speaker; a segment is split where the
  speaker changes, and its times widen to its speaker's turn (:mod:`.assign`). The transcript
  is written again in every format.
- The producer's corrections (``[[speaker_overrides]]``, :mod:`.overrides`) are applied last
  and survive every re-run.
- A transcript changed by hand outside Vlinder is not rewritten; an imported transcript whose
  file named its speakers (``<v Name>``) keeps them (corrections still apply).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, replace
from typing import Any

from pipeline.catalogue import Catalogue, open_catalogue
from pipeline.core.episodes import load_episode
from pipeline.core.errors import NotFoundError, TranscriptError
from pipeline.core.models import Episode, Segment, Transcript
from pipeline.core.workspace import Workspace, atomic_write_text
from pipeline.transcribe.store import (
    edited_files,
    read_transcript_json,
    transcript_from_data,
    write_transcript,
)
from pipeline.transcribe.streaming import stream_chunks
from pipeline.transcribe.weights.models import file_sha256

from .assign import assign_speakers, speaker_name
from .clustering import Diarization, Turn
from .labels import SpeakerOptions, diarize_audio, speaker_count
from .overrides import apply_speaker_overrides, parse_speaker_overrides

#: Bump when the turns change for the same audio (the turns are found again).
METHOD_VERSION = "ge2e-lda-1"
#: A named speaker with less speech than this is reported as not found.
MIN_SPEECH_S = 2.0


@dataclass(frozen=True)
class DiarizeResult:
    slug: str
    status: str  # labelled | cached | single (one speaker) | kept (a person's transcript)
    names: tuple[str, ...] = ()  # the speakers heard, in order of first appearance
    estimated: bool = False  # the count was estimated
    turns: int = 0
    seconds: float = 0.0
    heard: int = 0  # how many voices were heard (estimated, also when the count was given)
    missing: tuple[str, ...] = ()  # names given that got (almost) no speech
    reason: str = ""  # why a transcript was kept


def _turns_key(audio_sha: str, count: int | None) -> str:
    return f"{METHOD_VERSION}:{audio_sha[:24]}:{count if count is not None else 'auto'}"


def _read_turns(ws: Workspace, slug: str, key: str) -> Diarization | None:
    path = ws.transcript_path(slug, "speakers.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        turns = tuple(Turn(float(a), float(b), int(s)) for a, b, s in data["turns"])
        estimated = bool(data["estimated"])
        return Diarization(turns, int(data["speakers"]), estimated, int(data.get("heard", 0)))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or broken: found again


def _write_turns(ws: Workspace, slug: str, key: str, result: Diarization) -> None:
    data = {
        "key": key,
        "speakers": result.speakers,
        "estimated": result.estimated,
        "heard": result.heard,
        "turns": [[round(t.start, 3), round(t.end, 3), t.speaker] for t in result.turns],
    }
    atomic_write_text(ws.transcript_path(slug, "speakers.json"), json.dumps(data) + "\n")


def _find_turns(
    ws: Workspace, ep: Episode, count: int | None, force: bool
) -> tuple[str, Diarization, bool]:
    """The turns of the episode's audio (from the turns file when up to date, unless
    ``force``), and whether they came from that file."""
    audio = ws.episode_dir(ep.slug) / ep.audio_file if ep.audio_file else None
    if audio is None or not audio.exists():
        raise NotFoundError(f"aflevering '{ep.slug}' heeft geen audiobestand")
    key = _turns_key(file_sha256(audio, ws.cache_dir, audio_only=True), count)
    found = None if force else _read_turns(ws, ep.slug, key)
    if found is not None:
        return key, found, True
    blocks = (chunk.samples for chunk in stream_chunks(audio, 180.0))
    found = diarize_audio(blocks, count, SpeakerOptions(), cache_dir=ws.cache_dir)
    _write_turns(ws, ep.slug, key, found)
    return key, found, False


def _speech(segments: list[Segment]) -> dict[str, float]:
    out: dict[str, float] = {}
    for seg in segments:
        if seg.speaker:
            out[seg.speaker] = out.get(seg.speaker, 0.0) + seg.end - seg.start
    return out


def _without_diarization(ep: Episode, transcript: Transcript) -> str | None:
    """``single`` (one speaker: nothing to find), ``file`` (an imported transcript that names
    its speakers), or None (diarize)."""
    if speaker_count(ep.speakers, ep.speaker_count, ep.kind) == 1:
        return "single"
    if transcript.engine == "import" and any(s.speaker for s in transcript.segments):
        return "file"
    return None


def _apply_key(*parts: Any) -> str:
    blob = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _set_stage(ws: Workspace, ep: Episode, key: str) -> None:
    with open_catalogue(ws) as cat:
        cat.upsert_episode(ep)
        cat.set_stage(ep.slug, "diarize", "done", key)


def diarize(ws: Workspace, slug: str, *, force: bool = False) -> DiarizeResult:
    """Give every segment and word of an episode's transcript its speaker (see the module)."""
    started = time.monotonic()
    ep = load_episode(ws, slug)
    corrections = parse_speaker_overrides(ep.overrides, str(ws.episode_file(slug)))
    data = read_transcript_json(ws, slug)
    if data is None:
        raise NotFoundError(
            f"aflevering '{slug}' heeft nog geen transcript (draai eerst `vlinder transcribe {slug}`)"
        )
    transcript = transcript_from_data(data, str(ws.transcript_path(slug, "json")))
    edited = edited_files(ws, slug)
    if edited:
        reason = f"transcripts/{slug}.{edited[0]} is met de hand bewerkt"
        return DiarizeResult(slug, "kept", reason=reason)
    without = _without_diarization(ep, transcript)
    if without is not None:  # one speaker, or the speakers named by an imported file
        segments = list(transcript.segments)
        key = without
        if corrections:
            segments = apply_speaker_overrides(segments, corrections)
            key = _apply_key(without, corrections)
            _write_if_changed(ws, slug, transcript, segments, key)
        _set_stage(ws, ep, key)
        status = "single" if without == "single" else "kept"
        return DiarizeResult(slug, status, names=tuple(_speech(segments)))
    count = speaker_count(ep.speakers, ep.speaker_count, ep.kind)
    turns_key, found, cached_turns = _find_turns(ws, ep, count, force)
    names = tuple(speaker_name(i, ep.speakers) for i in range(found.speakers))
    unlabelled = [replace(s, speaker=None) for s in transcript.segments]
    labelled = assign_speakers(unlabelled, found.turns, names)
    segments = apply_speaker_overrides(labelled, corrections)
    key = _apply_key(turns_key, names, corrections, transcript.options.get("key", ""))
    changed = _write_if_changed(ws, slug, transcript, segments, key)
    _set_stage(ws, ep, key)
    speech = _speech(segments)
    heard = tuple(n for n in dict.fromkeys(s.speaker for s in segments if s.speaker))
    return DiarizeResult(
        slug,
        "labelled" if changed or not cached_turns else "cached",
        names=heard,
        estimated=found.estimated,
        turns=len(found.turns),
        heard=found.heard,
        seconds=time.monotonic() - started,
        missing=tuple(n for n in ep.speakers if speech.get(n, 0.0) < MIN_SPEECH_S),
    )


def _write_if_changed(
    ws: Workspace, slug: str, transcript: Transcript, segments: list[Segment], key: str
) -> bool:
    """Write the transcript with these segments (every word with its segment's speaker)
    unless it already has them (the same key)."""
    options = dict(transcript.options)
    if options.get("speakers_key") == key:
        return False
    options["speakers_key"] = key
    labelled = tuple(
        replace(s, id=i, words=tuple(replace(w, speaker=s.speaker) for w in s.words))
        for i, s in enumerate(segments)
    )
    write_transcript(ws, slug, replace(transcript, segments=labelled, options=options))
    return True


def reindex(ws: Workspace, cat: Catalogue, ep: Episode) -> bool:
    """Restore the diarize stage in the catalogue (``vlinder reindex``) from the transcript."""
    try:
        data = read_transcript_json(ws, ep.slug)
    except TranscriptError:
        return False
    if data is None:
        return False
    transcript = transcript_from_data(data, str(ws.transcript_path(ep.slug, "json")))
    key = transcript.options.get("speakers_key") or _without_diarization(ep, transcript)
    if not key:
        return False
    cat.set_stage(ep.slug, "diarize", "done", str(key))
    return True
