"""Import: read WebVTT, SRT and Podcasting 2.0 JSON transcripts; errors name the line."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from pipeline.core.errors import TranscriptError
from pipeline.core.models import Segment, Transcript, Word
from pipeline.core.text import clean_text

from .sentences import merge_sentences


def json_error(path: Path | str, exc: json.JSONDecodeError) -> TranscriptError:
    return TranscriptError(f"{path}, regel {exc.lineno}: geen geldige JSON ({exc.msg})")


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
    return _srt_speakers(segments)


# "Anna Jansen: ..." at the start of a cue: the speaker, in SubRip's convention (a capital,
# up to five words, particles such as "de" or "van" allowed)
_SRT_SPEAKER = re.compile(
    r"^([A-ZÀ-Ý][\w'’.-]*(?: (?:[a-z]{1,3}|[A-ZÀ-Ý0-9][\w'’.-]*)){0,4}): (.+)$"
)


def _srt_speakers(segments: list[Segment]) -> list[Segment]:
    """Speakers from ``Name:`` at the start of cues, carried to the cues that follow until
    the next name. A one-word prefix counts only when it recurs ("Kortom:" once is text)."""
    found = [_SRT_SPEAKER.match(seg.text) for seg in segments]
    counts: dict[str, int] = {}
    for m in found:
        if m:
            counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    names = {n for n, c in counts.items() if c >= 2 or " " in n}
    if not names:
        return segments
    out: list[Segment] = []
    speaker: str | None = None
    for seg, m in zip(segments, found, strict=True):
        if m and m.group(1) in names:
            speaker, text = m.group(1), m.group(2).strip()
            words = estimate_words(text, seg.start, seg.end)
            seg = replace(seg, text=text, words=words)
        out.append(replace(seg, speaker=speaker))
    return out


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
        raise json_error(origin, exc) from exc
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
    text = clean_text(text)
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
