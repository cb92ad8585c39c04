"""Engines behind the small :class:`Transcriber` protocol: faster-whisper (default; batched with
VAD) and openai-whisper (optional extra). Both give the same structure: segments with words
(start, end, text, probability).

Memory on the CPU: faster-whisper's model is ``LeanWhisperModel``
(:mod:`pipeline.transcribe.weights.lean`), which encodes and aligns one 30 s window at a time
(the peak of a 60-minute recording went from 1143 to ~800 MB;
benchmarks/results/transcribe.md); glibc's malloc gets at most 2 arenas
(:func:`limit_malloc_arenas`) and after each chunk the heap's free pages go back to the system
(:func:`release_free_memory`).
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

from pipeline.core.errors import (
    TranscriptError,
)
from pipeline.core.models import Segment, Word
from pipeline.transcribe.weights.models import (
    ModelSpec,
    load_faster_whisper,
    load_openai_whisper,
    resolve_model,
)

from .options import SEED, TranscribeOptions
from .streaming import SAMPLE_RATE


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
                        for s in (30.0 * k for k in range(math.ceil(duration / 30.0)))
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
                audio.astype("float32"),
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
