"""The torch-free encoder: checkpoint reader, mel vs librosa, forward vs Resemblyzer/torch."""

from __future__ import annotations

import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from pipeline.speakers.encoder import (
    MelStream,
    NumpyLSTM,
    VoiceEncoder,
    mel_filterbank,
    mel_spectrogram,
    normalize_volume,
    partial_slices,
)
from pipeline.speakers.weights import (
    SpeakerModelError,
    Weights,
    load_weights,
    read_torch_checkpoint,
)

HERE = Path(__file__).resolve().parent.parent


def speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    """Harmonics with a wandering pitch and syllable-rate loudness, plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    pitch = 120 + 30 * np.sin(2 * np.pi * 0.7 * t) + rng.normal(0, 1, len(t)).cumsum() / 400
    phase = 2 * np.pi * np.cumsum(pitch) / 16000
    wave = sum(np.sin(k * phase) / k for k in range(1, 12))
    envelope = np.clip(np.sin(2 * np.pi * 3 * t), 0, None) ** 2
    return ((wave * envelope + rng.normal(0, 0.01, len(t))) * 0.1).astype(np.float32)


# --- mel ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 199, 400, 401, 16000, 16123, 48077])
def test_mel_matches_librosa(n: int) -> None:
    librosa = pytest.importorskip("librosa")
    wav = speechlike(4)[:n] if n <= 64000 else speechlike(n / 16000)
    ref = librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=400, hop_length=160, n_mels=40).T
    got = mel_spectrogram(wav)
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= 1e-5 * max(float(np.abs(ref).max()), 1e-6)


def test_filterbank_matches_librosa() -> None:
    librosa = pytest.importorskip("librosa")
    ref = librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)
    assert np.abs(mel_filterbank() - ref).max() < 1e-6


def test_mel_stream_is_block_size_invariant() -> None:
    wav = speechlike(3.3)
    whole = mel_spectrogram(wav)
    for block in (1, 159, 160, 1000, 7777):
        stream = MelStream()
        parts = [stream.add(wav[i : i + block])[0] for i in range(0, len(wav), block)]
        parts.append(stream.finish()[0])
        got = np.concatenate(parts)
        assert got.shape == whole.shape
        assert np.allclose(got, whole, rtol=1e-5, atol=1e-7)


def test_mel_of_a_tone_peaks_at_its_band() -> None:
    t = np.arange(16000) / 16000
    mel = mel_spectrogram((0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32))
    centre = np.argmax(mel_filterbank()[:, round(1000 / 40)])
    assert np.argmax(mel[50]) == centre


def test_normalize_volume_raises_quiet_audio_to_minus_30_dbfs() -> None:
    wav = speechlike(2) * 0.05
    out = normalize_volume(wav)
    rms_db = 20 * np.log10(np.sqrt(np.mean(out.astype(np.float64) ** 2)))
    assert rms_db == pytest.approx(-30.0, abs=0.01)
    loud = speechlike(2) * 5
    assert normalize_volume(loud) is loud  # only louder, as Resemblyzer's preprocess_wav


def test_partial_slices_step_and_coverage() -> None:
    slices = partial_slices(16000 * 3, rate=1.3, min_coverage=0.75)
    assert slices == [(0, 160), (77, 237), (154, 314)]  # 3.0 s: a 4th would cover < 75%
    assert partial_slices(100, rate=1.3, min_coverage=0.75) == [(0, 160)]  # always one


@pytest.mark.parametrize("seconds", [0.5, 1.6, 3.0, 7.3])
def test_partial_slices_as_resemblyzer(seconds: float) -> None:
    resemblyzer = _resemblyzer()
    n = int(seconds * 16000)
    _, mel_slices = resemblyzer.VoiceEncoder.compute_partial_slices(n, 1.3, 0.75)
    assert partial_slices(n, 1.3, 0.75) == [(s.start, s.stop) for s in mel_slices]


# --- checkpoint reader -------------------------------------------------------------------------


def test_reader_refuses_code(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        headers: tuple[object, ...] = (0x1950A86A20F9469CFC6C, 1001, {})
        for header in headers:
            pickle.dump(header, f, protocol=2)
        pickle.dump({"model_state": Evil()}, f, protocol=2)
    with pytest.raises(SpeakerModelError, match="niet toegestaan"):
        read_torch_checkpoint(path)


def test_reader_refuses_other_files(tmp_path: Path) -> None:
    path = tmp_path / "plain.pt"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(SpeakerModelError):
        read_torch_checkpoint(path)


@pytest.mark.parametrize("zip_format", [False, True])
def test_reader_matches_torch_load(tmp_path: Path, zip_format: bool) -> None:
    torch = pytest.importorskip("torch")
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    model_state = {
        "w": torch.randn(5, 3),
        "t": base.t(),  # a strided view
        "slice": base[1:3, 2:],  # an offset view of the same storage
        "i": torch.arange(7, dtype=torch.int64),
    }
    state = {"model_state": model_state, "step": 12}
    path = tmp_path / "ckpt.pt"
    torch.save(state, path, _use_new_zipfile_serialization=zip_format)
    got = read_torch_checkpoint(path)
    assert got["step"] == 12
    for key, value in model_state.items():
        assert np.array_equal(got["model_state"][key], value.numpy()), key


def test_weights_cache_is_written_once(tmp_path: Path, real_weights: Weights) -> None:
    first = load_weights(tmp_path)
    (npz,) = tmp_path.glob("ge2e-*.npz")
    stamp = npz.stat().st_mtime_ns
    second = load_weights(tmp_path)
    assert npz.stat().st_mtime_ns == stamp
    for a, b in zip(first.w_ih + (first.linear_w,), second.w_ih + (second.linear_w,), strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(first.linear_w, real_weights.linear_w)


# --- forward -----------------------------------------------------------------------------------


def test_onnx_graph_matches_numpy_on_random_weights(weights: Weights) -> None:
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(1)
    mels = rng.random((5, 37, 40), dtype=np.float32)
    ref = VoiceEncoder(weights, backend="numpy").forward(mels)
    got = VoiceEncoder(weights, backend="onnx").forward(mels)
    assert np.abs(got - ref).max() < 1e-5


def test_numpy_lstm_is_batch_independent(weights: Weights) -> None:
    rng = np.random.default_rng(2)
    mels = rng.random((4, 20, 40), dtype=np.float32)
    lstm = NumpyLSTM(weights)
    together = lstm(mels)
    alone = np.concatenate([lstm(mels[i : i + 1]) for i in range(4)])
    assert np.abs(together - alone).max() < 1e-5


def test_unknown_backend(weights: Weights) -> None:
    with pytest.raises(ValueError, match="onbekende backend"):
        VoiceEncoder(weights, backend="tensorflow")


def _resemblyzer() -> types.ModuleType:
    pytest.importorskip("torch")
    pytest.importorskip("librosa")
    try:
        import webrtcvad  # noqa: F401
    except ImportError:  # only its trim_long_silences needs it (and pkg_resources)
        sys.modules["webrtcvad"] = types.ModuleType("webrtcvad")
    return pytest.importorskip("resemblyzer")


@pytest.mark.parametrize("backend", ["onnx", "numpy"])
def test_embeddings_match_resemblyzer(backend: str, real_weights: Weights) -> None:
    resemblyzer = _resemblyzer()
    import torch

    torch.set_num_threads(1)
    wav = resemblyzer.audio.normalize_volume(speechlike(6, seed=3), -30, increase_only=True)
    ref_embed, ref_partials, _ = resemblyzer.VoiceEncoder("cpu", verbose=False).embed_utterance(
        wav, return_partials=True
    )
    embed, partials = VoiceEncoder(real_weights, backend=backend).embed_utterance(wav)
    assert partials.shape == ref_partials.shape
    assert np.abs(partials - ref_partials).max() < 1e-5
    assert np.abs(embed - ref_embed).max() < 1e-5
    assert float(embed @ ref_embed) > 0.99999


def test_real_weights_backends_agree(real_weights: Weights) -> None:
    pytest.importorskip("onnxruntime")
    mel = mel_spectrogram(normalize_volume(speechlike(5, seed=4)))
    starts = [0, 100, 300]
    a = VoiceEncoder(real_weights, backend="numpy").embed_windows(mel, starts)
    b = VoiceEncoder(real_weights, backend="onnx").embed_windows(mel, starts)
    assert np.abs(a - b).max() < 1e-5
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_checkpoint_from_a_wheel_in_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, real_weights: Weights
) -> None:
    import zipfile

    from pipeline.speakers import weights as w

    installed = w.find_checkpoint()
    with zipfile.ZipFile(tmp_path / w.WHEEL, "w") as zf:
        zf.write(installed, w.WHEEL_MEMBER)
    monkeypatch.setattr(w.importlib.util, "find_spec", lambda name: None)
    assert w.find_checkpoint(tmp_path).read_bytes() == installed.read_bytes()
    loaded = w.load_weights(tmp_path)
    assert np.array_equal(loaded.w_hh[2], real_weights.w_hh[2])
    with pytest.raises(SpeakerModelError, match="niet geïnstalleerd"):
        w.find_checkpoint(tmp_path / "elsewhere")


def test_an_unexpected_checkpoint_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.speakers import weights as w

    other = tmp_path / "pretrained.pt"
    other.write_bytes(b"not the model")
    monkeypatch.setattr(w, "find_checkpoint", lambda cache_dir=None: other)
    with pytest.raises(SpeakerModelError, match="onverwacht sprekermodel"):
        w.load_weights(tmp_path)
