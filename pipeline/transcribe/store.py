"""The transcript store: ``transcripts/<slug>.*`` written together, read back, and a person's
work protected.

Per episode, in ``transcripts/``:

- ``<slug>.json``: the source of truth: segments with words (start, end, text, probability),
  speaker where known, the engine, model and options used, and the cache key. It also records a
  sha256 of every file Vlinder wrote (``"written"``), so a file a producer corrected by hand is
  recognised and never overwritten without ``--force``.
- ``<slug>.vtt``, ``.srt``, ``.txt``, ``.podcast.json``, ``.html``: the formats of
  :mod:`pipeline.transcribe.formats.writers`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from pipeline.core.errors import TranscriptError
from pipeline.core.models import Segment, Transcript, Word
from pipeline.core.workspace import Workspace, atomic_write_text
from pipeline.transcribe.formats.readers import json_error, parse_transcript_file
from pipeline.transcribe.formats.writers import (
    to_html,
    to_podcast_json,
    to_srt,
    to_text,
    to_vtt,
)

FORMAT = "vlinder-transcript/1"


EXTENSIONS = ("json", "vtt", "srt", "txt", "podcast.json", "html")


def transcript_data(transcript: Transcript) -> dict[str, Any]:
    """The JSON document of a transcript (without the ``written`` hashes)."""
    return {
        "format": FORMAT,
        "language": transcript.language,
        "engine": transcript.engine,
        "model": transcript.model,
        "duration": round(transcript.duration, 3),
        "options": transcript.options,
        "segments": [
            {
                "id": seg.id,
                "start": round(seg.start, 3),
                "end": round(seg.end, 3),
                "text": seg.text,
                **({"speaker": seg.speaker} if seg.speaker else {}),
                "words": [
                    {
                        "start": round(w.start, 3),
                        "end": round(w.end, 3),
                        "text": w.text,
                        "probability": round(w.probability, 4),
                        **({"speaker": w.speaker} if w.speaker else {}),
                    }
                    for w in seg.words
                ],
            }
            for seg in transcript.segments
        ],
    }


def _canonical_hash(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "written"}
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _dump_json(data: dict[str, Any]) -> str:
    """Readable JSON: one segment field per line, one word per line."""
    dumps = json.dumps
    head = {k: v for k, v in data.items() if k not in ("segments", "written")}
    lines = ["{"]
    for k, v in head.items():
        lines.append(f"  {dumps(k)}: {dumps(v, ensure_ascii=False, sort_keys=True)},")
    lines.append('  "segments": [')
    segs = data["segments"]
    for i, seg in enumerate(segs):
        lines.append("    {")
        fields = [(k, v) for k, v in seg.items() if k != "words"]
        for k, v in fields:
            lines.append(f"      {dumps(k)}: {dumps(v, ensure_ascii=False)},")
        words = seg.get("words", [])
        if words:
            lines.append('      "words": [')
            for j, w in enumerate(words):
                comma = "," if j + 1 < len(words) else ""
                lines.append(f"        {dumps(w, ensure_ascii=False)}{comma}")
            lines.append("      ]")
        else:
            lines.append('      "words": []')
        lines.append("    }" + ("," if i + 1 < len(segs) else ""))
    lines.append("  ],")
    lines.append(f'  "written": {dumps(data.get("written", {}), sort_keys=True)}')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(transcript: Transcript) -> dict[str, str]:
    """Every output file's text, by extension (``json`` last, with the hashes of the others)."""
    files = {
        "vtt": to_vtt(transcript),
        "srt": to_srt(transcript),
        "txt": to_text(transcript),
        "podcast.json": to_podcast_json(transcript),
        "html": to_html(transcript),
    }
    written = {ext: _sha(text) for ext, text in files.items()}
    data = transcript_data(transcript)
    written["json"] = _canonical_hash(data)
    data["written"] = written
    files["json"] = _dump_json(data)
    return files


#: What the public copy of ``<slug>.json`` keeps: the text and its timings, not how it was
#: made (the glossary prompt, engine options, model paths, the hashes of the other files).
PUBLIC_KEYS = ("format", "language", "duration", "segments")


def public_json(text: str) -> str:
    """The public version of a ``transcripts/<slug>.json`` (the site's download)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    public = {k: data[k] for k in PUBLIC_KEYS if k in data}
    return json.dumps(public, ensure_ascii=False, separators=(",", ":")) + "\n"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def refresh_formats(ws: Workspace, slug: str, data: dict[str, Any]) -> bool:
    """Write the formats again from the JSON ``data`` when one is missing or this version of
    Vlinder writes it differently (a new format, SRT's shorter lines), unless a file was
    edited by hand. True when they were written."""
    if edited_files(ws, slug):
        return False
    transcript = transcript_from_data(data, f"transcripts/{slug}.json")
    recorded = data.get("written") or {}
    fresh = {ext: _sha(text) for ext, text in render(transcript).items() if ext != "json"}
    if all(
        recorded.get(ext) == sha and ws.transcript_path(slug, ext).exists()
        for ext, sha in fresh.items()
    ):
        return False
    write_transcript(ws, slug, transcript)
    return True


def write_transcript(ws: Workspace, slug: str, transcript: Transcript) -> list[Path]:
    """Write all formats (each atomically; the JSON, which vouches for the others, last)."""
    files = render(transcript)
    paths = []
    for ext in (*(e for e in EXTENSIONS if e != "json"), "json"):
        path = ws.transcript_path(slug, ext)
        atomic_write_text(path, files[ext])
        paths.append(path)
    return paths


def _read_json(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise json_error(path, exc) from exc
    if not isinstance(data, dict):
        raise TranscriptError(f"{path}, regel 1: verwacht een JSON-object")
    return data


def transcript_from_data(data: dict[str, Any], origin: str = "transcript") -> Transcript:
    try:
        segments = []
        for i, s in enumerate(data["segments"]):
            words = tuple(
                Word(
                    float(w["start"]),
                    float(w["end"]),
                    str(w["text"]),
                    float(w.get("probability", 1.0)),
                    w.get("speaker") or None,
                )
                for w in s.get("words", [])
            )
            segments.append(
                Segment(
                    id=int(s.get("id", i)),
                    start=float(s["start"]),
                    end=float(s["end"]),
                    text=str(s["text"]),
                    words=words,
                    speaker=s.get("speaker") or None,
                )
            )
        return Transcript(
            language=str(data.get("language", "nl")),
            segments=tuple(segments),
            engine=str(data.get("engine", "")),
            model=str(data.get("model", "")),
            options=dict(data.get("options", {})),
            duration=float(data.get("duration", 0.0)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise TranscriptError(f"{origin}: onvolledig of ongeldig transcript ({exc})") from exc


def edited_files(ws: Workspace, slug: str) -> list[str]:
    """The transcript files of ``slug`` that Vlinder did not write as they are now.

    A file that is missing is not an edit. A JSON file that is unreadable, or any file without a
    JSON to vouch for it, counts as edited (better safe than overwriting a producer's work).
    """
    json_path = ws.transcript_path(slug, "json")
    present = [ext for ext in EXTENSIONS if ws.transcript_path(slug, ext).exists()]
    if "json" not in present:
        return present
    try:
        data = _read_json(json_path)
    except (TranscriptError, UnicodeDecodeError):
        return present
    written = data.get("written")
    if not isinstance(written, dict):
        return present
    edited = []
    if written.get("json") != _canonical_hash(data):
        edited.append("json")
    for ext in present:
        if ext == "json":
            continue
        text = ws.transcript_path(slug, ext).read_bytes()
        if hashlib.sha256(text).hexdigest() != written.get(ext):
            edited.append(ext)
    return edited


HUMAN_EDITED = "human_edited"  # options flag of a transcript a person corrected in the web app


def human_source(data: dict[str, Any] | None) -> str | None:
    """Whether a transcript's JSON is a person's work: ``"import"`` (``vlinder add
    --transcript``), ``"edited"`` (corrected in the producer web app), or None (Whisper's)."""
    if not data:
        return None
    options = data.get("options")
    # "corrected": what the web app wrote before it used save_corrected_transcript
    if isinstance(options, dict) and (options.get(HUMAN_EDITED) or options.get("corrected")):
        return "edited"
    if data.get("engine") == "import":
        return "import"
    return None


def protected_reason(ws: Workspace, slug: str, data: dict[str, Any] | None = None) -> str | None:
    """Why the transcript of ``slug`` must not be replaced without ``--force`` (Dutch), or None.

    Files changed by hand after Vlinder wrote them (:func:`edited_files`), an imported
    transcript, and one corrected in the web app are a person's work.
    """
    edited = edited_files(ws, slug)
    if edited:
        return f"transcripts/{slug}.{edited[0]} is met de hand bewerkt"
    if data is None:
        try:
            data = read_transcript_json(ws, slug)
        except TranscriptError:
            return f"transcripts/{slug}.json is onleesbaar"
    source = human_source(data)
    if source == "import":
        return f"transcripts/{slug}.json is een geïmporteerd (menselijk) transcript"
    if source == "edited":
        return f"transcripts/{slug}.json is met de hand verbeterd (in de webapp)"
    return None


def save_corrected_transcript(ws: Workspace, slug: str, transcript: Transcript) -> list[Path]:
    """Write a transcript that a person corrected (the producer web app) as a human edit.

    The JSON gets ``options["human_edited"] = true``: re-transcribing (another model, other
    options) keeps it unless ``--force``. Every format is written again, so the corrections
    reach the VTT, SRT, text and Podcasting JSON too.
    """
    options = {**transcript.options, HUMAN_EDITED: True}
    options.pop("edited", None)  # load_transcript's in-memory note; the files now agree
    return write_transcript(ws, slug, replace(transcript, options=options))


def read_transcript_json(ws: Workspace, slug: str) -> dict[str, Any] | None:
    path = ws.transcript_path(slug, "json")
    if not path.exists():
        return None
    return _read_json(path)


def load_transcript(ws: Workspace, slug: str) -> Transcript | None:
    """The transcript of an episode, or None when it has none yet.

    A producer's correction wins: when the VTT was edited by hand and the JSON was not, the
    transcript is read from the VTT (words re-estimated within each cue).
    """
    json_path = ws.transcript_path(slug, "json")
    vtt_path = ws.transcript_path(slug, "vtt")
    if not json_path.exists():
        if vtt_path.exists():
            return parse_transcript_file(vtt_path)
        return None
    data = _read_json(json_path)
    transcript = transcript_from_data(data, str(json_path))
    edited = edited_files(ws, slug)
    if "vtt" in edited and "json" not in edited:
        from_vtt = parse_transcript_file(vtt_path)
        options = {**transcript.options, **from_vtt.options, "edited": "vtt"}
        return replace(
            from_vtt,
            language=transcript.language,
            duration=transcript.duration,
            engine=transcript.engine,
            model=transcript.model,
            options=options,
        )
    return transcript
