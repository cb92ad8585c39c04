"""Clips: ``vlinder clip`` (MP3 and audiogram) and the producer app's downloads.

One sample episode (samples/klompje-goud.mp3, 63 s, with its exact transcript) is ingested
once for the module; the clips are checked with ffprobe and ffmpeg's ebur128, the ID3 title
with mutagen, the burned-in captions by looking at the video's pixels.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from starlette.applications import Starlette
from starlette.testclient import TestClient

from pipeline.cli import cli
from pipeline.clips import ClipOptions, clip
from pipeline.clips.captions import Layout, ass_document
from pipeline.clips.video import filter_graph
from pipeline.clips.words import caption_lines, check_range, snap, transcript_words
from pipeline.core.episodes import load_episode
from pipeline.core.errors import InputError
from pipeline.core.models import Chapter, Fragment, Word
from pipeline.core.workspace import Workspace
from pipeline.flows import init as init_workspace
from pipeline.ingest import ingest
from pipeline.ingest.audio import find_ffmpeg, measure_output
from pipeline.tagging.store import write_tags_file
from pipeline.transcribe import import_transcript, load_transcript

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "klompje-goud.mp3"
P = "/producent"


# --- helpers -----------------------------------------------------------------------------------
def ffprobe(path: Path) -> dict:
    ffprobe_bin = shutil.which("ffprobe")
    if ffprobe_bin is None:
        pytest.skip("ffprobe is not installed")
    out = subprocess.run(
        [ffprobe_bin, "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def streams(info: dict, kind: str) -> list[dict]:
    return [s for s in info["streams"] if s["codec_type"] == kind]


def frame(path: Path, at: float, size: int) -> np.ndarray:
    """One frame of a video as grey values (size x size)."""
    raw = subprocess.run(
        [find_ffmpeg(), "-v", "error", "-ss", f"{at:.2f}", "-i", str(path), "-frames:v", "1"]
        + ["-f", "rawvideo", "-pix_fmt", "gray", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(size, size)


def words_of(ws: Workspace, slug: str) -> tuple[Word, ...]:
    transcript = load_transcript(ws, slug)
    assert transcript is not None
    return transcript_words(transcript)


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def run_clip(ws: Workspace, *args: str) -> object:
    return CliRunner().invoke(cli, ["-w", str(ws.root), "clip", *args], prog_name="vlinder")


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, str]:
    """A workspace with the sample episode, its transcript and two fragments."""
    from pipeline.core.models import EpisodeMeta

    ws = init_workspace(tmp_path_factory.mktemp("clips") / "ws")
    done = ingest(
        ws,
        SAMPLE,
        EpisodeMeta(title="Het klompje goud", date="2024-03-14", speakers=("Ingrid Bakker",)),
    )
    slug = done.episode.slug
    import_transcript(ws, slug, ROOT / "samples" / "klompje-goud.vtt")
    fragments = [
        Fragment(0, 0.6, 8.812, "Goedemiddag allemaal ... klompje goud noemen."),
        Fragment(1, 20.607, 27.271, "Maar die waarde ... is niets waard."),
    ]
    write_tags_file(ws, slug, "test", [Chapter(0, 0.0, 63.0, "Het klompje goud")], fragments)
    return ws, slug


# --- word boundaries, ranges, captions (pure) ----------------------------------------------------
WORDS = (
    Word(1.0, 1.4, "Een", speaker="Anna"),
    Word(1.5, 2.0, "klompje", speaker="Anna"),
    Word(2.1, 2.5, "goud.", speaker="Anna"),
    Word(4.0, 4.6, "Precies", speaker="Bram"),
    Word(4.7, 5.2, "zo.", speaker="Bram"),
)


def test_snap_cuts_at_whole_words() -> None:
    # a start inside "klompje" (before its middle) takes the whole word; an end inside
    # "Precies" after its middle keeps it whole
    span = snap(WORDS, 1.6, 4.5, 10.0)
    assert [w.text for w in span.words] == ["klompje", "goud.", "Precies"]
    assert 1.45 <= span.start <= 1.5  # room before the word, at most half the pause
    assert 4.6 <= span.end <= 4.65
    # a start after a word's middle leaves that word out; the room before "Precies" is the
    # full pad, since the pause to "goud." is long
    span = snap(WORDS, 2.35, 5.0, 10.0)
    assert [w.text for w in span.words] == ["Precies", "zo."]
    assert span.start == pytest.approx(4.0 - 0.25)
    assert span.end == pytest.approx(5.2 + 0.25)
    assert span.speakers == ("Bram",)
    # the room never passes the start or the end of the episode
    span = snap(WORDS, 0.0, 5.2, 5.3)
    assert span.start == pytest.approx(0.75) and span.end == pytest.approx(5.3)
    # a range inside one word: that word
    assert [w.text for w in snap(WORDS, 1.55, 1.6, 10.0).words] == ["klompje"]
    with pytest.raises(InputError, match="niets gezegd"):
        snap(WORDS, 2.7, 3.8, 10.0)


@pytest.mark.parametrize(
    "start, end, message",
    [
        (30, 20, "na het begin"),
        (20, 20, "na het begin"),
        (70, 80, "na het einde"),
        (20, 64, "einde"),
    ],
)
def test_check_range_refuses_bad_ranges(start: float, end: float, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_range(start, end, 63.4)


def test_captions_follow_speakers_and_light_up_word_by_word() -> None:
    lines = caption_lines(WORDS)
    assert [line.text for line in lines] == ["Een klompje goud.", "Precies zo."]
    assert [line.speaker for line in lines] == ["Anna", "Bram"]
    braces = (Word(6.0, 6.5, "{\\b1}nee", speaker="Bram"),)
    doc = ass_document(caption_lines((*WORDS, *braces)), size=720, offset=0.75)
    events = [line for line in doc.splitlines() if line.startswith("Dialogue:")]
    captions = [e for e in events if ",Caption," in e]
    speakers = [e.rsplit(",", 1)[-1] for e in events if ",Speaker," in e]
    assert speakers == ["Anna", "Bram"]
    # times relative to the clip; each word lights up when it is said (\k, centiseconds)
    assert captions[0].startswith("Dialogue: 0,0:00:00.25,")
    assert "{\\k50}Een {\\k60}klompje {\\k40}goud." in captions[0]
    assert "{" not in captions[-1].split("}", 1)[1].replace("{\\k", "")  # no override smuggled in
    assert "PlayResX: 720\nPlayResY: 720" in doc


def test_filter_graph_escapes_the_captions_path(tmp_path: Path) -> None:
    """A folder name with characters that mean something in a filter graph still works:
    ffmpeg renders the captions from it (a real one-frame run)."""
    folder = tmp_path / "it's, [a]: test;"
    folder.mkdir()
    ass = folder / "captions.ass"
    ass.write_text(ass_document(caption_lines(WORDS[:3]), size=240, offset=0.0), encoding="utf-8")
    bg = tmp_path / "bg.png"
    from PIL import Image

    Image.new("RGB", (240, 240), (0, 0, 0)).save(bg)
    sound = tmp_path / "tone.wav"
    subprocess.run(
        [find_ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "sine=f=220:d=3", str(sound)],
        check=True,
    )
    out = tmp_path / "out.mp4"
    graph = filter_graph(240, ass)
    cmd = [find_ffmpeg(), "-v", "error", "-i", str(bg), "-i", str(sound)]
    cmd += ["-filter_complex", graph, "-map", "[video]", "-t", "3", "-y", str(out)]
    subprocess.run(cmd, check=True)
    grey = frame(out, 2.0, 240)
    band = grey[Layout(240).speaker_top :, :]
    assert (band > 180).mean() > 0.005, "no captions rendered"


# --- the real clips ------------------------------------------------------------------------------
def test_mp3_clip_whole_words_loudness_and_title(
    episode: tuple[Workspace, str], tmp_path: Path
) -> None:
    ws, slug = episode
    ep = load_episode(ws, slug)
    out = tmp_path / "fragment.mp3"
    result = clip(ws, slug, ClipOptions(start=20.7, end=27.3), out)
    # whole words: the file starts in the pause before a word and ends in the pause after one
    words = words_of(ws, slug)
    first, last = result.start, result.end
    assert not any(w.start < first < w.end for w in words)
    assert not any(w.start < last < w.end for w in words)
    assert result.words > 5 and result.snapped
    info = ffprobe(out)
    assert [s["codec_name"] for s in info["streams"]] == ["mp3"]
    assert abs(float(info["format"]["duration"]) - result.duration) < 0.3
    audio = streams(info, "audio")[0]
    assert int(audio["sample_rate"]) == ws.settings.audio.sample_rate
    assert int(audio["channels"]) == ws.settings.audio.channels
    # as loud as the episode (both measured by ffmpeg's ebur128)
    episode_i = measure_output(ws.episode_dir(slug) / ep.audio_file)["i"]
    assert abs(measure_output(out)["i"] - episode_i) < 1.5
    assert abs(result.loudness - episode_i) < 1.5
    # ID3: "episode: fragment", the fragment titled by its first words
    from mutagen.id3 import ID3

    tags = ID3(out)
    assert str(tags["TIT2"]) == result.title
    assert result.title.startswith("Het klompje goud: Maar die waarde")
    assert str(tags["TPE1"]) == "Ingrid Bakker"
    assert result.speakers == ("Ingrid Bakker",)
    # a title of the producer's choosing
    named = clip(ws, slug, ClipOptions(start=20.7, end=27.3, title="Het klompje goud"), out)
    assert str(ID3(out)["TIT2"]) == "Het klompje goud: Het klompje goud" == named.title
    assert listing(tmp_path) == ["fragment.mp3"]  # no temporary file left behind


def test_audiogram_square_with_waveform_captions_and_speaker(
    episode: tuple[Workspace, str], tmp_path: Path
) -> None:
    ws, slug = episode
    out = tmp_path / "audiogram.mp4"
    result = run_clip(ws, slug, "0:20.5", "0:27.3", "--video", "--size", "360", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Audiogram geschreven" in result.output and "Ingrid Bakker" in result.output
    info = ffprobe(out)
    video, audio = streams(info, "video"), streams(info, "audio")
    assert len(video) == 1 and len(audio) == 1
    assert (video[0]["width"], video[0]["height"]) == (360, 360)
    assert video[0]["codec_name"] == "h264" and audio[0]["codec_name"] == "aac"
    span = snap(words_of(ws, slug), 20.5, 27.3, load_episode(ws, slug).duration)
    assert abs(float(info["format"]["duration"]) - span.duration) < 0.3
    assert info["format"]["tags"]["title"].startswith("Het klompje goud: Maar die waarde")
    # captions and the speaker's name are burned in: bright text on the darkened lower part
    lay = Layout(360)
    grey = frame(out, 2.0, 360)
    assert (grey[lay.size - lay.caption_bottom - 2 * lay.caption_font :, :] > 150).mean() > 0.01
    assert (grey[lay.speaker_top : lay.speaker_top + lay.speaker_font, :] > 200).mean() > 0.005
    # the waveform moves
    band = slice(lay.wave_top, lay.wave_top + lay.wave_height)
    frames = [frame(out, t, 360)[band].astype(int) for t in (1.0, 2.0, 3.0)]
    assert np.abs(frames[0] - frames[1]).mean() > 0.5 or np.abs(frames[1] - frames[2]).mean() > 0.5
    assert listing(tmp_path) == ["audiogram.mp4"]


# --- bad input: one clear Dutch line, nothing written ---------------------------------------------
@pytest.mark.parametrize(
    "args, message",
    [
        (["0:30", "0:20"], "moet na het begin"),
        (["1:10", "1:20"], "na het einde van de aflevering"),
        (["0:50", "2:00"], "na het einde van de aflevering"),
        (["0:50", "een minuut"], "ongeldige tijd"),
        (["0:3.6", "0:4.0"], "niets gezegd"),
        (["0:20", "0:25", "--video", "--size", "721"], "even aantal pixels"),
    ],
)
def test_bad_times_one_line_nothing_written(
    episode: tuple[Workspace, str], tmp_path: Path, args: list[str], message: str
) -> None:
    ws, slug = episode
    result = run_clip(ws, slug, *args, "-o", str(tmp_path / "uit.mp3"))
    assert result.exit_code != 0
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("Error: "), result.stderr
    assert message in errors[0]
    assert listing(tmp_path) == []


def test_unknown_slug_and_missing_audio(episode: tuple[Workspace, str], tmp_path: Path) -> None:
    ws, slug = episode
    result = run_clip(ws, "bestaat-niet", "0", "5", "-o", str(tmp_path / "uit.mp3"))
    assert result.exit_code != 0 and "bestaat niet" in result.stderr
    # an episode whose MP3 is gone
    lost = ws.episode_dir("zonder-audio")
    lost.mkdir()
    shutil.copy(ws.episode_file(slug), lost / "episode.toml")
    try:
        result = run_clip(ws, "zonder-audio", "0", "5", "--video", "-o", str(tmp_path / "a.mp4"))
    finally:
        shutil.rmtree(lost)
    assert result.exit_code != 0
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and "heeft geen audiobestand" in errors[0], result.stderr
    assert listing(tmp_path) == []


def test_a_failure_leaves_an_older_file_untouched(
    episode: tuple[Workspace, str], tmp_path: Path
) -> None:
    """The cover art breaks after the audio is made: the old file stays as it was."""
    ws, slug = episode
    out = tmp_path / "audiogram.mp4"
    out.write_bytes(b"oud")
    broken = ws.root / "kapot.png"
    broken.write_bytes(b"geen afbeelding")
    toml = ws.episode_file(slug)
    before = toml.read_text(encoding="utf-8")
    toml.write_text(before.replace("guid =", 'image = "kapot.png"\nguid =', 1), encoding="utf-8")
    try:
        result = run_clip(ws, slug, "20", "27", "--video", "--size", "240", "-o", str(out))
    finally:
        toml.write_text(before, encoding="utf-8")
        broken.unlink()
    assert result.exit_code != 0
    assert "coverafbeelding kapot.png" in result.stderr, result.stderr
    assert out.read_bytes() == b"oud"
    assert listing(tmp_path) == ["audiogram.mp4"]
    assert list(ws.tmp_dir.glob("clip-*")) == []


# --- the producer app -------------------------------------------------------------------------
def test_producer_downloads_a_fragment_and_its_audiogram(episode: tuple[Workspace, str]) -> None:
    from test_webapp import login

    from pipeline.service.webapp import mount

    ws, slug = episode
    app = Starlette()
    mount(app, ws)
    url = f"{P}/afleveringen/{slug}/fragmenten"
    with TestClient(app) as client:
        assert client.get(f"{url}/2/fragment.mp3").status_code == 401  # login first
        login(client, ws)
        html = client.get(f"{P}/afleveringen/{slug}").text
        assert f"{url}/2/fragment.mp3" in html and f"{url}/2/audiogram.mp4" in html

        mp3 = client.get(f"{url}/2/fragment.mp3")
        assert mp3.status_code == 200, mp3.text
        assert mp3.headers["content-type"] == "audio/mpeg"
        assert f'filename="{slug}-fragment-2.mp3"' in mp3.headers["content-disposition"]
        assert mp3.content[:3] == b"ID3"
        again = client.get(f"{url}/2/fragment.mp3")  # from the cache, the same bytes
        assert again.content == mp3.content
        assert len(list((ws.cache_dir / "clips").glob(f"{slug}-2-*.mp3"))) == 1

        video = client.get(f"{url}/1/audiogram.mp4")
        assert video.status_code == 200, video.text
        assert video.headers["content-type"] == "video/mp4"
        cached = next((ws.cache_dir / "clips").glob(f"{slug}-1-*.mp4"))
        info = ffprobe(cached)
        assert streams(info, "video")[0]["width"] == streams(info, "video")[0]["height"]
        assert streams(info, "audio")

        assert client.get(f"{url}/9/fragment.mp3").status_code == 404
        assert client.get(f"{url}/1/iets.exe").status_code == 404
        assert client.get(f"{P}/afleveringen/niets/fragmenten/1/fragment.mp3").status_code == 404
