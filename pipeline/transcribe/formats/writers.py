"""Every transcript format podcast apps read, as text: WebVTT, SRT, plain text, Podcasting 2.0 JSON."""

from __future__ import annotations

import json
from typing import Any

from pipeline.core.models import Transcript
from pipeline.core.timefmt import cue_time

from .cues import cues
from .sentences import _SENTENCE_END


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(transcript: Transcript) -> str:
    parts = ["WEBVTT", ""]
    for cue in cues(transcript):
        lines = [_vtt_escape(line) for line in cue.lines]
        if cue.speaker:
            lines[0] = f"<v {_vtt_escape(cue.speaker)}>{lines[0]}"
        parts += [f"{cue_time(cue.start)} --> {cue_time(cue.end)}", *lines, ""]
    return "\n".join(parts)


def to_srt(transcript: Transcript) -> str:
    """SubRip; where the speaker changes, the cue starts with ``Name:``."""
    parts: list[str] = []
    last: str | None = None
    for n, cue in enumerate(cues(transcript), start=1):
        lines = list(cue.lines)
        if cue.speaker and cue.speaker != last:
            lines[0] = f"{cue.speaker}: {lines[0]}"
        last = cue.speaker
        parts += [str(n), f"{cue_time(cue.start, ',')} --> {cue_time(cue.end, ',')}", *lines, ""]
    return "\n".join(parts)


def to_text(transcript: Transcript) -> str:
    """Paragraphs: a new one at a change of speaker, a pause of 2 s, or ~600 characters."""
    paragraphs: list[tuple[str | None, list[str]]] = []
    prev_end = None
    for seg in transcript.segments:
        text = seg.text.strip()
        if not text:
            continue
        if paragraphs:
            speaker, texts = paragraphs[-1]
            length = sum(len(t) + 1 for t in texts)
            long_enough = length > 600 and texts[-1].endswith(_SENTENCE_END)
            pause = prev_end is not None and seg.start - prev_end >= 2.0
            if speaker == seg.speaker and not long_enough and not pause:
                texts.append(text)
                prev_end = seg.end
                continue
        paragraphs.append((seg.speaker, [text]))
        prev_end = seg.end
    out: list[str] = []
    last_speaker: str | None = None
    for speaker, texts in paragraphs:
        body = " ".join(texts)
        if speaker and speaker != last_speaker:
            body = f"{speaker}: {body}"
        last_speaker = speaker
        out.append(body)
    return "\n\n".join(out) + ("\n" if out else "")


def to_podcast_json(transcript: Transcript) -> str:
    """The Podcasting 2.0 JSON transcript (podcastindex.org ``podcast:transcript``)."""
    segments: list[dict[str, Any]] = []
    for seg in transcript.segments:
        if not seg.text.strip():
            continue
        item: dict[str, Any] = {
            "startTime": round(seg.start, 3),
            "endTime": round(seg.end, 3),
            "body": seg.text.strip(),
        }
        if seg.speaker:
            item["speaker"] = seg.speaker
        segments.append(item)
    return json.dumps({"version": "1.0.0", "segments": segments}, ensure_ascii=False, indent=1)
