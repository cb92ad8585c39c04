"""ffmpeg and PyAV: find the tools, probe a recording, measure loudness, encode the podcast MP3.

Audio is always streamed through ffmpeg; Python never holds more than a few kilobytes of it.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.core.errors import AudioError, ToolError
from pipeline.core.models import Progress
from pipeline.core.settings import AudioSettings

#: Integrated loudness at or below this is treated as silence (the gate of EBU R128 is -70).
SILENCE_LUFS = -70.0
#: A decoded duration shorter than the declared one by more than this is a truncated file.
TRUNCATION_TOLERANCE_S = 1.0
TRUNCATION_TOLERANCE_FRACTION = 0.02
#: Headroom under the true-peak setting for the MP3 encoder's overshoot.
MP3_HEADROOM_DB = 0.5


# --- locating ffmpeg ---------------------------------------------------------------------------
@lru_cache(maxsize=1)
def find_ffmpeg() -> str:
    """``$VLINDER_FFMPEG`` > ``ffmpeg`` on PATH > the binary bundled with imageio-ffmpeg."""
    env = os.environ.get("VLINDER_FFMPEG")
    if env:
        if not (Path(env).is_file() and os.access(env, os.X_OK)):
            raise ToolError(
                f"VLINDER_FFMPEG wijst naar '{env}', maar dat is geen uitvoerbaar bestand"
            )
        return env
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg  # type: ignore[import-untyped]

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as exc:
        raise ToolError(
            "ffmpeg niet gevonden: installeer ffmpeg (apt-get install ffmpeg) of "
            "`pip install imageio-ffmpeg`, of zet VLINDER_FFMPEG"
        ) from exc


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: let ffmpeg die when the Python process is killed, so no orphan keeps writing."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


# --- probing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AudioInfo:
    """What PyAV says about a recording, without decoding it."""

    format_name: str
    codec: str
    duration: float  # seconds, as declared by the container
    sample_rate: int
    channels: int
    has_video: bool = False
    tags: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def title_tag(self) -> str:
        return self.tags.get("title", "").strip()

    @property
    def date_tag(self) -> dt.date | None:
        """A full date from the ``date`` or ``creation_time`` tag, if there is one."""
        for key in ("date", "creation_time", "tdrc", "icrd"):
            value = self.tags.get(key, "")
            match = re.match(r"\s*(\d{4}-\d{2}-\d{2})", value)
            if match:
                with contextlib.suppress(ValueError):
                    return dt.date.fromisoformat(match.group(1))
        return None


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the end of the block is still text
        try:
            text = head[:-4].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * max(len(text), 1)


def probe(path: Path) -> AudioInfo:
    """Open ``path`` with PyAV and describe its first audio stream; :class:`AudioError` if none."""
    import av

    name = path.name
    if _looks_like_text(path):
        raise AudioError(f"{name} is een tekstbestand, geen opname")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            has_video = any(
                not (s.disposition & av.stream.Disposition.attached_pic)
                for s in container.streams.video
            )
            if not container.streams.audio:
                if has_video:
                    raise AudioError(f"{name}: deze video heeft geen geluidsspoor")
                raise AudioError(f"{name} bevat geen audio")
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            else:
                duration = 0.0
            ctx = stream.codec_context
            tags = {k.lower(): str(v) for k, v in container.metadata.items()}
            tags.update({k.lower(): str(v) for k, v in stream.metadata.items() if k not in tags})
            return AudioInfo(
                format_name=container.format.name,
                codec=ctx.name,
                duration=duration,
                sample_rate=int(ctx.sample_rate or 0),
                channels=int(ctx.layout.nb_channels if ctx.layout else 0),
                has_video=has_video,
                tags=tags,
            )
    except AudioError:
        raise
    except av.error.FFmpegError as exc:
        raise AudioError(f"{name} is geen leesbaar audio- of videobestand") from exc
    except (OSError, ValueError) as exc:
        raise AudioError(f"{name} kan niet gelezen worden ({exc})") from exc


# --- running ffmpeg ----------------------------------------------------------------------------
@dataclass(frozen=True)
class FfmpegRun:
    returncode: int
    log: str  # stderr, with a [level] prefix per line
    out_time: float  # seconds of audio written to the output (decoded length)

    def errors(self) -> list[str]:
        return [line for line in self.log.splitlines() if "[error]" in line or "[fatal]" in line]

    def loudnorm_json(self) -> dict[str, str]:
        start = self.log.rfind("{")
        end = self.log.rfind("}")
        if start < 0 or end < start:
            raise ToolError("ffmpeg gaf geen loudnorm-meting terug")
        try:
            data = json.loads(self.log[start : end + 1])
        except json.JSONDecodeError as exc:
            raise ToolError("ffmpeg gaf een onleesbare loudnorm-meting terug") from exc
        return {str(k): str(v) for k, v in data.items()}


def run_ffmpeg(
    args: Sequence[str],
    *,
    total: float = 0.0,
    progress: Progress | None = None,
    offset: float = 0.0,
    scale: float = 1.0,
) -> FfmpegRun:
    """Run ffmpeg with ``args`` (after the global options), streaming its progress.

    ``progress(done, total)`` gets ``offset + scale * seconds_done``; stderr goes to an anonymous
    temporary file (never a pipe that could fill up). Ctrl-C or an exception kills ffmpeg.
    """
    cmd = [
        find_ffmpeg(),
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "level+info",
        "-progress",
        "pipe:1",
        *args,
    ]
    out_time = 0.0
    with tempfile.TemporaryFile() as log_fh:
        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log_fh,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        except OSError as exc:
            raise ToolError(f"ffmpeg kan niet gestart worden ({exc})") from exc
        try:
            assert proc.stdout is not None
            for raw in proc.stdout:
                if raw.startswith(b"out_time_us="):
                    with contextlib.suppress(ValueError):
                        out_time = max(out_time, int(raw[12:]) / 1e6)
                    if progress is not None and total > 0:
                        progress(min(offset + scale * out_time, total), total)
            returncode = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        log_fh.seek(0)
        log = log_fh.read().decode("utf-8", "replace")
    return FfmpegRun(returncode=returncode, log=log, out_time=out_time)


# --- loudness ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Measurement:
    """The first loudnorm pass: loudness of the input and how much audio was decoded."""

    input_i: float
    input_tp: float
    input_lra: float
    input_thresh: float
    target_offset: float
    decoded: float  # seconds

    @property
    def silent(self) -> bool:
        return not math.isfinite(self.input_i) or self.input_i <= SILENCE_LUFS


def _num(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return -math.inf if value.strip().startswith("-") else math.inf


def _filters(settings: AudioSettings) -> str:
    return f"aformat=channel_layouts={'mono' if settings.channels == 1 else 'stereo'}"


def _loudnorm(settings: AudioSettings) -> str:
    tp = settings.true_peak - MP3_HEADROOM_DB
    return f"loudnorm=I={settings.target_lufs}:TP={tp}:LRA={settings.lra}"


def measure(
    path: Path,
    info: AudioInfo,
    settings: AudioSettings,
    *,
    progress: Progress | None = None,
    total: float = 0.0,
) -> Measurement:
    """Decode the whole file once: loudness (loudnorm pass 1) and integrity in the same pass.

    Raises :class:`AudioError` for a file that does not decode to the end (truncated, corrupt)
    or decodes to nothing.
    """
    name = path.name
    run = run_ffmpeg(
        [
            "-i",
            str(path),
            "-map",
            "0:a:0",
            "-vn",
            "-sn",
            "-dn",
            "-af",
            f"{_filters(settings)},{_loudnorm(settings)}:print_format=json",
            "-f",
            "null",
            "-",
        ],
        total=total or info.duration,
        progress=progress,
        scale=(total / 3 / info.duration) if total and info.duration > 0 else 1.0,
    )
    if run.returncode != 0:
        detail = (run.errors() or ["onbekende fout"])[-1].split("]")[-1].strip()
        raise AudioError(f"{name} kan niet gedecodeerd worden ({detail})")
    if run.out_time <= 0.05:
        raise AudioError(f"{name} bevat geen geluid (0 seconden audio)")
    tolerance = max(TRUNCATION_TOLERANCE_S, TRUNCATION_TOLERANCE_FRACTION * info.duration)
    if info.duration > 0 and run.out_time < info.duration - tolerance:
        raise AudioError(
            f"{name} is afgekapt of beschadigd: {run.out_time:.1f} s leesbaar "
            f"van de {info.duration:.1f} s die het bestand opgeeft"
        )
    data = run.loudnorm_json()
    return Measurement(
        input_i=_num(data["input_i"]),
        input_tp=_num(data["input_tp"]),
        input_lra=_num(data["input_lra"]),
        input_thresh=_num(data["input_thresh"]),
        target_offset=_num(data.get("target_offset", "0")),
        decoded=run.out_time,
    )


@dataclass(frozen=True)
class EncodeResult:
    """Loudness of the finished MP3 (measured with ebur128)."""

    output_i: float
    output_tp: float
    output_lra: float | None
    normalization: str  # linear | limited | none (silence)
    gain: float = 0.0  # dB applied before the limiter (limited) or by loudnorm (linear)


def effective_true_peak(settings: AudioSettings) -> float:
    """The true-peak ceiling used before MP3 encoding: the setting minus a little headroom,
    because the encoder's own overshoot would otherwise push peaks over the limit."""
    return settings.true_peak - MP3_HEADROOM_DB


def _limiter(settings: AudioSettings, gain: float) -> str:
    """Gain plus a true-peak limiter (4x oversampled), back at the output sample rate."""
    ceiling = 10 ** (effective_true_peak(settings) / 20)
    rate = settings.sample_rate
    return (
        f"volume={gain:.3f}dB,aresample={4 * rate},"
        f"alimiter=limit={ceiling:.4f}:attack=1:release=50:level=false:latency=true,"
        f"aresample={rate}"
    )


_SUMMARY = re.compile(r"\[Parsed_ebur128_(\d+) @ [^\]]*\](?: \[info\])? Summary:")


def _ebur128_summaries(log: str) -> list[dict[str, float]]:
    """The ``Summary:`` blocks of every ebur128 filter in the log, in graph order."""
    # ffmpeg may configure a graph twice; the first (empty) run also prints a summary, so the
    # last summary of each filter instance wins.
    found: dict[int, dict[str, float]] = {}
    matches = list(_SUMMARY.finditer(log))
    for n, match in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(log)
        block = log[match.end() : end]
        values: dict[str, float] = {}
        for key, pattern in (
            ("i", r"\bI:\s+(\S+) LUFS"),
            ("lra", r"\bLRA:\s+(\S+) LU"),
            ("tp", r"\bPeak:\s+(\S+) dBFS"),
        ):
            hit = re.search(pattern, block)
            if hit:
                values[key] = _num(hit.group(1))
        found[int(match.group(1))] = values
    return [found[n] for n in sorted(found)]


def calibrate_gain(
    path: Path,
    m: Measurement,
    settings: AudioSettings,
    *,
    progress: Progress | None = None,
    total: float = 0.0,
) -> float:
    """Find the gain that, followed by the true-peak limiter, lands on the target loudness.

    Limiting peaks lowers the loudness, more so the harder it works. One decoding pass measures
    the result at two gains (ebur128 on two branches); the secant between them gives the gain.
    """
    gain0 = settings.target_lufs - m.input_i
    over = m.input_tp + gain0 - effective_true_peak(settings)
    gains = (gain0 + 0.35 * over, gain0 + 0.7 * over)
    branches = []
    for n, gain in enumerate(gains):
        branches.append(f"[s{n}]{_limiter(settings, gain)},ebur128=framelog=verbose[m{n}]")
    graph = (
        f"[0:a:0]{_filters(settings)},asplit={len(gains)}"
        + "".join(f"[s{n}]" for n in range(len(gains)))
        + ";"
        + ";".join(branches)
    )
    maps: list[str] = []
    for n in range(len(gains)):
        maps += ["-map", f"[m{n}]"]
    run = run_ffmpeg(
        ["-i", str(path), "-filter_complex", graph, *maps, "-f", "null", "-"],
        total=total,
        progress=progress,
        offset=total / 3,
        scale=1 / 3,
    )
    summaries = _ebur128_summaries(run.log)
    if run.returncode != 0 or len(summaries) != len(gains):
        detail = (run.errors() or ["geen meting"])[-1].split("]")[-1].strip()
        raise ToolError(f"ffmpeg kon de begrenzer niet afstellen ({detail})")
    (g1, g2), (i1, i2) = gains, (summaries[0]["i"], summaries[1]["i"])
    if not (math.isfinite(i1) and math.isfinite(i2)) or abs(i2 - i1) < 1e-3:
        return g2
    gain = g1 + (settings.target_lufs - i1) * (g2 - g1) / (i2 - i1)
    return min(max(gain, gain0), gain0 + over + 6.0)


def needs_limiter(m: Measurement, settings: AudioSettings) -> bool:
    """True when a plain (linear) gain to the target would push peaks over the ceiling."""
    gain = settings.target_lufs - m.input_i
    return m.input_tp + gain > effective_true_peak(settings)


def encode(
    source: Path,
    target: Path,
    m: Measurement,
    settings: AudioSettings,
    tags: dict[str, str],
    *,
    progress: Progress | None = None,
    total: float = 0.0,
) -> EncodeResult:
    """Normalise and encode to MP3 with ID3v2 tags, then measure the loudness of the MP3.

    Linear loudnorm (pass 2 with the measured values) when the peaks allow it; otherwise a gain
    plus a true-peak limiter, with the gain calibrated so the result still lands on the target
    (loudnorm's own fallback, dynamic mode, undershoots by 1 LU or more on peaky speech).
    """
    total = total or 2.0 * m.decoded
    gain = 0.0
    if m.silent:
        # loudnorm cannot normalise silence; encode it as it is
        af = f"{_filters(settings)},aresample={settings.sample_rate}"
        mode = "none"
    elif not needs_limiter(m, settings):
        af = (
            f"{_filters(settings)},loudnorm=I={settings.target_lufs}"
            f":TP={effective_true_peak(settings)}:LRA={settings.lra}"
            f":measured_I={m.input_i}:measured_TP={m.input_tp}:measured_LRA={m.input_lra}"
            f":measured_thresh={m.input_thresh}:offset={m.target_offset}"
            f":linear=true,aresample={settings.sample_rate}"
        )
        mode = "linear"
        gain = settings.target_lufs - m.input_i
    else:
        gain = calibrate_gain(source, m, settings, progress=progress, total=total)
        af = f"{_filters(settings)},{_limiter(settings, gain)}"
        mode = "limited"
    graph = f"[0:a:0]{af}[enc]"
    done = total / 3 if mode == "limited" else total / 2
    run = run_ffmpeg(
        [
            "-i",
            str(source),
            "-filter_complex",
            graph,
            "-map",
            "[enc]",
            "-map_metadata",
            "-1",
            "-map_chapters",
            "-1",
            "-ar",
            str(settings.sample_rate),
            "-ac",
            str(settings.channels),
            "-c:a",
            "libmp3lame",
            "-b:a",
            settings.bitrate,
            "-id3v2_version",
            "0",  # mutagen writes the tags (ffmpeg puts a comment in TXXX, not COMM)
            "-write_xing",
            "1",
            "-f",
            "mp3",
            "-y",
            str(target),
        ],
        total=total,
        progress=progress,
        offset=total - done,
        scale=done / max(m.decoded, 1e-6),
    )
    if run.returncode != 0:
        detail = (run.errors() or ["onbekende fout"])[-1].split("]")[-1].strip()
        raise ToolError(f"ffmpeg kon de MP3 niet maken ({detail})")
    out = measure_output(target)
    write_id3(target, tags)
    return EncodeResult(
        output_i=out.get("i", -math.inf),
        output_tp=out.get("tp", -math.inf),
        output_lra=out.get("lra"),
        normalization=mode,
        gain=round(gain, 2),
    )


def measure_output(path: Path) -> dict[str, float]:
    """Integrated loudness, LRA and true peak of the finished MP3 (ebur128), as a listener's
    player decodes it: MP3 encoding itself changes both a little."""
    run = run_ffmpeg(
        ["-i", str(path), "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"]
    )
    summaries = _ebur128_summaries(run.log)
    if run.returncode != 0 or not summaries:
        raise ToolError("ffmpeg gaf geen luidheidsmeting van de MP3 terug")
    return summaries[-1]


def write_id3(path: Path, tags: dict[str, str]) -> None:
    """ID3v2.3 tags: title, artist, album (series), album artist, date, comment, genre."""
    from mutagen.id3 import COMM, ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2

    frames = {
        "title": TIT2,
        "artist": TPE1,
        "album": TALB,
        "album_artist": TPE2,
        "date": TDRC,
        "genre": TCON,
    }
    id3 = ID3()
    for key, frame in frames.items():
        if tags.get(key):
            id3.add(frame(encoding=3, text=[tags[key]]))
    if tags.get("comment"):
        id3.add(COMM(encoding=3, lang="dut", desc="", text=[tags["comment"]]))
    try:
        id3.save(path, v2_version=3)
    except Exception as exc:  # mutagen raises its own error types
        raise ToolError(f"ID3-tags schrijven mislukt ({exc})") from exc


# --- small helpers -----------------------------------------------------------------------------
def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """``"sha256:<hex>"`` of a file, read in chunks."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return f"sha256:{digest.hexdigest()}"
