"""Ingest with real ffmpeg, PyAV, mutagen and SQLite: formats, loudness, tags, duplicates,
atomicity (a killed `vlinder add`) and resume."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline.catalogue import open_catalogue
from pipeline.core.episodes import load_episode
from pipeline.core.errors import DuplicateError, InputError
from pipeline.core.models import EpisodeMeta
from pipeline.core.workspace import Workspace
from pipeline.ingest import audio, ingest

FFMPEG = audio.find_ffmpeg()


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def inputs(tmp_path_factory: pytest.TempPathFactory, speech_wav: Path) -> dict[str, Path]:
    """The speech clip in every accepted format (a few seconds each), made once."""
    d = tmp_path_factory.mktemp("inputs")
    out = {"wav": speech_wav}
    stereo = d / "stereo48.wav"
    # stereo 48 kHz, quiet, with a little noise: like a mixing-desk recording
    ffmpeg(
        "-i", str(speech_wav), "-f", "lavfi", "-i", "anoisesrc=a=0.003:d=20",
        "-filter_complex", "[0:a]volume=-8dB,aresample=48000[s];[1:a]aresample=48000[n];"
        "[s][n]amix=inputs=2:duration=first:normalize=0,aformat=channel_layouts=stereo",
        "-ar", "48000", "-ac", "2", str(stereo),
    )  # fmt: skip
    out["stereo48"] = stereo
    for ext, codec in (
        ("mp3", ["-c:a", "libmp3lame", "-b:a", "64k"]),
        ("m4a", ["-c:a", "aac", "-b:a", "64k"]),
        ("ogg", ["-c:a", "libopus", "-b:a", "32k"]) if _has_encoder("libopus") else ("ogg", []),
        ("flac", ["-c:a", "flac"]),
    ):
        path = d / f"spraak.{ext}"
        ffmpeg("-i", str(stereo), *codec, str(path))
        out[ext] = path
    video = d / "video.mp4"
    ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-i", str(speech_wav),
        "-shortest", "-c:v", "libx264" if _has_encoder("libx264") else "mpeg4",
        "-c:a", "aac", "-pix_fmt", "yuv420p", str(video),
    )  # fmt: skip
    out["mp4"] = video
    return out


def _has_encoder(name: str) -> bool:
    result = subprocess.run([FFMPEG, "-hide_banner", "-encoders"], capture_output=True, text=True)
    return name in result.stdout


def decode_float(path: Path) -> tuple[np.ndarray, int]:
    """Decode with ffmpeg to 32-bit float samples (channels kept)."""
    info = audio.probe(path)
    raw = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-f", "f32le", "-c:a", "pcm_f32le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.float32).reshape(-1, info.channels), info.sample_rate


def loudness_of(path: Path) -> tuple[float, float]:
    """(integrated LUFS with pyloudnorm, true peak dBTP with 4x oversampling)."""
    import pyloudnorm
    from scipy.signal import resample_poly

    samples, rate = decode_float(path)
    x = samples.astype(np.float64)
    lufs = pyloudnorm.Meter(rate).integrated_loudness(x)
    peak = np.max(np.abs(resample_poly(x, 4, 1, axis=0)))
    return float(lufs), float(20 * np.log10(peak))


def listing(root: Path) -> list[tuple[str, int]]:
    return sorted(
        (str(p.relative_to(root)), p.stat().st_size if p.is_file() else -1) for p in root.rglob("*")
    )


META = EpisodeMeta(
    title='Samen <sterk> & "durven"',
    date="2025-03-14",
    speakers=("Anna de Vries", "Bram Jansen"),
    description="Over vertrouwen & risico's delen",
    event="Symposium Dijkversterking",
    kind="interview",
)


def test_ingest_makes_normalised_tagged_episode(ws: Workspace, inputs: dict[str, Path]) -> None:
    result = ingest(ws, inputs["stereo48"], META)
    ep = result.episode
    assert ep.slug == "samen-sterk-durven"
    assert ep.title == 'Samen <sterk> & "durven"'
    assert ep.date == dt.date(2025, 3, 14)
    assert ep.speakers == ("Anna de Vries", "Bram Jansen")
    assert ep.content_hash == audio.sha256_file(inputs["stereo48"])
    assert ep.source_name == "stereo48.wav"
    assert len(ep.guid) == 36
    folder = ws.episode_dir(ep.slug)
    assert sorted(p.name for p in folder.iterdir()) == ["episode.toml", f"{ep.slug}.mp3"]
    assert load_episode(ws, ep.slug) == ep

    mp3 = folder / ep.audio_file
    lufs, tp = loudness_of(mp3)
    assert abs(lufs - -16.0) <= 1.0, lufs
    assert tp <= -1.0, tp
    assert ep.loudness is not None
    assert ep.loudness.input_i < -20  # the input was quiet
    assert abs(ep.loudness.output_i - -16.0) <= 1.0
    assert ep.loudness.output_tp <= -1.0

    from mutagen.id3 import ID3
    from mutagen.mp3 import MP3, BitrateMode

    info = MP3(mp3).info
    assert (info.sample_rate, info.channels, info.bitrate) == (44100, 1, 96000)
    assert info.bitrate_mode in (BitrateMode.CBR, BitrateMode.UNKNOWN)
    assert abs(info.length - ep.duration) < 0.1
    tags = ID3(mp3)
    assert tags.version[:2] == (2, 3)
    assert str(tags["TIT2"]) == 'Samen <sterk> & "durven"'
    assert str(tags["TPE1"]) == "Anna de Vries, Bram Jansen"
    assert str(tags["TALB"]) == ws.settings.podcast.title
    assert "2025" in str(tags.get("TYER", tags.get("TDRC")))
    comments = tags.getall("COMM")
    assert comments and comments[0].text[0] == "Over vertrouwen & risico's delen"

    with open_catalogue(ws) as cat:
        assert cat.slugs() == [ep.slug]
        stage = cat.stages(ep.slug)["ingest"]
        assert stage["status"] == "done"
        assert stage["key"].startswith(ep.content_hash)


@pytest.mark.parametrize("fmt", ["wav", "mp3", "m4a", "ogg", "flac", "mp4"])
def test_accepts_every_format(ws: Workspace, inputs: dict[str, Path], fmt: str) -> None:
    source = inputs[fmt]
    ep = ingest(ws, source, EpisodeMeta(title=f"Formaat {fmt}")).episode
    assert abs(ep.duration - audio.probe(source).duration) < 0.3
    lufs, tp = loudness_of(ws.episode_dir(ep.slug) / ep.audio_file)
    assert abs(lufs - -16.0) <= 1.0
    assert tp <= -1.0


def test_defaults_from_file_name_and_tags(ws: Workspace, tmp_path: Path, speech_wav: Path) -> None:
    plain = tmp_path / "lezing_over_dijken.wav"
    plain.write_bytes(speech_wav.read_bytes())
    ep = ingest(ws, plain).episode
    assert ep.title == "lezing over dijken"
    assert ep.date == dt.date.today()
    assert ep.kind == "talk"

    tagged = tmp_path / "x.m4a"
    ffmpeg(
        "-i", str(speech_wav), "-af", "volume=-3dB", "-metadata", "title=Uit de tags",
        "-metadata", "date=2024-11-02", "-c:a", "aac", str(tagged),
    )  # fmt: skip
    ep2 = ingest(ws, tagged).episode
    assert (ep2.title, ep2.date) == ("Uit de tags", dt.date(2024, 11, 2))


def test_duplicate_and_force(ws: Workspace, inputs: dict[str, Path]) -> None:
    first = ingest(ws, inputs["flac"], EpisodeMeta(title="Dubbel")).episode
    before = listing(ws.root)
    with pytest.raises(DuplicateError) as err:
        ingest(ws, inputs["flac"], EpisodeMeta(title="Iets anders"))
    assert err.value.slug == first.slug
    assert "dubbel" in str(err.value)
    assert listing(ws.root) == before
    second = ingest(ws, inputs["flac"], EpisodeMeta(title="Dubbel"), force=True).episode
    assert second.slug == "dubbel-2"
    assert second.guid != first.guid


def test_duplicate_found_in_files_when_catalogue_is_stale(
    ws: Workspace, inputs: dict[str, Path]
) -> None:
    first = ingest(ws, inputs["wav"]).episode
    ws.catalogue_path.unlink()
    for extra in ws.root.glob("catalogue.db-*"):
        extra.unlink()
    # the folder is there but the catalogue lost it: adding again completes the index
    result = ingest(ws, inputs["wav"])
    assert result.resumed and result.episode.slug == first.slug
    with pytest.raises(DuplicateError):
        ingest(ws, inputs["wav"])


def test_same_title_gets_unique_slug(ws: Workspace, inputs: dict[str, Path]) -> None:
    a = ingest(ws, inputs["wav"], EpisodeMeta(title="Eén titel")).episode
    b = ingest(ws, inputs["flac"], EpisodeMeta(title="Eén titel")).episode
    assert (a.slug, b.slug) == ("een-titel", "een-titel-2")


def test_keep_original(tmp_path: Path, inputs: dict[str, Path]) -> None:
    from pipeline.flows import init as init_workspace

    ws = init_workspace(tmp_path / "k")
    text = ws.settings_path.read_text().replace("keep_original = false", "keep_original = true")
    ws.settings_path.write_text(text)
    ws = Workspace(ws.root)
    ep = ingest(ws, inputs["m4a"]).episode
    kept = ws.episode_dir(ep.slug) / "original.m4a"
    assert kept.read_bytes() == inputs["m4a"].read_bytes()


def test_silence_warns_but_ingests(ws: Workspace, tmp_path: Path) -> None:
    silent = tmp_path / "stilte.wav"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "4", str(silent))
    result = ingest(ws, silent)
    assert result.warnings and "stil" in result.warnings[0]
    assert ws.episode_file(result.episode.slug).exists()


def test_paths_with_spaces_unicode_and_dotdot(
    ws: Workspace, tmp_path: Path, speech_wav: Path
) -> None:
    folder = tmp_path / "map met spaties" / "één"
    folder.mkdir(parents=True)
    odd = folder / "opname van Zoë (1).wav"
    odd.write_bytes(speech_wav.read_bytes())
    relative = Path(os.path.relpath(odd, Path.cwd()))
    dotted = folder / ".." / "één" / odd.name
    ep = ingest(ws, dotted, EpisodeMeta(title="../../etc/passwd")).episode
    assert ep.slug == "etc-passwd"
    assert ws.episode_dir(ep.slug).resolve().parent == ws.episodes_dir.resolve()
    assert ep.source_name == "opname van Zoë (1).wav"
    with pytest.raises(DuplicateError):
        ingest(ws, relative)


@pytest.mark.parametrize(
    "maker, message",
    [
        ("missing", "bestaat niet"),
        ("directory", "geen bestand"),
        ("empty", "leeg"),
        ("random", "geen leesbaar"),
        ("truncated", "afgekapt"),
        ("text", "tekstbestand"),
        ("video_only", "geen geluidsspoor"),
        ("zero", "0 seconden"),
    ],
)
def test_bad_input_changes_nothing(
    ws: Workspace, tmp_path: Path, speech_wav: Path, maker: str, message: str
) -> None:
    path = make_bad_input(tmp_path, speech_wav, maker)
    before = listing(ws.root)
    with pytest.raises(InputError) as err:
        ingest(ws, path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert listing(ws.root) == before


def make_bad_input(tmp_path: Path, speech_wav: Path, kind: str) -> Path:
    d = tmp_path / "bad"
    d.mkdir(exist_ok=True)
    if kind == "missing":
        return d / "bestaat-niet.wav"
    if kind == "directory":
        return d
    path = d / {"text": "notities.txt", "video_only": "stil.mp4", "zero": "leeg.wav"}.get(
        kind, f"{kind}.mp3"
    )
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(np.random.default_rng(1).bytes(64_000))
    elif kind == "truncated":
        full = d / "full.mp3"
        ffmpeg("-i", str(speech_wav), "-c:a", "libmp3lame", "-b:a", "128k", str(full))
        data = full.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "text":
        path.write_text("Dit is geen opname maar een notitie.\nTweede regel.\n", encoding="utf-8")
    elif kind == "video_only":
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48:rate=5", "-t", "2", str(path))
    elif kind == "zero":
        ffmpeg("-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "0", str(path))
    return path


def test_size_limit(tmp_path: Path, speech_wav: Path) -> None:
    from pipeline.flows import init as init_workspace

    ws = init_workspace(tmp_path / "klein")
    text = ws.settings_path.read_text().replace("max_input_mb = 4096", "max_input_mb = 1")
    ws.settings_path.write_text(text)
    ws = Workspace(ws.root)
    big = tmp_path / "groot.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=d=15", "-ar", "48000", "-ac", "2", str(big))
    before = listing(ws.root)
    with pytest.raises(InputError, match="te groot"):
        ingest(ws, big)
    assert listing(ws.root) == before


def test_invalid_date_and_kind(ws: Workspace, speech_wav: Path) -> None:
    before = listing(ws.root)
    with pytest.raises(InputError, match="ongeldige datum"):
        ingest(ws, speech_wav, EpisodeMeta(date="14-03-2025"))
    with pytest.raises(InputError, match="talk, interview of panel"):
        ingest(ws, speech_wav, EpisodeMeta(kind="lezing"))
    assert listing(ws.root) == before


# --- interruption: a real `vlinder add` killed half-way -----------------------------------------
@pytest.fixture(scope="module")
def long_recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three minutes of noise-and-tone stereo (FLAC): long enough to kill ingest mid-way."""
    path = tmp_path_factory.mktemp("long") / "lang opname.flac"
    ffmpeg(
        "-f", "lavfi", "-i", "sine=frequency=220:duration=180",
        "-f", "lavfi", "-i", "anoisesrc=a=0.05:d=180",
        "-filter_complex", "[0:a][1:a]amix=inputs=2,aformat=channel_layouts=stereo",
        "-ar", "48000", str(path),
    )  # fmt: skip
    return path


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(c) for c in text.split()]


def _wait_for_encoder(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Poll until the ffmpeg child that writes the MP3 is running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"vlinder add ended early: {proc.stderr.read() if proc.stderr else ''}")
        for child in _children(proc.pid):
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"libmp3lame" in cmdline:
                return
        time.sleep(0.02)
    pytest.fail("ffmpeg never started encoding")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_add_leaves_nothing_and_rerun_finishes(
    ws: Workspace, long_recording: Path, sig: signal.Signals
) -> None:
    cmd = [sys.executable, "-m", "pipeline", "-w", str(ws.root), "add", str(long_recording),
           "--title", "Lange opname", "--no-transcribe"]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        # as in a terminal: a shell's background job (CI) starts with Ctrl-C ignored, and
        # Python keeps it ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    _wait_for_encoder(proc)
    children = _children(proc.pid)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    else:
        os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    if sig == signal.SIGINT:
        assert proc.returncode == 130
        assert b"Traceback" not in err
    # ffmpeg dies with its parent
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{c}").exists() for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not ws.episode_dir("lange-opname").exists()
    assert not list(ws.episodes_dir.iterdir())
    if ws.catalogue_path.exists():
        with open_catalogue(ws) as cat:
            assert cat.slugs() == []

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[0] == "lange-opname"
    ep = load_episode(ws, "lange-opname")
    assert abs(ep.duration - 180) < 0.5
    # the leftover staging folder of the killed run is gone too
    assert not list((ws.state_dir / "tmp").glob("lange-opname.*"))


# --- locating ffmpeg ---------------------------------------------------------------------------
def test_find_ffmpeg_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pipeline.core.errors import ToolError

    audio.find_ffmpeg.cache_clear()
    try:
        monkeypatch.setenv("VLINDER_FFMPEG", str(tmp_path / "nergens"))
        with pytest.raises(ToolError, match="VLINDER_FFMPEG"):
            audio.find_ffmpeg()
        audio.find_ffmpeg.cache_clear()
        monkeypatch.delenv("VLINDER_FFMPEG")
        monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg on PATH
        found = audio.find_ffmpeg()
        pytest.importorskip("imageio_ffmpeg")
        assert "imageio_ffmpeg" in found
    finally:
        audio.find_ffmpeg.cache_clear()


def test_bundled_ffmpeg_has_what_ingest_needs() -> None:
    """Users without root get imageio-ffmpeg's binary: it must have every filter and encoder."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    filters = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True, text=True)
    for name in ("loudnorm", "ebur128", "alimiter", "aresample", "asplit", "aformat"):
        assert f" {name} " in filters.stdout, name
    encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True)
    assert "libmp3lame" in encoders.stdout
