"""Transcribe: an episode's audio becomes a Dutch transcript with word timings, in every format
podcast apps read (the ``transcribe`` verb; faster-whisper by default, openai-whisper as an
option; the bundled Whisper base model works offline)."""

from .glossary import DEFAULT_GLOSSARY
from .options import ENGINES, TranscribeOptions
from .stage import (
    TranscribeResult,
    episode_options,
    import_transcript,
    reindex,
    transcribe,
    transcribe_audio,
)
from .store import load_transcript, public_json

__all__ = [
    "DEFAULT_GLOSSARY",
    "ENGINES",
    "TranscribeOptions",
    "TranscribeResult",
    "episode_options",
    "import_transcript",
    "load_transcript",
    "public_json",
    "reindex",
    "transcribe",
    "transcribe_audio",
]
