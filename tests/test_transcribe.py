"""The transcribe stage with real engines: faster-whisper with the bundled model (loaded once per
session), openai-whisper with a tiny random checkpoint made here; cache, resume after a kill,
human edits, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from pipeline.catalogue import open_catalogue
from pipeline.cli import cli
from pipeline.core.episodes import save_episode
from pipeline.core.errors import ModelError, TranscriptError
from pipeline.core.models import Episode
from pipeline.core.workspace import Workspace
from pipeline.transcribe.glossary import load_glossary
from pipeline.transcribe.options import TranscribeOptions, cache_key
from pipeline.transcribe.stage import ChunkState, episode_options, transcribe
from pipeline.transcribe.store import edited_files, load_transcript, read_transcript_json
from pipeline.transcribe.streaming import SAMPLE_RATE, stream_chunks
from pipeline.transcribe.weights.models import (
    BUNDLED_SHA256,
    materialise_bundled,
    resolve_model,
)

ROOT = Path(__file__).resolve().parent.parent

LONG_TEXT = (
    "Welkom bij deze lezing over de dijkversterking tussen Gorinchem en Waardenburg. "
    "Het waterschap Rivierenland was de opdrachtgever. "
    "De aannemers vormden samen met het waterschap een alliantie. "
    "Zo deelden opdrachtgever en opdrachtnemer de risico's en de winst. "
    "Op het Heuff-terrein was natuurcompensatie de aanleiding. "
    "Dank u wel voor uw aandacht."
)


def _mp3(source: Path, out: Path) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(source), "-ac", "1", "-ar", "44100"]
        + ["-b:a", "96k", str(out)],
        check=True,
    )
    return out


@pytest.fixture(scope="session")
def long_mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 30 s of Dutch speech with pauses between the sentences."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    folder = tmp_path_factory.mktemp("long")
    wav = folder / "lang.wav"
    subprocess.run(["espeak-ng", "-v", "nl", "-g", "12", "-w", str(wav), LONG_TEXT], check=True)
    return _mp3(wav, folder / "lang.mp3")


def add_episode(
    ws: Workspace, audio: Path, slug: str = "lezing", speakers: tuple[str, ...] = ("Anne Bakker",)
) -> Episode:
    """An episode made by hand (as ingest would leave it): episode.toml + MP3."""
    folder = ws.episode_dir(slug)
    folder.mkdir(parents=True, exist_ok=True)
    if audio.suffix == ".mp3":
        shutil.copyfile(audio, folder / f"{slug}.mp3")
    else:
        _mp3(audio, folder / f"{slug}.mp3")
    ep = Episode(
        slug=slug,
        title="Lezing over de dijk",
        date=dt.date(2025, 3, 14),
        guid=f"guid-{slug}",
        speakers=speakers,
        audio_file=f"{slug}.mp3",
    )
    save_episode(ws, ep)
    return ep


# --- no model needed ----------------------------------------------------------------------------


def test_stream_chunks_are_contiguous_and_bounded(tmp_path: Path) -> None:
    wav = tmp_path / "toon.wav"
    # 1 s tone, 0.5 s silence, repeated: 15 s
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=15"]
        + ["-af", "volume='if(lt(mod(t,1.5),1),1,0)':eval=frame", "-ac", "1", "-ar", "16000"]
        + [str(wav)],
        check=True,
    )
    chunks = list(stream_chunks(wav, chunk_seconds=5))  # cut within the last 1.25 s
    assert len(chunks) >= 3
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert abs(a.end - b.start) < 1e-6
        assert 3.75 <= a.end - a.start <= 5.0
        # cut in the silence
        assert np.abs(a.samples[-400:]).max() < 0.05
    assert abs(chunks[-1].end - 15.0) < 0.01
    # a rest shorter than half a chunk joined the last one: no short last chunk
    assert 2.5 <= chunks[-1].end - chunks[-1].start <= 7.5
    # resuming mid-way gives the same rest
    rest = list(stream_chunks(wav, 5, start=chunks[2].start, first_index=2))
    assert rest[0].index == 2
    assert abs(rest[0].start - chunks[2].start) < 1e-6
    assert abs(rest[-1].end - 15.0) < 0.01


def test_options_and_cache_key(ws: Workspace, models_dir: Path) -> None:
    opts = episode_options(ws)
    assert opts.language == "nl" and opts.engine == "faster-whisper" and opts.model == "base"
    assert "Gorinchem" in opts.initial_prompt and "dijkversterking" in opts.initial_prompt
    assert "Gorinchem" in load_glossary(ws)
    spec = resolve_model("base", "faster-whisper", ws.cache_dir)
    assert spec.identity == "sha256:" + BUNDLED_SHA256
    k = cache_key("a" * 64, spec, opts)
    assert k == cache_key("a" * 64, spec, replace(opts, device="cuda", cpu_threads=3))
    assert k != cache_key("b" * 64, spec, opts)
    assert k != cache_key("a" * 64, spec, replace(opts, language="en"))
    assert k != cache_key("a" * 64, spec, replace(opts, initial_prompt=""))
    # the glossary is the workspace's, editable
    ws.glossary_path.write_text("# leeg\nKlompje goud\n", encoding="utf-8")
    assert episode_options(ws).initial_prompt == "Klompje goud."
    with pytest.raises(TranscriptError, match="onbekende engine"):
        episode_options(ws, engine="kaldi")


def test_model_errors_are_one_dutch_line(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="bestaat niet"):
        resolve_model(str(tmp_path / "geen-model"), "faster-whisper", ws.cache_dir)
    (tmp_path / "leeg").mkdir()
    with pytest.raises(ModelError, match="geen CTranslate2"):
        resolve_model(str(tmp_path / "leeg"), "faster-whisper", ws.cache_dir)
    # a name is downloaded where a network exists; offline a clear error (no network here)
    spec = resolve_model("tiny", "faster-whisper", ws.cache_dir)
    assert spec.kind == "name"
    from pipeline.transcribe.weights.models import load_faster_whisper

    try:
        load_faster_whisper(spec)
    except ModelError as exc:
        assert "geen netwerk" in str(exc) and "\n" not in str(exc)


@pytest.mark.slow
def test_bundled_model_is_verified_and_repaired(tmp_path: Path) -> None:
    models = tmp_path / "models"
    target = materialise_bundled(models)
    model_bin = target / "model.bin"
    stamp = model_bin.stat().st_mtime_ns
    assert materialise_bundled(models) == target
    assert model_bin.stat().st_mtime_ns == stamp  # verified from the cache, not rewritten
    hashes = json.loads((models / "file-hashes.json").read_text())
    assert hashes[str(model_bin.resolve())]["sha256"] == BUNDLED_SHA256
    # damage it: detected (size/mtime changed -> rehashed) and joined again
    with open(model_bin, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00\x01\x02")
    materialise_bundled(models)
    from pipeline.transcribe.weights.models import file_sha256

    assert file_sha256(model_bin) == BUNDLED_SHA256


def test_audio_hash_ignores_id3_tags(tmp_path: Path, speech_wav: Path) -> None:
    """The feed stage writes ID3 chapters into the MP3: its bytes change, its audio does not."""
    from pipeline.core.models import Chapter
    from pipeline.feed.chapters import write_id3_chapters
    from pipeline.transcribe.weights.models import file_sha256

    mp3 = _mp3(speech_wav, tmp_path / "a.mp3")
    whole, audio = file_sha256(mp3), file_sha256(mp3, tmp_path, audio_only=True)
    assert write_id3_chapters(mp3, [Chapter(0, 0.0, 2.0, "Welkom"), Chapter(1, 2.0, 4.0, "Dijk")])
    assert file_sha256(mp3) != whole
    assert file_sha256(mp3, tmp_path, audio_only=True) == audio  # not the cached value:
    assert file_sha256(mp3, audio_only=True) == audio  # the file's stamp changed
    with open(mp3, "ab") as fh:  # an ID3v1 tag at the end
        fh.write(b"TAG" + b"Titel".ljust(125, b"\x00"))
    assert file_sha256(mp3, audio_only=True) == audio
    other = tmp_path / "b.mp3"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(speech_wav), "-b:a", "64k", str(other)],
        check=True,
    )
    assert file_sha256(other, audio_only=True) != audio


def test_person_transcripts_are_kept(
    ws: Workspace, models_dir: Path, speech_wav: Path, tmp_path: Path, runner
) -> None:
    """An imported transcript (a person's, exact) is not replaced by Whisper without --force;
    `transcribe --all` skips it and succeeds. Refused before any model is loaded."""
    from pipeline.core.errors import ProtectedTranscriptError
    from pipeline.transcribe.stage import import_transcript

    add_episode(ws, speech_wav)
    srt = tmp_path / "mens.srt"
    srt.write_text("1\n00:00:00,500 --> 00:00:04,000\nWelkom bij de podcast.\n", "utf-8")
    import_transcript(ws, "lezing", srt)
    path = ws.transcript_path("lezing", "json")
    before = path.read_text("utf-8")
    with pytest.raises(ProtectedTranscriptError, match="geïmporteerd.*--force"):
        transcribe(ws, "lezing")
    result = runner.invoke(cli, ["-w", str(ws.root), "transcribe", "--all"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "lezing: overgeslagen: transcripts/lezing.json is een geïmporteerd (menselijk) "
        "transcript (--force vervangt het)\n"
    )
    one = runner.invoke(cli, ["-w", str(ws.root), "transcribe", "lezing"])
    assert one.exit_code == 1 and "geïmporteerd" in one.output and "--force" in one.output
    assert "Traceback" not in one.output
    assert path.read_text("utf-8") == before
    # what `vlinder add` does after ingest says so too, and does not fail
    from pipeline import flows
    from pipeline.service.messages import process_lines

    lines = process_lines(flows.process(ws, "lezing"))
    assert lines[0].startswith("Transcript behouden: transcripts/lezing.json is een geïmp")
    assert path.read_text("utf-8") == before


def test_progress_bar_only_on_a_terminal_and_ends_its_line() -> None:
    import io

    from pipeline.cli.transcribe import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    log = io.StringIO()
    bar = ProgressBar("lezing", file=log)
    bar(0.0, 60.0)
    bar(30.0, 60.0)
    bar.close()
    assert log.getvalue() == ""  # a log gets the result line only
    term = Terminal()
    bar = ProgressBar("lezing", file=term)
    bar(0.0, 60.0)
    bar(30.0, 60.0)  # interrupted here: close() still ends the line
    bar.close()
    assert "lezing" in term.getvalue() and "00:30 / 01:00" in term.getvalue()
    assert term.getvalue().endswith("\n")


def test_malloc_arenas_are_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    """glibc's default arenas let the peak RSS grow chunk after chunk on long recordings
    (benchmarks/results/transcribe.md); the stage limits them unless the user set a value."""
    from pipeline.transcribe.engines import limit_malloc_arenas

    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    assert limit_malloc_arenas() is (sys.platform == "linux")
    from pipeline.transcribe.engines import tune_memory

    monkeypatch.delenv("MKL_DISABLE_FAST_MM", raising=False)
    tune_memory()
    assert os.environ["MKL_DISABLE_FAST_MM"] == "1"
    monkeypatch.setenv("MKL_DISABLE_FAST_MM", "0")
    tune_memory()
    assert os.environ["MKL_DISABLE_FAST_MM"] == "0"  # the user's choice wins


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's malloc_trim")
def test_free_heap_pages_go_back_after_a_chunk() -> None:
    from pipeline.transcribe.engines import release_free_memory

    blocks = [bytes(10_000) for _ in range(5_000)]  # 50 MB on the malloc heap (< mmap size)
    del blocks
    assert release_free_memory() is True


# --- faster-whisper, bundled model ------------------------------------------------------------


@pytest.mark.slow
def test_transcribe_episode_writes_every_format(
    ws: Workspace, fw_model: object, speech_wav: Path
) -> None:
    add_episode(ws, speech_wav)
    seen: list[tuple[float, float]] = []
    result = transcribe(ws, "lezing", progress=lambda d, t: seen.append((d, t)))
    assert result.status == "transcribed" and result.segments >= 1
    for ext in ("json", "vtt", "srt", "txt", "podcast.json", "html"):
        assert ws.transcript_path("lezing", ext).exists()
    data = read_transcript_json(ws, "lezing")
    assert data["engine"] == "faster-whisper" and data["model"] == "base"
    assert data["options"]["model_identity"] == "sha256:" + BUNDLED_SHA256
    assert data["options"]["language"] == "nl"
    assert data["options"]["key"] == result.key
    t = load_transcript(ws, "lezing")
    assert t is not None and t.language == "nl"
    words = [w for s in t.segments for w in s.words]
    assert len(words) >= 10
    assert all(0 <= w.start <= w.end <= t.duration + 0.5 for w in words)
    assert all(0.0 < w.probability <= 1.0 for w in words)
    assert {s.speaker for s in t.segments} == {"Anne Bakker"}  # a talk with one speaker
    # the domain vocabulary helps: espeak's Dutch is rough, but these come out right
    text = t.text.lower()
    assert sum(term in text for term in ("dijkversterking", "alliantie", "podcast")) >= 2, text
    assert "<v Anne Bakker>" in ws.transcript_path("lezing", "vtt").read_text()
    podcast = json.loads(ws.transcript_path("lezing", "podcast.json").read_text())
    assert podcast["version"] == "1.0.0" and podcast["segments"][0]["speaker"] == "Anne Bakker"
    # progress: increasing, ends at the total
    assert seen[-1][0] == seen[-1][1] > 0
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    with open_catalogue(ws) as cat:
        row = cat.stages("lezing")["transcribe"]
    assert row["status"] == "done" and row["key"] == result.key

    # the same key again: a no-op that touches nothing
    stamps = {p.name: p.stat().st_mtime_ns for p in ws.transcripts_dir.iterdir()}
    again = transcribe(ws, "lezing")
    assert again.status == "cached"
    assert stamps == {p.name: p.stat().st_mtime_ns for p in ws.transcripts_dir.iterdir()}
    # a deleted format comes back from the JSON, without transcribing
    srt = ws.transcript_path("lezing", "srt")
    before = srt.read_text()
    srt.unlink()
    assert transcribe(ws, "lezing").status == "cached"
    assert srt.read_text() == before

    # a producer corrects the VTT; new options do not overwrite it without --force
    vtt = ws.transcript_path("lezing", "vtt")
    vtt.write_text(vtt.read_text().replace("<v Anne Bakker>", "<v Anne Bakker>Hallo! ", 1))
    other = replace(episode_options(ws), beam_size=1)
    with pytest.raises(TranscriptError, match="met de hand bewerkt.*--force"):
        transcribe(ws, "lezing", options=other)
    assert "Hallo!" in vtt.read_text()
    assert load_transcript(ws, "lezing").text.startswith("Hallo!")
    # still a no-op with the options it was made with: the edit stays
    assert transcribe(ws, "lezing").status == "cached"
    forced = transcribe(ws, "lezing", options=other, force=True)
    assert forced.status == "transcribed" and forced.key != result.key
    assert "Hallo!" not in vtt.read_text() and edited_files(ws, "lezing") == []


@pytest.mark.slow
def test_chapters_in_the_mp3_and_web_corrections_keep_the_cache(
    ws: Workspace, fw_model: object, speech_wav: Path
) -> None:
    """Building feeds writes ID3 chapters into the MP3: transcribing again is still a no-op.
    A correction made in the web app is a person's: another model does not replace it."""
    from conftest import loaded_transcript_form

    from pipeline.core.errors import ProtectedTranscriptError
    from pipeline.core.models import Chapter
    from pipeline.feed.chapters import read_id3_chapters, write_id3_chapters
    from pipeline.service.webapp.editing import save_transcript

    add_episode(ws, speech_wav)
    first = transcribe(ws, "lezing")
    assert first.status == "transcribed"
    mp3 = ws.episode_dir("lezing") / "lezing.mp3"
    before = mp3.read_bytes()
    assert write_id3_chapters(mp3, [Chapter(0, 0.0, 3.0, "Welkom"), Chapter(1, 3.0, 6.0, "Dijk")])
    assert mp3.read_bytes() != before and len(read_id3_chapters(mp3)) == 2
    stamps = {p.name: p.stat().st_mtime_ns for p in ws.transcripts_dir.iterdir()}
    again = transcribe(ws, "lezing")
    assert again.status == "cached" and again.key == first.key
    assert stamps == {p.name: p.stat().st_mtime_ns for p in ws.transcripts_dir.iterdir()}

    # the producer corrects the first sentence in the web app
    form = {**loaded_transcript_form(ws, "lezing"), "seg_0": "Welkom bij de podcast van Vlinder."}
    save_transcript(ws, "lezing", form)
    assert transcribe(ws, "lezing").status == "cached"  # same key: nothing to do
    other = replace(episode_options(ws), beam_size=1)
    with pytest.raises(ProtectedTranscriptError, match="met de hand verbeterd.*--force"):
        transcribe(ws, "lezing", options=other)
    assert load_transcript(ws, "lezing").segments[0].text == "Welkom bij de podcast van Vlinder."
    forced = transcribe(ws, "lezing", options=other, force=True)
    assert forced.status == "transcribed"
    assert "van Vlinder" not in load_transcript(ws, "lezing").text


@pytest.mark.slow
def test_cli_transcribe_and_errors(
    ws: Workspace, fw_model: object, speech_wav: Path, runner
) -> None:
    add_episode(ws, speech_wav, slug="een")
    result = runner.invoke(cli, ["-w", str(ws.root), "transcribe", "een"])
    assert result.exit_code == 0, result.output
    # one line, ended: no progress bar (nor its label, the slug) when not on a terminal
    assert result.output.startswith("een: ") and result.output.count("\n") == 1
    assert result.output.endswith("\n") and "segmenten" in result.output
    again = runner.invoke(cli, ["-w", str(ws.root), "transcribe", "--all"])
    assert again.exit_code == 0 and "al actueel" in again.output
    missing = runner.invoke(cli, ["-w", str(ws.root), "transcribe", "bestaat-niet"])
    assert missing.exit_code != 0 and "bestaat niet" in missing.output
    assert "Traceback" not in missing.output
    both = runner.invoke(cli, ["-w", str(ws.root), "transcribe", "een", "--all"])
    assert both.exit_code == 2
    bad_model = runner.invoke(cli, ["-w", str(ws.root), "transcribe", "een", "--model", "./nee"])
    assert bad_model.exit_code == 1 and "model niet gevonden" in bad_model.output


@pytest.mark.slow
def test_eval_asr(
    ws: Workspace, fw_model: object, speech_wav: Path, tmp_path: Path, runner
) -> None:
    reference = tmp_path / "ref.txt"
    reference.write_text(
        "Welkom bij de podcast over de dijkversterking tussen Gorinchem en Waardenburg. "
        "De alliantie deelde de risico's en werkte als één team.",
        encoding="utf-8",
    )
    result = runner.invoke(
        cli, ["-w", str(ws.root), "eval", "asr", str(speech_wav), str(reference), "--json"]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["reference_words"] == 21
    assert 0.0 <= figures["wer"] < 1.0
    assert figures["rtf"] > 0 and figures["audio_seconds"] > 5
    text = runner.invoke(cli, ["-w", str(ws.root), "eval", "asr", str(speech_wav), str(reference)])
    assert text.exit_code == 0 and "WER:" in text.output and "Realtimefactor" in text.output


@pytest.mark.slow
def test_resume_after_kill(ws: Workspace, fw_model: object, long_mp3: Path) -> None:
    """Kill a real `vlinder transcribe` after its first chunk; the next run resumes there."""
    add_episode(ws, long_mp3)
    chunk_dir = ws.state_dir / "transcribe" / "lezing"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "-w", str(ws.root), "transcribe", "lezing"]
        + ["--chunk-seconds", "6"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 300
        while not (chunk_dir / "chunk-0000.json").exists():
            assert proc.poll() is None, "transcribe ended before its first chunk"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not ws.transcript_path("lezing", "json").exists()
    saved = json.loads((chunk_dir / "chunk-0000.json").read_text())
    done_before = len(list(chunk_dir.glob("chunk-*.json")))
    assert done_before >= 1

    opts = episode_options(ws, chunk_seconds=6.0)
    result = transcribe(ws, "lezing", options=opts)
    assert result.status == "transcribed"
    assert result.resumed_chunks == done_before
    assert result.chunks >= 4
    t = load_transcript(ws, "lezing")
    assert t is not None
    first_saved = [s["text"] for s in saved["segments"]]
    joined = " ".join(s.text for s in t.segments)
    assert " ".join(first_saved) in joined  # chunk 0 was reused, not redone
    assert t.segments[-1].end > t.duration - 6  # and the rest got done
    assert len(t.segments) > len(saved["segments"])
    assert not chunk_dir.exists()  # the partial state is cleaned up


@pytest.mark.slow
def test_chunk_state_ignores_other_keys(ws: Workspace, long_mp3: Path) -> None:
    chunk = next(stream_chunks(long_mp3, 5))
    state = ChunkState(ws, "lezing", "key-1")
    state.add(chunk, [])
    assert ChunkState(ws, "lezing", "key-1").resume_at == pytest.approx(chunk.end, abs=1e-3)
    assert ChunkState(ws, "lezing", "key-2").resume_at == 0.0  # other options: start over
    assert not state.dir.exists()


# --- openai-whisper, tiny random checkpoint -------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch = pytest.importorskip("torch")
    whisper_model = pytest.importorskip("whisper.model")
    dims = whisper_model.ModelDimensions(
        n_mels=80,
        n_audio_ctx=1500,
        n_audio_state=64,
        n_audio_head=2,
        n_audio_layer=1,
        n_vocab=51865,  # the multilingual tokenizer
        n_text_ctx=448,
        n_text_state=64,
        n_text_head=2,
        n_text_layer=1,
    )
    torch.manual_seed(0)
    model = whisper_model.Whisper(dims)
    path = tmp_path_factory.mktemp("tiny") / "tiny-random.pt"
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path


def tiny_options(
    ws: Workspace, checkpoint: Path, temperature: tuple[float, ...]
) -> TranscribeOptions:
    """openai-whisper with the tiny random checkpoint: greedy, and at most 12 tokens a window
    (a random model never stops by itself)."""
    return episode_options(
        ws,
        engine="openai-whisper",
        model=str(checkpoint),
        beam_size=1,
        temperature=temperature,
        max_new_tokens=12,
    )


@pytest.mark.slow
def test_openai_whisper_engine(ws: Workspace, tiny_checkpoint: Path, speech_wav: Path) -> None:
    add_episode(ws, speech_wav)
    # a random model fails every check: no fallback decoding
    opts = tiny_options(ws, tiny_checkpoint, temperature=(0.0,))
    result = transcribe(ws, "lezing", options=opts)
    assert result.status == "transcribed" and result.engine == "openai-whisper"
    data = read_transcript_json(ws, "lezing")
    assert data["engine"] == "openai-whisper"
    assert data["model"] == str(tiny_checkpoint)
    assert data["options"]["model_identity"].startswith("sha256:")
    assert data["options"]["language"] == "nl"
    # same structure as faster-whisper: segments with words (a random model says nonsense)
    for seg in data["segments"]:
        assert {"id", "start", "end", "text", "words"} <= set(seg)
        for w in seg["words"]:
            assert set(w) == {"start", "end", "text", "probability"}
    assert ws.transcript_path("lezing", "vtt").read_text().startswith("WEBVTT")
    assert transcribe(ws, "lezing", options=opts).status == "cached"


def test_fallback_sampling_is_reproducible(
    ws: Workspace, tiny_checkpoint: Path, speech_wav: Path
) -> None:
    """A random model fails every quality check, so each window falls back to sampling at
    temperature 0.5: with the seed set per chunk, --force gives the same transcript again."""
    add_episode(ws, speech_wav)
    opts = tiny_options(ws, tiny_checkpoint, temperature=(0.0, 0.5))
    texts = []
    for _ in range(2):
        transcribe(ws, "lezing", options=opts, force=True)
        texts.append([s["text"] for s in read_transcript_json(ws, "lezing")["segments"]])
    assert texts[0] and texts[0] == texts[1]


def test_openai_whisper_missing_model_is_clear(ws: Workspace) -> None:
    pytest.importorskip("whisper")
    from pipeline.transcribe.weights.models import load_openai_whisper

    spec = resolve_model("geen-bestaand-model", "openai-whisper", ws.cache_dir)
    with pytest.raises(ModelError, match="onbekend openai-whisper-model"):
        load_openai_whisper(spec)


def test_chunks_of_silence_only(ws: Workspace, tmp_path: Path) -> None:
    """A chunk with no speech at all yields no segments and no error (no model needed)."""
    wav = tmp_path / "stil.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "3"]
        + [str(wav)],
        check=True,
    )
    [chunk] = list(stream_chunks(wav, 10))
    assert len(chunk.samples) == 3 * SAMPLE_RATE
    assert float(np.abs(chunk.samples).max()) == 0.0


# --- through `vlinder add` (ingest + after_ingest) ----------------------------------------------


@pytest.mark.slow
def test_add_with_transcript_file_and_bad_file(
    ws: Workspace, speech_wav: Path, tmp_path: Path, runner
) -> None:
    bad = tmp_path / "kapot.vtt"
    bad.write_text("WEBVTT\n\n00:00:01.000 -> 00:00:02.000\nHallo\n", encoding="utf-8")
    result = runner.invoke(
        cli, ["-w", str(ws.root), "add", str(speech_wav), "-t", "Kapot", "--transcript", str(bad)]
    )
    assert result.exit_code != 0 and "regel 3" in result.output
    assert not list(ws.episodes_dir.glob("*/episode.toml"))  # checked before ingest
    good = tmp_path / "goed.srt"
    good.write_text("1\n00:00:00,500 --> 00:00:04,000\nWelkom bij de podcast.\n", encoding="utf-8")
    result = runner.invoke(
        cli,
        ["-w", str(ws.root), "add", str(speech_wav), "-t", "Goed", "--transcript", str(good)],
    )
    assert result.exit_code == 0, result.output
    slug = next(ws.episodes_dir.glob("*/episode.toml")).parent.name
    t = load_transcript(ws, slug)
    assert t is not None and t.text == "Welkom bij de podcast." and t.engine == "import"


@pytest.mark.slow
def test_add_transcribes(ws: Workspace, fw_model: object, speech_wav: Path, runner) -> None:
    result = runner.invoke(cli, ["-w", str(ws.root), "add", str(speech_wav), "-t", "Spraak"])
    assert result.exit_code == 0, result.output
    slug = next(ws.episodes_dir.glob("*/episode.toml")).parent.name
    t = load_transcript(ws, slug)
    assert t is not None and t.engine == "faster-whisper" and len(t.segments) >= 1
    with open_catalogue(ws) as cat:
        assert cat.stages(slug)["transcribe"]["status"] == "done"
