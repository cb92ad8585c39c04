"""Transcript files: write every format podcast apps read, read them back, import others.

Per episode, in ``transcripts/``:

- ``<slug>.json``: the source of truth: segments with words (start, end, text, probability),
  speaker where known, the engine, model and options used, and the cache key. It also records a
  sha256 of every file Vlinder wrote (``"written"``), so a file a producer corrected by hand is
  recognised and never overwritten without ``--force``.
- ``<slug>.vtt``: WebVTT, cues of at most 2 lines of at most 42 characters, ``<v Name>`` voice
  tags where the speaker is known.
- ``<slug>.srt``: SubRip, the same cues.
- ``<slug>.txt``: plain text in paragraphs.
- ``<slug>.podcast.json``: the Podcasting 2.0 JSON transcript
  (``{"version": "1.0.0", "segments": [{"startTime", "endTime", "body", "speaker"}]}``).

Import (``vlinder add --transcript``) reads WebVTT, SRT and Podcasting 2.0 JSON; a malformed file
raises :class:`TranscriptError` naming the line. Imported cues have no word timings, so words
get timings spread evenly (by length) over their cue; ``options["words_estimated"]`` says so.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import TranscriptError
from .models import Segment, Transcript, Word
from .workspace import Workspace, atomic_write_text

FORMAT = "vlinder-transcript/1"
EXTENSIONS = ("json", "vtt", "srt", "txt", "podcast.json")
MAX_LINE = 42
MAX_LINES = 2
_SENTENCE_END = (".", "?", "!", "…", '."', '?"', '!"')


# --- rendering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    lines: tuple[str, ...]
    speaker: str | None = None


def _word_items(seg: Segment) -> list[tuple[str, float, float]]:
    if seg.words:
        return [(w.text.strip(), w.start, w.end) for w in seg.words if w.text.strip()]
    return [(w.text, w.start, w.end) for w in estimate_words(seg.text, seg.start, seg.end)]


def wrap(words: Sequence[str], width: int = MAX_LINE) -> list[str]:
    """Greedy line filling; a word longer than ``width`` is cut into pieces."""
    lines: list[str] = []
    current = ""
    for word in words:
        pieces = [word[i : i + width] for i in range(0, len(word), width)] or [""]
        for piece in pieces:
            if not current:
                current = piece
            elif len(current) + 1 + len(piece) <= width:
                current += " " + piece
            else:
                lines.append(current)
                current = piece
    if current:
        lines.append(current)
    return lines


def _balanced(words: Sequence[str]) -> list[str]:
    """Two lines of about equal length where that still fits (easier to read than greedy)."""
    lines = wrap(words)
    if len(lines) != 2:
        return lines
    best = lines
    best_diff = abs(len(lines[0]) - len(lines[1]))
    for cut in range(1, len(words)):
        a, b = " ".join(words[:cut]), " ".join(words[cut:])
        if len(a) <= MAX_LINE and len(b) <= MAX_LINE and abs(len(a) - len(b)) < best_diff:
            best, best_diff = [a, b], abs(len(a) - len(b))
    return best


def cues(transcript: Transcript) -> list[Cue]:
    """Subtitle cues: at most 2 lines of at most 42 characters, never across segments."""
    out: list[Cue] = []
    for seg in transcript.segments:
        items = _word_items(seg)
        group: list[tuple[str, float, float]] = []

        def flush(group: list[tuple[str, float, float]] = group, seg: Segment = seg) -> None:
            if group:
                lines = _balanced([g[0] for g in group])
                out.append(Cue(group[0][1], group[-1][2], tuple(lines), seg.speaker))
                group.clear()

        for item in items:
            candidate = [g[0] for g in group] + [item[0]]
            if group and len(wrap(candidate)) > MAX_LINES:
                flush()
            group.append(item)
            # a sentence end in the second half of a full cue is a good place to break
            if item[0].endswith(_SENTENCE_END) and len(" ".join(g[0] for g in group)) > MAX_LINE:
                flush()
        flush()
    # times: increasing, no overlap, never empty
    fixed: list[Cue] = []
    for i, cue in enumerate(out):
        start = max(cue.start, fixed[-1].end if fixed else 0.0)
        end = max(cue.end, start + 0.1)
        if i + 1 < len(out):
            end = min(end, max(out[i + 1].start, start + 0.1))
        fixed.append(replace(cue, start=round(start, 3), end=round(end, 3)))
    return fixed


def _ts(seconds: float, sep: str = ".") -> str:
    ms = round(max(seconds, 0.0) * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(transcript: Transcript) -> str:
    parts = ["WEBVTT", ""]
    for cue in cues(transcript):
        lines = [_vtt_escape(line) for line in cue.lines]
        if cue.speaker:
            lines[0] = f"<v {_vtt_escape(cue.speaker)}>{lines[0]}"
        parts += [f"{_ts(cue.start)} --> {_ts(cue.end)}", *lines, ""]
    return "\n".join(parts)


def to_srt(transcript: Transcript) -> str:
    parts: list[str] = []
    for n, cue in enumerate(cues(transcript), start=1):
        parts += [str(n), f"{_ts(cue.start, ',')} --> {_ts(cue.end, ',')}", *cue.lines, ""]
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
    }
    written = {ext: _sha(text) for ext, text in files.items()}
    data = transcript_data(transcript)
    written["json"] = _canonical_hash(data)
    data["written"] = written
    files["json"] = _dump_json(data)
    return files


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_transcript(ws: Workspace, slug: str, transcript: Transcript) -> list[Path]:
    """Write all formats (each atomically; the JSON, which vouches for the others, last)."""
    files = render(transcript)
    paths = []
    for ext in ("vtt", "srt", "txt", "podcast.json", "json"):
        path = ws.transcript_path(slug, ext)
        atomic_write_text(path, files[ext])
        paths.append(path)
    return paths


# --- reading back ------------------------------------------------------------------------------


def _json_error(path: Path | str, exc: json.JSONDecodeError) -> TranscriptError:
    return TranscriptError(f"{path}, regel {exc.lineno}: geen geldige JSON ({exc.msg})")


def _read_json(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(path, exc) from exc
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


class ProtectedTranscriptError(TranscriptError):
    """A person's transcript (imported, or corrected by hand): not replaced without --force."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason or message


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


# --- import ----------------------------------------------------------------------------------

_WORD_RE = re.compile(r"\S+")


def estimate_words(text: str, start: float, end: float) -> tuple[Word, ...]:
    """Words of ``text`` with timings spread over [start, end] in proportion to their length.

    Estimated words get probability 0.0, so nothing mistakes them for measured ones.
    """
    tokens = _WORD_RE.findall(text)
    if not tokens:
        return ()
    weights = [len(t) + 1 for t in tokens]
    total = sum(weights)
    span = max(end - start, 0.0)
    words = []
    t = start
    for token, weight in zip(tokens, weights, strict=True):
        dt = span * weight / total
        words.append(Word(round(t, 3), round(t + dt, 3), token, 0.0))
        t += dt
    return tuple(words)


_TS_VTT = r"(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})"
_TS_SRT = r"(\d+):([0-5]\d):([0-5]\d)[,.](\d{1,3})"
_TIMING_VTT = re.compile(rf"^\s*{_TS_VTT}\s+-->\s+{_TS_VTT}(?:\s+.*)?$")
_TIMING_SRT = re.compile(rf"^\s*{_TS_SRT}\s+-->\s+{_TS_SRT}(?:\s+.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>")


def _seconds(h: str | None, m: str, s: str, frac: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def _blocks(lines: Sequence[str], first: int) -> Iterable[tuple[int, list[str]]]:
    """Runs of non-blank lines with the (1-based) number of their first line."""
    block: list[str] = []
    start = first
    for n, line in enumerate(lines[first - 1 :], start=first):
        if line.strip():
            if not block:
                start = n
            block.append(line)
        elif block:
            yield start, block
            block = []
    if block:
        yield start, block


def _cue_segment(
    origin: str,
    line_no: int,
    timing: re.Match[str],
    text_lines: list[str],
    index: int,
    vtt: bool,
) -> Segment | None:
    g = timing.groups()
    start = _seconds(*g[0:4])
    end = _seconds(*g[4:8])
    if end < start:
        raise TranscriptError(f"{origin}, regel {line_no}: eindtijd ligt vóór begintijd")
    for k, line in enumerate(text_lines, start=1):
        if "-->" in line:
            raise TranscriptError(
                f"{origin}, regel {line_no + k}: tijdcode in de tekst; "
                "ontbreekt er een lege regel tussen twee cues?"
            )
    raw = " ".join(line.strip() for line in text_lines)
    speaker = None
    if vtt:
        voice = _VOICE.search(raw)
        if voice:
            speaker = html.unescape(voice.group(1).strip())
    text = html.unescape(_TAG.sub("", raw)).replace("\u00a0", " ")
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return None
    return Segment(
        id=index,
        start=start,
        end=end,
        text=text,
        words=estimate_words(text, start, end),
        speaker=speaker,
    )


def parse_vtt(text: str, origin: str = "transcript.vtt") -> list[Segment]:
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or not re.match(r"^WEBVTT(?:[ \t].*)?$", lines[0]):
        raise TranscriptError(f"{origin}, regel 1: een WebVTT-bestand begint met 'WEBVTT'")
    # the header runs to the first blank line
    first = next((n for n, line in enumerate(lines, start=1) if not line.strip()), len(lines) + 1)
    segments: list[Segment] = []
    for start, block in _blocks(lines, first):
        head = block[0].strip()
        if head.startswith(("NOTE", "STYLE", "REGION")) and "-->" not in head:
            continue
        if "-->" in block[0]:
            timing_at = 0
        elif len(block) > 1 and "-->" in block[1]:
            timing_at = 1
        else:
            raise TranscriptError(
                f"{origin}, regel {start}: geen tijdcode gevonden "
                "(verwacht bijv. 00:00:01.000 --> 00:00:04.000)"
            )
        line_no = start + timing_at
        match = _TIMING_VTT.match(block[timing_at])
        if not match:
            raise TranscriptError(
                f"{origin}, regel {line_no}: ongeldige tijdcode '{block[timing_at].strip()}' "
                "(verwacht bijv. 00:00:01.000 --> 00:00:04.000)"
            )
        seg = _cue_segment(origin, line_no, match, block[timing_at + 1 :], len(segments), True)
        if seg:
            segments.append(seg)
    return segments


def parse_srt(text: str, origin: str = "transcript.srt") -> list[Segment]:
    lines = text.lstrip("\ufeff").splitlines()
    segments: list[Segment] = []
    for start, block in _blocks(lines, 1):
        timing_at = 0
        if "-->" not in block[0]:
            if not block[0].strip().isdigit():
                raise TranscriptError(
                    f"{origin}, regel {start}: verwacht een volgnummer of een tijdcode, "
                    f"niet '{block[0].strip()[:40]}'"
                )
            timing_at = 1
            if len(block) < 2:
                raise TranscriptError(f"{origin}, regel {start}: cue zonder tijdcode")
        line_no = start + timing_at
        match = _TIMING_SRT.match(block[timing_at])
        if not match:
            raise TranscriptError(
                f"{origin}, regel {line_no}: ongeldige tijdcode '{block[timing_at].strip()}' "
                "(verwacht bijv. 00:00:01,000 --> 00:00:04,000)"
            )
        seg = _cue_segment(origin, line_no, match, block[timing_at + 1 :], len(segments), False)
        if seg:
            segments.append(seg)
    if not segments and text.strip():
        raise TranscriptError(f"{origin}, regel 1: geen ondertitels gevonden")
    return segments


def _array_item_lines(text: str, key: str) -> list[int]:
    """Line numbers where each element of the top-level array ``key`` starts."""
    match = re.search(rf'"{re.escape(key)}"\s*:\s*\[', text)
    if not match:
        return []
    decoder = json.JSONDecoder()
    pos = match.end()
    lines: list[int] = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return lines
        lines.append(text.count("\n", 0, pos) + 1)
        try:
            _, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError:
            return lines


def parse_podcast_json(text: str, origin: str = "transcript.json") -> list[Segment]:
    text = text.lstrip("\ufeff")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _json_error(origin, exc) from exc
    if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
        raise TranscriptError(
            f"{origin}, regel 1: verwacht een Podcasting 2.0-transcript "
            '({"version": "1.0.0", "segments": [...]})'
        )
    item_lines = _array_item_lines(text, "segments")
    segments: list[Segment] = []
    prev_speaker: str | None = None
    for i, item in enumerate(data["segments"]):
        line = item_lines[i] if i < len(item_lines) else 1
        if not isinstance(item, dict):
            raise TranscriptError(f"{origin}, regel {line}: segment {i + 1} is geen object")
        missing = [k for k in ("startTime", "endTime", "body") if k not in item]
        if missing:
            raise TranscriptError(f"{origin}, regel {line}: segment {i + 1} mist '{missing[0]}'")
        start, end, body = item["startTime"], item["endTime"], item["body"]
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (start, end))
        if not numbers:
            raise TranscriptError(
                f"{origin}, regel {line}: startTime en endTime moeten getallen (seconden) zijn"
            )
        if end < start:
            raise TranscriptError(f"{origin}, regel {line}: endTime ligt vóór startTime")
        if not isinstance(body, str):
            raise TranscriptError(f"{origin}, regel {line}: body moet tekst zijn")
        speaker = item.get("speaker")
        speaker = str(speaker).strip() if speaker else prev_speaker
        prev_speaker = speaker
        body = re.sub(r"\s+", " ", body).strip()
        if not body:
            continue
        words = _WORD_RE.findall(body)
        measured = len(words) == 1
        segments.append(
            Segment(
                id=len(segments),
                start=float(start),
                end=float(end),
                text=body,
                words=(Word(float(start), float(end), body, 1.0),)
                if measured
                else estimate_words(body, float(start), float(end)),
                speaker=speaker,
            )
        )
    return segments


def merge_sentences(segments: Sequence[Segment], max_chars: int = 300) -> list[Segment]:
    """Join cues that continue a sentence (same speaker, short gap) into one segment.

    Subtitle cues and word-level Podcasting segments break mid-sentence; later stages
    (segmentation, tagging) want sentences.
    """
    out: list[Segment] = []
    for seg in segments:
        if out:
            prev = out[-1]
            continues = not prev.text.rstrip().endswith(_SENTENCE_END)
            if (
                continues
                and prev.speaker == seg.speaker
                and seg.start - prev.end < 1.5
                and len(prev.text) + len(seg.text) < max_chars
            ):
                out[-1] = replace(
                    prev,
                    end=max(prev.end, seg.end),
                    text=f"{prev.text} {seg.text}",
                    words=prev.words + seg.words,
                )
                continue
        out.append(replace(seg, id=len(out)))
    return out


def split_sentences(segments: Sequence[Segment], max_words: int = 40) -> list[Segment]:
    """Split long segments at sentence ends (by their word timings).

    faster-whisper's batched mode returns one segment per VAD window (up to 30 s); subtitles,
    the Podcasting JSON and the later stages read better by sentence. A sentence longer than
    ``max_words`` is split after a comma (or, failing that, at ``max_words``).
    """
    out: list[Segment] = []
    for seg in segments:
        if not seg.words:
            out.append(replace(seg, id=len(out)))
            continue
        pieces: list[list[Word]] = [[]]
        for word in seg.words:
            current = pieces[-1]
            current.append(word)
            text = word.text.rstrip()
            if (
                text.endswith(_SENTENCE_END)
                or (len(current) >= max_words // 2 and text.endswith((",", ";", ":")))
                or len(current) >= max_words
            ):
                pieces.append([])
        for words in pieces:
            if words:
                out.append(
                    Segment(
                        id=len(out),
                        start=words[0].start,
                        end=words[-1].end,
                        text=" ".join(w.text.strip() for w in words),
                        words=tuple(words),
                        speaker=seg.speaker,
                    )
                )
    return out


def detect_format(path: Path, text: str) -> str:
    name = path.name.lower()
    stripped = text.lstrip("\ufeff").lstrip()
    if name.endswith(".vtt") or stripped.startswith("WEBVTT"):
        return "vtt"
    if name.endswith(".srt"):
        return "srt"
    if name.endswith(".json") or stripped.startswith("{"):
        return "podcast-json"
    if re.match(r"^\d+\s*\n", stripped) or "-->" in stripped.split("\n", 2)[0]:
        return "srt"
    raise TranscriptError(
        f"{path}: onbekend transcriptformaat; gebruik WebVTT (.vtt), SRT (.srt) of "
        "Podcasting 2.0 JSON (.json)"
    )


def parse_transcript_file(path: Path, language: str = "nl") -> Transcript:
    """Read a VTT, SRT or Podcasting 2.0 JSON transcript (errors name the line)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise TranscriptError(f"transcript {path} bestaat niet") from exc
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise TranscriptError(f"{path}, regel {line}: geen UTF-8-tekst") from exc
    except OSError as exc:
        raise TranscriptError(f"transcript {path} kan niet gelezen worden: {exc}") from exc
    kind = detect_format(path, text)
    origin = str(path)
    if kind == "vtt":
        segments = parse_vtt(text, origin)
    elif kind == "srt":
        segments = parse_srt(text, origin)
    else:
        segments = parse_podcast_json(text, origin)
    if not segments:
        raise TranscriptError(f"{path}: het transcript bevat geen tekst")
    merged = merge_sentences(segments)
    measured = kind == "podcast-json" and all(w.probability > 0 for s in merged for w in s.words)
    return Transcript(
        language=language,
        segments=tuple(merged),
        engine="import",
        model="",
        options={
            "source_format": kind,
            "source_file": path.name,
            "words_estimated": not measured,
        },
        duration=max(s.end for s in merged),
    )
