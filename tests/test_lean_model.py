"""LeanWhisperModel: on the CPU it encodes and aligns one window at a time, with the result of
the batch (faster-whisper's own methods are the reference)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _windows(model, audio_path: Path) -> np.ndarray:
    from faster_whisper.audio import decode_audio
    from faster_whisper.transcribe import pad_or_trim

    audio = decode_audio(str(audio_path))
    half = len(audio) // 2
    return np.stack(
        [
            pad_or_trim(model.feature_extractor(part)[..., :-1])
            for part in (audio[:half], audio[half:])
        ]
    )


def test_lean_model_encodes_and_aligns_like_the_batch(fw_model, speech_wav: Path) -> None:
    from faster_whisper import WhisperModel
    from faster_whisper.tokenizer import Tokenizer

    model = fw_model.model
    assert isinstance(model, WhisperModel) and type(model).__name__ == "LeanWhisperModel"
    features = _windows(model, speech_wav)
    assert features.shape[0] == 2

    lean = model.encode(features)
    batch = WhisperModel.encode(model, features)
    lean_arr, batch_arr = np.asarray(lean), np.asarray(batch)
    assert lean_arr.shape == batch_arr.shape == (2, 1500, 512)
    np.testing.assert_allclose(lean_arr, batch_arr, atol=1e-3)

    tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language="nl")
    results = model.model.generate(batch, [tokenizer.sot_sequence] * 2, beam_size=1)
    tokens = [[t for t in r.sequences_ids[0] if t < tokenizer.eot] for r in results]
    assert all(len(t) > 5 for t in tokens)
    ours = model.find_alignment(tokenizer, tokens, lean, [1500, 1500])
    theirs = WhisperModel.find_alignment(model, tokenizer, tokens, batch, [1500, 1500])
    assert [[w["word"] for w in item] for item in ours] == [
        [w["word"] for w in item] for item in theirs
    ]
    starts = np.array([w["start"] for item in ours for w in item])
    ref = np.array([w["start"] for item in theirs for w in item])
    assert np.abs(starts - ref).max() <= 0.1  # same frames, bar a padding-induced frame or two
