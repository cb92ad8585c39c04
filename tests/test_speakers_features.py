"""The streaming feature pass: block-size invariance, pre-gate, level normalisation."""

from __future__ import annotations

import numpy as np
import pytest
from test_speakers_encoder import speechlike

from pipeline.speakers.encoder import VoiceEncoder
from pipeline.speakers.features import (
    FeatureOptions,
    FeatureStream,
    extract,
    level_db,
    pregate_threshold,
)
from pipeline.speakers.weights import Weights


@pytest.fixture(scope="module")
def encoder(weights: Weights) -> VoiceEncoder:
    return VoiceEncoder(weights, backend="numpy", batch_size=16)


def audio() -> np.ndarray:
    """4 s of sound, 2 s of digital silence, 3 s of quieter sound."""
    silence = np.zeros(32000, np.float32)
    return np.concatenate([speechlike(4, seed=1), silence, 0.1 * speechlike(3, seed=2)])


def test_blocks_do_not_change_the_features(encoder: VoiceEncoder) -> None:
    opts = FeatureOptions(block=2.0)
    whole = extract(encoder, audio(), opts)
    for block in (1234, 16000, 50000):
        stream = FeatureStream(encoder, opts)
        samples = audio()
        for first in range(0, len(samples), block):
            stream.add(samples[first : first + block])
        got = stream.finish()
        assert np.array_equal(got.starts, whole.starts)
        assert np.allclose(got.embeddings, whole.embeddings, atol=1e-5)
        assert np.allclose(got.level_db, whole.level_db, atol=1e-3)


def test_silent_windows_are_not_embedded(encoder: VoiceEncoder) -> None:
    features = extract(encoder, audio(), FeatureOptions())
    assert len(features.level_db) == 1 + len(audio()) // 160
    centres = features.centres()
    assert not ((centres > 4.9) & (centres < 5.1)).any()  # the middle of the silence
    assert features.starts[0] == 0 and (np.diff(features.starts) % features.step_frames == 0).all()
    assert np.allclose(np.linalg.norm(features.embeddings, axis=1), 1.0, atol=1e-5)


def test_window_level_is_normalised(encoder: VoiceEncoder) -> None:
    quiet = extract(encoder, 0.3 * speechlike(4), FeatureOptions())
    loud = extract(encoder, 3.0 * speechlike(4), FeatureOptions())
    assert np.array_equal(quiet.starts, loud.starts)
    assert np.abs(quiet.embeddings - loud.embeddings).max() < 1e-3
    raw = FeatureOptions(normalize=False)
    unscaled = extract(encoder, 0.3 * speechlike(4), raw)
    assert np.abs(unscaled.embeddings - quiet.embeddings).max() > 1e-3


def test_silence_only_gives_no_windows(encoder: VoiceEncoder) -> None:
    features = extract(encoder, np.zeros(48000, np.float32), FeatureOptions())
    assert features.starts.shape == (0,) and features.embeddings.shape == (0, 256)


def test_short_audio_gives_one_padded_window_if_mostly_sound(encoder: VoiceEncoder) -> None:
    def tone(seconds: float) -> np.ndarray:
        t = np.arange(int(seconds * 16000)) / 16000
        return (0.1 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)

    assert extract(encoder, tone(1.2), FeatureOptions()).starts.tolist() == [0]
    assert extract(encoder, tone(0.6), FeatureOptions()).starts.tolist() == []  # < half


def test_level_and_pregate() -> None:
    assert level_db(np.array([0.0, 1e-3, 1.0])).tolist() == pytest.approx([-100.0, -30.0, 0.0])
    db = np.concatenate([np.full(900, -100.0), np.full(100, -20.0)])
    assert pregate_threshold(db) == -70.0
    noisy = np.concatenate([np.full(500, -50.0), np.full(500, -20.0)])
    assert pregate_threshold(noisy) == pytest.approx(-55.0)
