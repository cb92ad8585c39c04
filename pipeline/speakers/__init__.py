"""Speakers: who speaks when in an interview or a panel, so every segment, word, fragment and
search hit carries its speaker (the ``diarize`` verb).

Torch-free at run time: the GE2E speaker encoder of Resemblyzer 0.1.4 runs in onnxruntime (or
numpy) with its weights read from the wheel's checkpoint (:mod:`.weights`); numpy does the
clustering (:mod:`.clustering`). The stage: :mod:`.stage`.
"""

from .labels import SpeakerOptions, diarize_audio, label_speakers, speaker_count
from .stage import DiarizeResult, diarize, reindex

__all__ = [
    "DiarizeResult",
    "SpeakerOptions",
    "diarize",
    "diarize_audio",
    "label_speakers",
    "reindex",
    "speaker_count",
]
