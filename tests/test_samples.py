"""The bundled sample recordings: present, listed, decodable, and their transcripts fit them."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline import flows
from pipeline.core.workspace import Workspace
from pipeline.transcribe.formats.readers import parse_transcript_file

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
MEDIA = {".mp3", ".ogg", ".m4a", ".flac", ".wav", ".opus"}
TOTAL_LIMIT = 3 * 1024 * 1024  # the committed samples stay small

_TIMING = re.compile(
    r"^(?P<start>\d{2}:\d{2}:\d{2}\.\d{3}) --> (?P<end>\d{2}:\d{2}:\d{2}\.\d{3})(?: .*)?$"
)
_VOICE = re.compile(r"^<v (?P<speaker>[^>]+)>(?P<text>.+)$")


def _clips() -> list[dict[str, object]]:
    return tomllib.loads((SAMPLES / "samples.toml").read_text("utf-8"))["clips"]


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def _cues(path: Path) -> list[tuple[float, float, str, str]]:
    """A strict little WebVTT reader: header, then cues of [id,] timing, ``<v Name>text``."""
    lines = path.read_text("utf-8").splitlines()
    assert lines[0] == "WEBVTT", f"{path.name}: no WEBVTT header"
    cues = []
    blocks = "\n".join(lines[1:]).strip().split("\n\n")
    for block in blocks:
        rows = block.splitlines()
        if not _TIMING.match(rows[0]):
            rows = rows[1:]  # cue identifier
        timing = _TIMING.match(rows[0])
        assert timing, f"{path.name}: bad timing line {rows[0]!r}"
        assert len(rows) == 2, f"{path.name}: one text line per cue expected: {rows}"
        voice = _VOICE.match(rows[1])
        assert voice, f"{path.name}: cue text without a <v Name> voice tag: {rows[1]!r}"
        cues.append(
            (
                _seconds(timing["start"]),
                _seconds(timing["end"]),
                voice["speaker"],
                voice["text"],
            )
        )
    return cues


def _probe(path: Path) -> dict[str, object]:
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed")
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
        + [str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def test_samples_toml_lists_every_clip() -> None:
    clips = _clips()
    assert len(clips) >= 3
    names = [c["name"] for c in clips]
    assert len(set(names)) == len(names)
    listed = {c["file"] for c in clips} | {c["transcript"] for c in clips}
    on_disk = {p.name for p in SAMPLES.iterdir() if p.suffix in MEDIA | {".vtt"}}
    assert on_disk == listed, "samples/ and samples.toml disagree"
    assert sum(1 for c in clips if c.get("demo_whisper")) == 1, "one clip shows Whisper"
    kinds = {c["kind"] for c in clips}
    assert kinds == {"talk", "interview"}


@pytest.mark.parametrize("clip", _clips(), ids=lambda c: str(c["name"]))
def test_clip_metadata(clip: dict[str, object]) -> None:
    for key in ("title", "date", "event", "kind", "description"):
        assert isinstance(clip[key], str) and clip[key], f"{clip['name']}: {key} missing"
    dt.date.fromisoformat(str(clip["date"]))
    speakers = clip["speakers"]
    assert isinstance(speakers, list) and speakers
    assert (SAMPLES / str(clip["file"])).stat().st_size > 10_000


@pytest.mark.parametrize("clip", _clips(), ids=lambda c: str(c["name"]))
def test_transcript_fits_the_recording(clip: dict[str, object]) -> None:
    audio = SAMPLES / str(clip["file"])
    vtt = SAMPLES / str(clip["transcript"])
    cues = _cues(vtt)
    assert len(cues) >= 5
    previous_end = 0.0
    for start, end, _speaker, text in cues:
        assert start < end, f"{vtt.name}: empty cue {text!r}"
        assert start >= previous_end, f"{vtt.name}: cues overlap at {text!r}"
        previous_end = end
    assert {speaker for *_, speaker, _ in cues} == set(clip["speakers"])  # type: ignore[arg-type]

    info = _probe(audio)
    duration = float(info["format"]["duration"])  # type: ignore[index]
    assert 30 <= duration <= 90, f"{audio.name}: {duration:.1f} s"
    assert cues[-1][1] <= duration, f"{vtt.name}: last cue ends after the audio"
    streams = [s for s in info["streams"] if s["codec_type"] == "audio"]  # type: ignore[union-attr]
    assert len(streams) == 1

    # the project's own importer reads it: same text, speakers and time span
    flows.check_transcript_file(vtt)
    transcript = parse_transcript_file(vtt)
    segments = transcript.segments
    assert {s.speaker for s in segments} == set(clip["speakers"])  # type: ignore[arg-type]
    assert segments[0].start == pytest.approx(cues[0][0], abs=0.01)
    assert segments[-1].end == pytest.approx(cues[-1][1], abs=0.01)
    words = " ".join(s.text for s in segments).split()
    assert words == " ".join(text for *_, text in cues).split()


def test_formats_cover_what_ingest_accepts() -> None:
    """Among the clips: an m4a, a stereo 48 kHz one, and one of each container kind."""
    seen = {}
    for clip in _clips():
        info = _probe(SAMPLES / str(clip["file"]))
        streams = info["streams"]
        stream = next(s for s in streams if s["codec_type"] == "audio")  # type: ignore[union-attr]
        seen[str(clip["file"])] = (
            stream["codec_name"],
            int(stream["sample_rate"]),
            stream["channels"],
        )
    codecs = {codec for codec, _, _ in seen.values()}
    assert {"mp3", "aac"} <= codecs
    assert (48000, 2) in {(rate, ch) for _, rate, ch in seen.values()}
    assert sum((SAMPLES / f).stat().st_size for f in seen) < TOTAL_LIMIT


def test_sample_generator_is_documented() -> None:
    script = ROOT / "scripts" / "make_samples.py"
    assert script.exists()
    header = (SAMPLES / "samples.toml").read_text("utf-8").splitlines()[0]
    assert "make_samples.py" in header


@pytest.mark.slow
def test_imported_sample_transcript_survives_retranscribe(ws: Workspace, runner: CliRunner) -> None:
    """The demo imports exact transcripts; `vlinder transcribe --all` must keep them (a human
    transcript is only replaced with --force)."""
    from pipeline.cli import cli

    clip = next(c for c in _clips() if not c.get("demo_whisper"))
    args = ["-w", str(ws.root), "add", str(SAMPLES / str(clip["file"])), "--title", "Proef"]
    args += ["--date", str(clip["date"]), "--transcript", str(SAMPLES / str(clip["transcript"]))]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    slug = result.output.strip().splitlines()[0]
    path = ws.transcript_path(slug, "json")
    before = json.loads(path.read_text("utf-8"))
    assert before["engine"] == "import"

    result = runner.invoke(cli, ["-w", str(ws.root), "transcribe", "--all"])
    assert result.exit_code == 0, result.output
    after = json.loads(path.read_text("utf-8"))
    assert after["engine"] == "import", "an imported transcript was replaced by Whisper"
    assert after["segments"] == before["segments"]
