"""Transcription options: one frozen dataclass from the workspace settings, and the cache key.

- Reproducible: the temperature fallback samples, so each chunk starts from the same seed
  (:data:`SEED`): the same audio with the same options gives the same transcript.
- Cache: the key is (audio sha256, engine, model identity, options incl. language and
  glossary). The audio hash leaves the ID3 tags out: the feed stage writes chapter frames into
  the MP3, which changes its bytes but not its sound. When ``transcripts/<slug>.json`` has that
  key, transcribing again is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from pipeline.core.errors import (
    TranscriptError,
)
from pipeline.core.settings import TranscribeSettings
from pipeline.transcribe.weights.models import (
    ModelSpec,
)

from .glossary import glossary_prompt

ENGINES = ("faster-whisper", "openai-whisper")


# Seed of the sampling in the temperature fallback, set before each chunk: the same audio with
# the same options gives the same transcript (what the cache key promises), also after a resume
SEED = 0


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


def cache_key(audio_sha256: str, spec: ModelSpec, opts: TranscribeOptions) -> str:
    payload = {
        "audio": audio_sha256,
        "engine": opts.engine,
        "model": spec.identity,
        "options": opts.key_fields(),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
