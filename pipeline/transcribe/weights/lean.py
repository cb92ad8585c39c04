"""faster-whisper's model with a lower memory peak on the CPU: one 30 s window at a time.

``BatchedInferencePipeline`` runs a batch of windows through three steps: the encoder, the
decoder (beam search) and the word alignment (cross-attention + DTW). On the CPU the encoder
and the alignment need memory in proportion to the batch (the encoder's attention is
heads x 1500 x 1500 floats per window) and gain nothing from batching, so
:class:`LeanWhisperModel` runs those two one window at a time and keeps the batch for the
decoder only, where it pays. Measured on this machine (Whisper base int8, 2 threads, batch of 4
windows of Dutch speech; transient memory on top of the loaded model):

==============  ================  ===================
step            batch of 4        one window at a time
==============  ================  ===================
encoder         4.7 s, +298 MB    3.7 s, +103 MB
alignment       1.9 s, +431 MB    1.3 s, +101 MB
decoder (beam)  13.2 s, +204 MB   16.0 s, +48 MB (kept batched)
==============  ================  ===================

The result is the same encoder output and the same kind of alignment; an alignment can differ
in a frame where the batch padded a shorter window's tokens. On a GPU the batch is kept.

faster-whisper is imported lazily (it loads numpy and CTranslate2), so the class is made on
first use by :func:`lean_model_class`.
"""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def lean_model_class() -> type:
    import numpy as np
    from ctranslate2 import StorageView
    from faster_whisper import WhisperModel

    def on_cpu(model: Any) -> bool:
        return str(model.model.device) == "cpu"

    class LeanWhisperModel(WhisperModel):  # type: ignore[misc]
        """``faster_whisper.WhisperModel``; on the CPU, encodes and aligns window by window."""

        def encode(self, features: np.ndarray) -> StorageView:
            if features.ndim == 2 or len(features) == 1 or not on_cpu(self):
                return super().encode(features)
            parts = [np.asarray(super(LeanWhisperModel, self).encode(f)) for f in features]
            return StorageView.from_array(np.ascontiguousarray(np.concatenate(parts)))

        def find_alignment(
            self,
            tokenizer: Any,
            text_tokens: list[Any],
            encoder_output: StorageView,
            num_frames: Any,
            median_filter_width: int = 7,
        ) -> list[Any]:
            if len(text_tokens) <= 1 or not on_cpu(self) or isinstance(num_frames, int):
                return super().find_alignment(
                    tokenizer, text_tokens, encoder_output, num_frames, median_filter_width
                )
            windows = np.asarray(encoder_output)
            out: list[Any] = []
            for i, tokens in enumerate(text_tokens):
                one = StorageView.from_array(np.ascontiguousarray(windows[i : i + 1]))
                out.extend(
                    super().find_alignment(
                        tokenizer, [tokens], one, [num_frames[i]], median_filter_width
                    )
                )
            return out

    return LeanWhisperModel
