"""The transcribe stage: audio -> :class:`~pipeline.models.Transcript` -> ``transcripts/``.

- Engines sit behind the small :class:`Transcriber` protocol: faster-whisper (default; batched
  with VAD) and openai-whisper (optional extra). Both give the same structure: segments with
  words (start, end, text, probability).
- Streaming: the MP3 is decoded by ffmpeg into 16 kHz mono and read in chunks of
  ``chunk_seconds`` (3 minutes), each cut at the quietest moment of its last seconds, so memory
  does not grow with the length of the recording. glibc's malloc gets at most 2 arenas
  (:func:`limit_malloc_arenas`): with its default, the engine's threads fragmented their own
  arenas and the peak grew chunk after chunk.
- Resume: each finished chunk's segments go to ``.vlinder/transcribe/<slug>/chunk-NNNN.json``
  (atomically); a killed run starts again after the last finished chunk.
- Reproducible: the temperature fallback samples, so each chunk starts from the same seed
  (:data:`SEED`): the same audio with the same options gives the same transcript.
- Memory on the CPU: faster-whisper's model is ``LeanWhisperModel`` (:mod:`pipeline.lean_model`),
  which encodes and aligns one 30 s window at a time (the peak of a
  60-minute recording went from 1143 to ~800 MB; benchmarks/results/transcribe.md); after each
  chunk the heap's free pages go back to the system (:func:`release_free_memory`).
- Cache: the key is (audio sha256, engine, model identity, options incl. language and
  glossary). The audio hash leaves the ID3 tags out: the feed stage writes chapter frames into
  the MP3, which changes its bytes but not its sound. When ``transcripts/<slug>.json`` has that
  key, transcribing again is a no-op.
- A person's transcript is not overwritten without ``force``: a file changed after Vlinder
  wrote it (see :func:`pipeline.transcripts.edited_files`), an imported transcript (``vlinder
  add --transcript``) and one corrected in the web app
  (:func:`pipeline.transcripts.protected_reason`).
- Domain vocabulary: the workspace's ``glossary.txt`` becomes the decoder's initial prompt
  (``initial_prompt``, which both engines support and faster-whisper's batched mode applies to
  every 30 s window). Hotwords are not used as well: faster-whisper puts them in the same prompt
  slot, so both would only repeat the list.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .db import open_catalogue
from .episodes import load_episode
from .errors import AudioError, NotFoundError, ToolError, TranscriptError, VlinderError
from .models import Episode, Segment, Transcript, Word
from .settings import TranscribeSettings
from .transcripts import (
    EXTENSIONS,
    ProtectedTranscriptError,
    edited_files,
    human_source,
    parse_transcript_file,
    protected_reason,
    read_transcript_json,
    split_sentences,
    transcript_data,
    transcript_from_data,
    write_transcript,
)
from .whisper_model import (
    ModelSpec,
    file_sha256,
    load_faster_whisper,
    load_openai_whisper,
    resolve_model,
)
from .workspace import Workspace, atomic_write_text

SAMPLE_RATE = 16000
ENGINES = ("faster-whisper", "openai-whisper")
Progress = Callable[[float, float], None]  # (seconds done, seconds total)
DEFAULT_GLOSSARY = Path(__file__).parent / "data" / "glossary.txt"
MAX_PROMPT_CHARS = 250
# Seed of the sampling in the temperature fallback, set before each chunk: the same audio with
# the same options gives the same transcript (what the cache key promises), also after a resume
SEED = 0


# --- options ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TranscribeOptions:
    engine: str = "faster-whisper"
    model: str = "base"
    language: str = "nl"
    device: str = "cpu"
    compute_type: str = "int8"
    batch_size: int = 4
    vad: bool = True
    beam_size: int = 5
    word_timestamps: bool = True
    # decoding: temperatures to fall back through when a window decodes badly, and a cap on
    # the tokens per 30 s window (None: the model's maximum)
    temperature: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    max_new_tokens: int | None = None
    # audio per chunk: memory does not grow beyond one chunk. Not longer than ~200 s: the VAD
    # (Silero, in faster-whisper) takes up to 320 s of audio at once and its memory grows with
    # it (measured: 600 s chunks peaked at 1.24 GB, +37% on a 3.6-minute recording)
    chunk_seconds: float = 180.0
    initial_prompt: str = ""
    cpu_threads: int = 0  # 0: the number of cores this process may use

    @classmethod
    def from_settings(
        cls, settings: TranscribeSettings, glossary: tuple[str, ...] = (), **overrides: Any
    ) -> TranscribeOptions:
        values = {
            "engine": settings.engine,
            "model": settings.model,
            "language": settings.language,
            "device": settings.device,
            "compute_type": settings.compute_type,
            "batch_size": settings.batch_size,
            "vad": settings.vad,
            "beam_size": settings.beam_size,
            "initial_prompt": glossary_prompt(glossary),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        opts = cls(**values)  # type: ignore[arg-type]
        opts.check()
        return opts

    def check(self) -> None:
        if self.engine not in ENGINES:
            raise TranscriptError(
                f"onbekende engine '{self.engine}': kies faster-whisper of openai-whisper"
            )
        if self.device not in ("cpu", "cuda", "auto"):
            raise TranscriptError(f"onbekend apparaat '{self.device}': kies cpu of cuda")
        if not self.language or len(self.language) > 8:
            raise TranscriptError(f"ongeldige taal '{self.language}' (bijv. nl)")
        if self.chunk_seconds < 2:
            raise TranscriptError("chunk_seconds moet minstens 2 seconden zijn")

    def key_fields(self) -> dict[str, Any]:
        """What changes the transcript (not the device or the number of threads)."""
        data = asdict(self)
        for name in ("device", "cpu_threads", "model"):
            data.pop(name)
        if self.engine == "openai-whisper":
            for name in ("compute_type", "batch_size", "vad"):
                data.pop(name)
        return data

    def threads(self) -> int:
        if self.cpu_threads:
            return self.cpu_threads
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not Linux
            return os.cpu_count() or 1


def load_glossary(ws: Workspace) -> tuple[str, ...]:
    """Terms from ``<workspace>/glossary.txt`` (the bundled default when it does not exist).

    One term a line; empty lines and lines starting with ``#`` are skipped. An empty file turns
    the vocabulary prompt off.
    """
    path = ws.glossary_path if ws.glossary_path.exists() else DEFAULT_GLOSSARY
    if not path.exists():
        return ()
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip()
        if term and term not in terms:
            terms.append(term)
    return tuple(terms)


def glossary_prompt(terms: tuple[str, ...]) -> str:
    """``'Gorinchem, Waardenburg, ...'``: the first terms that fit in ~250 characters."""
    out: list[str] = []
    length = 0
    for term in terms:
        if length + len(term) + 2 > MAX_PROMPT_CHARS:
            break
        out.append(term)
        length += len(term) + 2
    return ", ".join(out) + "." if out else ""


def cache_key(audio_sha256: str, spec: ModelSpec, opts: TranscribeOptions) -> str:
    payload = {
        "audio": audio_sha256,
        "engine": opts.engine,
        "model": spec.identity,
        "options": opts.key_fields(),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


# --- audio, streamed ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudioChunk:
    index: int
    start: float  # seconds from the start of the file
    samples: np.ndarray  # float32, 16 kHz mono

    @property
    def end(self) -> float:
        return self.start + len(self.samples) / SAMPLE_RATE


def audio_duration(path: Path) -> float:
    """Duration in seconds, from the container (PyAV)."""
    import av

    try:
        with av.open(str(path)) as container:
            if container.duration:
                return container.duration / 1_000_000
            stream = container.streams.audio[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
            return 0.0
    except (av.FFmpegError, IndexError) as exc:
        raise AudioError(f"{path.name}: geen leesbare audio ({exc})") from exc


def _quiet_cut(samples: np.ndarray, window: int) -> int:
    """The sample index of the quietest 100 ms in the last ``window`` samples."""
    frame = SAMPLE_RATE // 10
    tail = samples[-window:]
    n = len(tail) // frame
    if n < 2:
        return len(samples)
    energy = np.square(tail[: n * frame].reshape(n, frame)).mean(axis=1)
    best = int(np.argmin(energy))
    return len(samples) - window + best * frame + frame // 2


def stream_chunks(
    path: Path, chunk_seconds: float, start: float = 0.0, first_index: int = 0
) -> Iterator[AudioChunk]:
    """Decode ``path`` from ``start`` with ffmpeg and yield chunks of ~``chunk_seconds``.

    Each chunk ends at the quietest 100 ms within its last quarter (at most 30 s), so words are
    not cut in two; what follows the cut starts the next chunk. A rest shorter than half a chunk
    joins the last chunk (which is then up to 1.5x as long): a short last chunk would decode
    its few windows in a batch of their own, nearly as slowly as a full one. Memory: one chunk
    and a half.
    """
    if shutil.which("ffmpeg") is None:
        raise ToolError("ffmpeg is niet geïnstalleerd (nodig om audio te lezen)")
    cmd = ["ffmpeg", "-nostdin", "-v", "error"]
    if start > 0:
        cmd += ["-ss", f"{start:.3f}"]
    cmd += ["-i", str(path), "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-"]
    target = int(chunk_seconds * SAMPLE_RATE)
    rest = target // 2  # read ahead: a rest shorter than this joins the last chunk
    window = min(30 * SAMPLE_RATE, target // 4)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    index = first_index
    offset = start
    pending = np.zeros(0, dtype=np.float32)
    try:
        while True:
            need = target + rest - len(pending)
            raw = proc.stdout.read(need * 2) if need > 0 else b""
            if len(raw) % 2:
                raw = raw[:-1]
            fresh = np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768.0
            buffer = np.concatenate([pending, fresh]) if len(pending) else fresh
            at_end = need > 0 and len(raw) < need * 2
            if at_end:
                if len(buffer) >= SAMPLE_RATE // 20 or (index == first_index and len(buffer)):
                    yield AudioChunk(index, offset, buffer)
                break
            cut = _quiet_cut(buffer[:target], window)
            yield AudioChunk(index, offset, buffer[:cut])
            offset += cut / SAMPLE_RATE
            pending = buffer[cut:].copy()
            index += 1
        proc.wait()
        if proc.returncode not in (0, None):
            message = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
            raise AudioError(f"{path.name}: ffmpeg kon de audio niet lezen ({message[-200:]})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe:
                pipe.close()


# --- engines ---------------------------------------------------------------------------------------


class Transcriber(Protocol):
    """One loaded model. ``transcribe`` returns segments with times from the file's start."""

    engine: str
    spec: ModelSpec

    def transcribe(
        self,
        audio: np.ndarray,
        offset: float,
        opts: TranscribeOptions,
        progress: Callable[[float], None] | None = None,
    ) -> list[Segment]: ...


def _clean_words(words: list[tuple[float, float, str, float]], offset: float) -> tuple[Word, ...]:
    return tuple(
        Word(round(s + offset, 3), round(e + offset, 3), t.strip(), round(float(p), 4))
        for s, e, t, p in words
        if t.strip()
    )


class FasterWhisperTranscriber:
    engine = "faster-whisper"

    def __init__(self, spec: ModelSpec, opts: TranscribeOptions):
        self.spec = spec
        self.model = load_faster_whisper(spec, opts.device, opts.compute_type, opts.threads())

    def transcribe(
        self,
        audio: np.ndarray,
        offset: float,
        opts: TranscribeOptions,
        progress: Callable[[float], None] | None = None,
    ) -> list[Segment]:
        kwargs: dict[str, Any] = {
            "language": opts.language,
            "beam_size": opts.beam_size,
            "word_timestamps": opts.word_timestamps,
            "initial_prompt": opts.initial_prompt or None,
            "temperature": list(opts.temperature),
            "max_new_tokens": opts.max_new_tokens,
        }
        duration = len(audio) / SAMPLE_RATE
        out: list[Segment] = []
        import ctranslate2

        ctranslate2.set_random_seed(SEED)  # the temperature fallback samples: reproducible
        try:
            if opts.batch_size > 1:
                from faster_whisper import BatchedInferencePipeline

                pipeline = BatchedInferencePipeline(self.model)
                if not opts.vad and duration >= 30:
                    kwargs["clip_timestamps"] = [
                        {"start": s, "end": min(s + 30.0, duration)}
                        for s in np.arange(0.0, duration, 30.0).tolist()
                    ]
                segments, _info = pipeline.transcribe(
                    audio, batch_size=opts.batch_size, vad_filter=opts.vad, **kwargs
                )
            else:
                segments, _info = self.model.transcribe(audio, vad_filter=opts.vad, **kwargs)
            for seg in segments:
                words = _clean_words(
                    [(w.start, w.end, w.word, w.probability) for w in seg.words or ()], offset
                )
                out.append(
                    Segment(
                        id=len(out),
                        start=round(seg.start + offset, 3),
                        end=round(seg.end + offset, 3),
                        text=seg.text.strip(),
                        words=words,
                    )
                )
                if progress:
                    progress(min(seg.end, duration))
        except (RuntimeError, ValueError) as exc:
            raise TranscriptError(f"faster-whisper faalde: {exc}") from exc
        return out


class OpenAIWhisperTranscriber:
    engine = "openai-whisper"

    def __init__(self, spec: ModelSpec, opts: TranscribeOptions):
        self.spec = spec
        self.device = "cpu" if opts.device == "auto" else opts.device
        if self.device == "cpu":
            import torch

            torch.set_num_threads(opts.threads())
        self.model = load_openai_whisper(spec, self.device)

    def transcribe(
        self,
        audio: np.ndarray,
        offset: float,
        opts: TranscribeOptions,
        progress: Callable[[float], None] | None = None,
    ) -> list[Segment]:
        import torch

        extra: dict[str, Any] = {}
        if opts.max_new_tokens:
            extra["sample_len"] = opts.max_new_tokens
        torch.manual_seed(SEED)  # the temperature fallback samples: reproducible
        try:
            result = self.model.transcribe(
                audio.astype(np.float32),
                temperature=tuple(opts.temperature),
                language=opts.language,
                initial_prompt=opts.initial_prompt or None,
                word_timestamps=opts.word_timestamps,
                beam_size=opts.beam_size if opts.beam_size > 1 else None,
                fp16=self.device == "cuda",
                verbose=None,
                **extra,
            )
        except (RuntimeError, ValueError) as exc:
            raise TranscriptError(f"openai-whisper faalde: {exc}") from exc
        out: list[Segment] = []
        for seg in result.get("segments", []):
            words = _clean_words(
                [
                    (w["start"], w["end"], w["word"], w.get("probability", 1.0))
                    for w in seg.get("words", [])
                ],
                offset,
            )
            out.append(
                Segment(
                    id=len(out),
                    start=round(float(seg["start"]) + offset, 3),
                    end=round(float(seg["end"]) + offset, 3),
                    text=str(seg["text"]).strip(),
                    words=words,
                )
            )
        if progress:
            progress(len(audio) / SAMPLE_RATE)
        return out


_M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)


def _glibc(name: str) -> Any:
    """A function of the libc this process runs on, or None where that is not glibc."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return None


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Let glibc's malloc use at most ``arenas`` arenas (unless ``MALLOC_ARENA_MAX`` is set).

    Why: glibc gives threads up to 8 arenas per core. CTranslate2's and the VAD's threads each
    fill their own and leave them fragmented, so the peak RSS grew by ~120 MB a chunk on long
    recordings (measured on 12 minutes, chunks of ~150 s: 871 -> 1109 MB after 4 chunks; with 2
    arenas 804 -> 815 MB, flat). Call before the model's threads start; it holds for the whole
    process (arenas made after it), which is harmless for the rest of Vlinder.
    """
    mallopt = None if os.environ.get("MALLOC_ARENA_MAX") else _glibc("mallopt")
    return bool(mallopt(_M_ARENA_MAX, arenas)) if mallopt else False


def release_free_memory() -> bool:
    """Give the heap's free pages back to the system (glibc ``malloc_trim``); after a chunk.

    What a chunk freed stays resident otherwise, and the next chunk's peak comes on top of it:
    on a 60-minute recording the peak RSS of ``vlinder transcribe`` was 850 MB without and
    802 MB with a trim after each chunk, for the same CPU time (one call per 3 minutes of
    audio). True when memory was released.
    """
    trim = _glibc("malloc_trim")
    return bool(trim(0)) if trim else False


def tune_memory() -> None:
    """Keep the peak RSS flat over long recordings; call before CTranslate2 is imported.

    - glibc: at most 2 malloc arenas (:func:`limit_malloc_arenas`);
    - MKL (inside CTranslate2 on x86): without its "fast memory manager", which keeps freed
      buffers for reuse (``MKL_DISABLE_FAST_MM=1``; measured on 12 minutes: peak 802 -> 790 MB,
      no slower). A value the user set wins.
    """
    os.environ.setdefault("MKL_DISABLE_FAST_MM", "1")
    limit_malloc_arenas()


def open_transcriber(opts: TranscribeOptions, cache_dir: Path) -> Transcriber:
    """Resolve and load the model of ``opts`` (loaded once per process)."""
    opts.check()
    tune_memory()
    spec = resolve_model(opts.model, opts.engine, cache_dir)
    if opts.engine == "openai-whisper":
        return OpenAIWhisperTranscriber(spec, opts)
    return FasterWhisperTranscriber(spec, opts)


# --- resumable state ------------------------------------------------------------------------------


class ChunkState:
    """Finished chunks of one run in ``.vlinder/transcribe/<slug>/``, valid for one key."""

    def __init__(self, ws: Workspace, slug: str, key: str):
        self.dir = ws.state_dir / "transcribe" / slug
        self.key = key
        self.chunks: list[dict[str, Any]] = []
        if self.dir.exists():
            for n, path in enumerate(sorted(self.dir.glob("chunk-*.json"))):
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    break
                if data.get("key") != key or data.get("index") != n:
                    break
                self.chunks.append(data)
            if not self.chunks:
                self.clear()

    @property
    def resume_at(self) -> float:
        return float(self.chunks[-1]["end"]) if self.chunks else 0.0

    def add(self, chunk: AudioChunk, segments: list[Segment]) -> None:
        data = {
            "key": self.key,
            "index": chunk.index,
            "start": round(chunk.start, 4),
            "end": round(chunk.end, 4),
            "segments": transcript_data(Transcript("", tuple(segments)))["segments"],
        }
        atomic_write_text(self.dir / f"chunk-{chunk.index:04d}.json", json.dumps(data))
        self.chunks.append(data)

    def segments(self) -> list[Segment]:
        out: list[Segment] = []
        for data in self.chunks:
            out.extend(transcript_from_data({"segments": data["segments"]}).segments)
        return out

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the stage --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscribeResult:
    slug: str
    status: str  # transcribed | cached | imported
    key: str
    segments: int
    duration: float
    resumed_chunks: int = 0
    chunks: int = 0
    elapsed: float = 0.0
    model: str = ""
    engine: str = ""
    warnings: tuple[str, ...] = field(default=())

    @property
    def rtf(self) -> float:
        return self.elapsed / self.duration if self.duration else 0.0


def episode_audio(ws: Workspace, ep: Episode) -> Path:
    path = ws.episode_dir(ep.slug) / ep.audio_file if ep.audio_file else None
    if path is None or not path.exists():
        raise NotFoundError(
            f"aflevering '{ep.slug}' heeft geen audiobestand (episodes/{ep.slug}/"
            f"{ep.audio_file or '?'}); voeg de opname opnieuw toe"
        )
    return path


def _set_stage(ws: Workspace, ep: Episode, status: str, key: str, message: str = "") -> None:
    with open_catalogue(ws) as cat:
        try:
            cat.set_stage(ep.slug, "transcribe", status, key, message)
        except sqlite3.IntegrityError:
            cat.upsert_episode(ep)  # the catalogue is an index; it may lag behind the files
            cat.set_stage(ep.slug, "transcribe", status, key, message)


def _speaker(ep: Episode) -> str | None:
    """A talk with one speaker: every segment is theirs. Otherwise unknown."""
    return ep.speakers[0] if ep.kind == "talk" and len(ep.speakers) == 1 else None


def episode_options(ws: Workspace, **overrides: Any) -> TranscribeOptions:
    return TranscribeOptions.from_settings(ws.settings.transcribe, load_glossary(ws), **overrides)


def transcribe_episode(
    ws: Workspace,
    slug: str,
    *,
    options: TranscribeOptions | None = None,
    force: bool = False,
    progress: Progress | None = None,
) -> TranscribeResult:
    """Transcribe one episode into ``transcripts/`` (cached, resumable, keeps human edits)."""
    ep = load_episode(ws, slug)
    audio = episode_audio(ws, ep)
    opts = options or episode_options(ws)
    opts.check()
    with ws.lock(f"transcribe-{slug}"):
        spec = resolve_model(opts.model, opts.engine, ws.cache_dir)
        key = cache_key(file_sha256(audio, ws.cache_dir, audio_only=True), spec, opts)
        try:
            existing = read_transcript_json(ws, slug)
        except TranscriptError:
            existing = None
        if existing and existing.get("options", {}).get("key") == key and not force:
            _restore_missing(ws, slug, existing)
            _set_stage(ws, ep, "done", key)
            return TranscribeResult(
                slug,
                "cached",
                key,
                len(existing.get("segments", [])),
                float(existing.get("duration", 0.0)),
                model=spec.name,
                engine=opts.engine,
            )
        reason = None if force else protected_reason(ws, slug, existing)
        if reason:
            raise ProtectedTranscriptError(
                f"{reason} en wordt niet overschreven; gebruik --force om toch opnieuw te "
                "transcriberen",
                reason,
            )
        try:
            return _run(ws, ep, audio, spec, opts, key, progress)
        except VlinderError as exc:
            _set_stage(ws, ep, "failed", key, str(exc))
            raise


def _restore_missing(ws: Workspace, slug: str, data: dict[str, Any]) -> None:
    """Write formats that were deleted again from the JSON (when nothing was edited by hand)."""
    missing = [ext for ext in EXTENSIONS if not ws.transcript_path(slug, ext).exists()]
    if missing and not edited_files(ws, slug):
        write_transcript(ws, slug, transcript_from_data(data, f"transcripts/{slug}.json"))


def _run(
    ws: Workspace,
    ep: Episode,
    audio: Path,
    spec: ModelSpec,
    opts: TranscribeOptions,
    key: str,
    progress: Progress | None,
) -> TranscribeResult:
    started = time.monotonic()
    total = ep.duration or audio_duration(audio)
    state = ChunkState(ws, ep.slug, key)
    resumed = len(state.chunks)
    transcriber = open_transcriber(opts, ws.cache_dir)
    if progress:
        progress(min(state.resume_at, total), total)
    for chunk in stream_chunks(audio, opts.chunk_seconds, state.resume_at, resumed):

        def report(done: float, chunk: AudioChunk = chunk) -> None:
            if progress:
                progress(min(chunk.start + done, total), total)

        segments = transcriber.transcribe(chunk.samples, chunk.start, opts, report)
        state.add(chunk, segments)
        release_free_memory()
        report(chunk.end - chunk.start)
    speaker = _speaker(ep)
    segments = [
        replace(seg, speaker=speaker or seg.speaker) for seg in split_sentences(state.segments())
    ]
    transcript = Transcript(
        language=opts.language,
        segments=tuple(segments),
        engine=opts.engine,
        model=spec.name,
        options={
            **opts.key_fields(),
            "device": opts.device,
            "key": key,
            "model_identity": spec.identity,
            "words_estimated": False,
        },
        duration=round(total, 3),
    )
    write_transcript(ws, ep.slug, transcript)
    state.clear()
    _set_stage(ws, ep, "done", key)
    if progress:
        progress(total, total)
    return TranscribeResult(
        ep.slug,
        "transcribed",
        key,
        len(segments),
        total,
        resumed_chunks=resumed,
        chunks=len(state.chunks),
        elapsed=time.monotonic() - started,
        model=spec.name,
        engine=opts.engine,
    )


def import_transcript(
    ws: Workspace, slug: str, path: Path, *, force: bool = False
) -> TranscribeResult:
    """Use an existing VTT/SRT/Podcasting JSON transcript instead of running Whisper."""
    ep = load_episode(ws, slug)
    transcript = parse_transcript_file(path, ws.settings.transcribe.language)
    key = "import:sha256:" + file_sha256(path)[:32]
    with ws.lock(f"transcribe-{slug}"):
        existing = None
        with contextlib.suppress(TranscriptError):
            existing = read_transcript_json(ws, slug)
        if existing and existing.get("options", {}).get("key") == key and not force:
            _set_stage(ws, ep, "done", key)
            return TranscribeResult(
                slug, "cached", key, len(existing.get("segments", [])), transcript.duration
            )
        reason = None if force else protected_reason(ws, slug, existing)
        if reason and human_source(existing) == "import" and not edited_files(ws, slug):
            reason = None  # a new import over an untouched import: what the producer asks for
        if reason:
            raise ProtectedTranscriptError(
                f"{reason} en wordt niet overschreven; gebruik --force om het te vervangen",
                reason,
            )
        speaker = _speaker(ep)
        segments = tuple(replace(s, speaker=s.speaker or speaker) for s in transcript.segments)
        transcript = replace(
            transcript,
            segments=segments,
            duration=max(ep.duration, transcript.duration),
            options={**transcript.options, "key": key},
        )
        write_transcript(ws, slug, transcript)
        _set_stage(ws, ep, "done", key)
    return TranscribeResult(
        slug, "imported", key, len(segments), transcript.duration, engine="import"
    )


def transcribe_audio(
    path: Path,
    opts: TranscribeOptions,
    cache_dir: Path,
    progress: Progress | None = None,
) -> tuple[Transcript, float]:
    """Transcribe any audio file without a workspace episode (``vlinder eval asr``).

    Returns the transcript and the seconds spent transcribing (model loading excluded).
    """
    if not path.exists():
        raise NotFoundError(f"audiobestand {path} bestaat niet")
    total = audio_duration(path)
    transcriber = open_transcriber(opts, cache_dir)
    started = time.monotonic()
    segments: list[Segment] = []
    for chunk in stream_chunks(path, opts.chunk_seconds):

        def report(done: float, chunk: AudioChunk = chunk) -> None:
            if progress:
                progress(min(chunk.start + done, total), total)

        segments.extend(transcriber.transcribe(chunk.samples, chunk.start, opts, report))
        release_free_memory()
    elapsed = time.monotonic() - started
    segments = split_sentences(segments)
    transcript = Transcript(
        language=opts.language,
        segments=tuple(segments),
        engine=opts.engine,
        model=transcriber.spec.name,
        options={**opts.key_fields(), "model_identity": transcriber.spec.identity},
        duration=round(total, 3),
    )
    return transcript, elapsed
