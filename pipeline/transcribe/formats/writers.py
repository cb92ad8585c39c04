"""Every transcript format podcast apps read, as text: WebVTT, SRT, plain text, Podcasting 2.0
JSON, and the spec's HTML transcript (``<cite>``, ``<time>``, ``<p>``)."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

from pipeline.core.models import Transcript
from pipeline.core.timefmt import clock, cue_time

from .cues import SRT_MAX_LINE, cues
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
    for n, cue in enumerate(cues(transcript, SRT_MAX_LINE, label_turns=True), start=1):
        parts += [
            str(n),
            f"{cue_time(cue.start, ',')} --> {cue_time(cue.end, ',')}",
            *cue.lines,
            "",
        ]
    return "\n".join(parts)


def _paragraphs(transcript: Transcript) -> Iterator[tuple[str | None, float, str]]:
    """(speaker, start, text) per paragraph: a new one at a change of speaker, a pause of 2 s,
    or ~600 characters."""
    paragraphs: list[tuple[str | None, float, list[str]]] = []
    prev_end = None
    for seg in transcript.segments:
        text = seg.text.strip()
        if not text:
            continue
        if paragraphs:
            speaker, _, texts = paragraphs[-1]
            length = sum(len(t) + 1 for t in texts)
            long_enough = length > 600 and texts[-1].endswith(_SENTENCE_END)
            pause = prev_end is not None and seg.start - prev_end >= 2.0
            if speaker == seg.speaker and not long_enough and not pause:
                texts.append(text)
                prev_end = seg.end
                continue
        paragraphs.append((seg.speaker, seg.start, [text]))
        prev_end = seg.end
    for speaker, start, texts in paragraphs:
        yield speaker, start, " ".join(texts)


def to_text(transcript: Transcript) -> str:
    """Paragraphs (:func:`_paragraphs`), the speaker's name where the speaker changes."""
    out: list[str] = []
    last_speaker: str | None = None
    for speaker, _, body in _paragraphs(transcript):
        if speaker and speaker != last_speaker:
            body = f"{speaker}: {body}"
        last_speaker = speaker
        out.append(body)
    return "\n\n".join(out) + ("\n" if out else "")


def _duration(seconds: float) -> str:
    """A valid HTML duration string for ``<time datetime>``: ``'PT1H2M3S'``."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + f"{secs}S"


def to_html(transcript: Transcript) -> str:
    """The Podcasting 2.0 HTML transcript: per paragraph ``<cite>`` (the speaker, where the
    speaker changes), ``<time>`` (its start) and ``<p>`` (what was said), in a complete,
    valid HTML document."""
    lang = html.escape(transcript.language or "nl")
    parts = [
        "<!doctype html>",
        f'<html lang="{lang}">',
        '<head>\n<meta charset="utf-8">\n<title>Transcript</title>\n</head>',
        "<body>",
    ]
    last_speaker: str | None = None
    for speaker, start, body in _paragraphs(transcript):
        if speaker and speaker != last_speaker:
            parts.append(f"<cite>{html.escape(speaker)}:</cite>")
        last_speaker = speaker
        parts.append(f'<time datetime="{_duration(start)}">{clock(start)}</time>')
        parts.append(f"<p>{html.escape(body, quote=False)}</p>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


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
