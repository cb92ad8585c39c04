"""The GE2E speaker encoder of Resemblyzer 0.1.4 without torch: mel, forward pass, embeddings.

- Mel: librosa's ``melspectrogram(sr=16000, n_fft=400, hop_length=160, n_mels=40)`` (power 2,
  periodic Hann window, centred frames with zero padding, Slaney mel filterbank), reimplemented
  in numpy and computed block by block. Not a log mel: the encoder was trained on power mels of
  audio normalised to -30 dBFS (:func:`normalize_volume`), so the level matters.
- Forward: 3-layer LSTM (256 units) over a window of frames, final hidden state of the last
  layer -> linear 256 -> ReLU -> L2 norm. Two backends give the same numbers (tested against
  torch): ``onnx`` (onnxruntime, which faster-whisper installs; the default, ~3x faster) and
  ``numpy`` (a step loop, batched over windows).
- Weights: :mod:`.weights` (the Resemblyzer wheel's checkpoint, read without torch).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .weights import Weights, load_weights

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms: one mel frame
N_MELS = 40
PARTIAL_FRAMES = 160  # 1.6 s: the window the encoder was trained on
TARGET_DBFS = -30.0
INT16_MAX = 2**15 - 1
HIDDEN = 256
BLOCK_FRAMES = 2000  # frames per FFT batch: 20 s, a few MB
BACKENDS = ("onnx", "numpy")


# --- audio and mel ---------------------------------------------------------------------------


def normalize_volume(
    wav: np.ndarray, target_dbfs: float = TARGET_DBFS, increase_only: bool = True
) -> np.ndarray:
    """Resemblyzer's volume normalisation (RMS to ``target_dbfs``; by default only louder)."""
    rms = float(np.sqrt(np.mean((wav.astype(np.float64) * INT16_MAX) ** 2)))
    if rms == 0.0:
        return wav
    change = target_dbfs - 20 * np.log10(rms / INT16_MAX)
    if change < 0 and increase_only:
        return wav
    return (wav * (10 ** (change / 20))).astype(np.float32)


def _hz_to_mel(freq: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above (librosa, htk=False)."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    mels = freq / f_sp
    log_part = freq >= min_log_hz
    mels[log_part] = min_log_mel + np.log(freq[log_part] / min_log_hz) / logstep
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    freqs = f_sp * mels
    log_part = mels >= min_log_mel
    freqs[log_part] = min_log_hz * np.exp(logstep * (mels[log_part] - min_log_mel))
    return freqs


def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """Slaney-normalised triangular mel filters, (n_mels, 1 + n_fft // 2), as librosa's."""
    fft_freqs = np.linspace(0, sr / 2, 1 + n_fft // 2)
    edges = np.array([0.0, sr / 2.0])
    low, high = _hz_to_mel(edges)
    mel_pts = _mel_to_hz(np.linspace(low, high, n_mels + 2))
    fdiff = np.diff(mel_pts)
    ramps = mel_pts[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_pts[2 : n_mels + 2] - mel_pts[:n_mels]))[:, None]
    return weights.astype(np.float32)


_FILTERS = mel_filterbank()
_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def frame_features(span: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mel (n, 40) and mean square (n,) of the frames of ``span`` (400 + (n - 1) * 160 samples)."""
    frames = np.lib.stride_tricks.sliding_window_view(span, N_FFT)[::HOP]
    spec = np.fft.rfft(frames * _WINDOW, axis=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    mean_square = np.einsum("ij,ij->i", frames, frames) / N_FFT
    return power @ _FILTERS.T, mean_square.astype(np.float32)


def mel_spectrogram(wav: np.ndarray, block_frames: int = BLOCK_FRAMES) -> np.ndarray:
    """Power mel spectrogram, (n_frames, 40) float32, frame i centred on sample ``i * 160``.

    As ``librosa.feature.melspectrogram(y=wav, sr=16000, n_fft=400, hop_length=160,
    n_mels=40).T``; computed in blocks of ``block_frames`` frames so memory stays flat.
    """
    stream = MelStream()
    block = block_frames * HOP
    parts = [stream.add(wav[i : i + block]) for i in range(0, len(wav), block)]
    parts.append(stream.finish())
    return np.concatenate([mel for mel, _ in parts])


class MelStream:
    """The mel frames of audio given block by block, the same as of the whole at once."""

    def __init__(self) -> None:
        self.pending = np.zeros(N_FFT // 2, np.float32)  # the centring pad of frame 0
        self.frames = 0  # frames given out so far

    def add(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mel, mean square) of the frames that are complete after ``samples``."""
        self.pending = np.concatenate([self.pending, np.asarray(samples, np.float32)])
        count = 1 + (len(self.pending) - N_FFT) // HOP if len(self.pending) >= N_FFT else 0
        if count == 0:
            return np.zeros((0, N_MELS), np.float32), np.zeros(0, np.float32)
        parts = [
            frame_features(self.pending[first * HOP : (n - 1) * HOP + N_FFT])
            for first in range(0, count, BLOCK_FRAMES)
            for n in [min(first + BLOCK_FRAMES, count)]
        ]
        mel = np.concatenate([m for m, _ in parts])
        power = np.concatenate([p for _, p in parts])
        self.pending = self.pending[count * HOP :]
        self.frames += count
        return mel, power

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """The last frames: the audio is padded with zeros as librosa centres its frames."""
        return self.add(np.zeros(N_FFT // 2, np.float32))


# --- the network -----------------------------------------------------------------------------


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) written with one tanh, in place."""
    np.multiply(x, 0.5, out=x)
    np.tanh(x, out=x)
    np.multiply(x, 0.5, out=x)
    np.add(x, 0.5, out=x)
    return x


class NumpyLSTM:
    """The LSTM in numpy: per layer one matmul of [input | hidden] gives the four gates."""

    def __init__(self, weights: Weights) -> None:
        self.layers = [
            (np.ascontiguousarray(np.concatenate([wi, wh], 1).T), bi + bh)
            for wi, wh, bi, bh in zip(
                weights.w_ih, weights.w_hh, weights.b_ih, weights.b_hh, strict=True
            )
        ]

    def __call__(self, mels: np.ndarray) -> np.ndarray:
        """Final hidden state of the last layer, (batch, 256), of mels (batch, frames, 40)."""
        batch, steps, _ = mels.shape
        bufs = [np.zeros((batch, w.shape[0]), np.float32) for w, _ in self.layers]
        cells = [np.zeros((batch, HIDDEN), np.float32) for _ in self.layers]
        h = np.zeros((batch, HIDDEN), np.float32)
        for t in range(steps):
            x = mels[:, t, :]
            for (w, b), buf, c in zip(self.layers, bufs, cells, strict=True):
                width = buf.shape[1] - HIDDEN
                buf[:, :width] = x
                gates = buf @ w
                gates += b
                i = _sigmoid(gates[:, :HIDDEN])
                f = _sigmoid(gates[:, HIDDEN : 2 * HIDDEN])
                g = np.tanh(gates[:, 2 * HIDDEN : 3 * HIDDEN])
                o = _sigmoid(gates[:, 3 * HIDDEN :])
                c *= f
                c += i * g
                h = o * np.tanh(c)
                buf[:, width:] = h
                x = h
        return h


class OnnxLSTM:
    """The LSTM in onnxruntime, from a model built in memory (:mod:`.onnx_graph`)."""

    def __init__(self, weights: Weights, threads: int = 0) -> None:
        import onnxruntime

        from .onnx_graph import lstm_model

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # memory: no arena and no cached memory patterns (the LSTM's buffers are allocated per
        # batch and freed); no spinning threads on a machine shared with other work
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(
            lstm_model(weights), options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, mels: np.ndarray) -> np.ndarray:
        (h,) = self.session.run(None, {"x": np.ascontiguousarray(mels, np.float32)})
        return np.asarray(h[0], np.float32)


class VoiceEncoder:
    """Speaker embeddings (256-d, L2-normed) of mel windows."""

    def __init__(
        self, weights: Weights, backend: str = "onnx", batch_size: int = 32, threads: int = 0
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"onbekende backend '{backend}': kies onnx of numpy")
        self.weights = weights
        self.backend = backend
        self.batch_size = batch_size
        self.lstm: Callable[[np.ndarray], np.ndarray] = (
            OnnxLSTM(weights, threads) if backend == "onnx" else NumpyLSTM(weights)
        )

    @classmethod
    def load(cls, cache_dir: Path | None = None, **kwargs: Any) -> VoiceEncoder:
        return cls(load_weights(cache_dir), **kwargs)

    def forward(self, mels: np.ndarray) -> np.ndarray:
        """Embeddings (batch, 256) of mel windows (batch, frames, 40)."""
        out = np.empty((len(mels), HIDDEN), np.float32)
        for first in range(0, len(mels), self.batch_size):
            h = self.lstm(mels[first : first + self.batch_size])
            out[first : first + len(h)] = self._head(h)
        return out

    def _head(self, h: np.ndarray) -> np.ndarray:
        raw = np.maximum(h @ self.weights.linear_w.T + self.weights.linear_b, 0)
        norm = np.linalg.norm(raw, axis=1, keepdims=True)
        return (raw / np.maximum(norm, 1e-12)).astype(np.float32)

    def embed_windows(
        self,
        mel: np.ndarray,
        starts: Sequence[int] | np.ndarray,
        frames: int = PARTIAL_FRAMES,
    ) -> np.ndarray:
        """Embeddings of the windows ``mel[s : s + frames]`` (zero-padded past the end)."""
        starts = np.asarray(starts, dtype=np.int64)
        out = np.empty((len(starts), HIDDEN), np.float32)
        offsets = np.arange(frames)
        for first in range(0, len(starts), self.batch_size):
            chunk = starts[first : first + self.batch_size]
            index = chunk[:, None] + offsets[None, :]
            batch = mel[np.minimum(index, len(mel) - 1)]
            batch[index >= len(mel)] = 0.0
            out[first : first + len(chunk)] = self._head(self.lstm(batch))
        return out

    def embed_utterance(
        self, wav: np.ndarray, rate: float = 1.3, min_coverage: float = 0.75
    ) -> tuple[np.ndarray, np.ndarray]:
        """Resemblyzer's ``embed_utterance(wav, return_partials=True)``: (embed, partials)."""
        mel_slices = partial_slices(len(wav), rate, min_coverage)
        stop = mel_slices[-1][1] * HOP
        if stop >= len(wav):
            wav = np.pad(wav, (0, stop - len(wav)))
        mel = mel_spectrogram(wav)
        partials = self.forward(np.stack([mel[a:b] for a, b in mel_slices]))
        raw = partials.mean(axis=0)
        return (raw / np.linalg.norm(raw)).astype(np.float32), partials


def partial_slices(n_samples: int, rate: float, min_coverage: float) -> list[tuple[int, int]]:
    """Resemblyzer's ``compute_partial_slices``, mel frame ranges only."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    frame_step = int(np.round((SAMPLE_RATE / rate) / HOP))
    if not 0 < frame_step <= PARTIAL_FRAMES:
        raise ValueError(f"rate {rate} buiten bereik")
    steps = max(1, n_frames - PARTIAL_FRAMES + frame_step + 1)
    slices = [(i, i + PARTIAL_FRAMES) for i in range(0, steps, frame_step)]
    start = slices[-1][0] * HOP
    coverage = (n_samples - start) / (PARTIAL_FRAMES * HOP)
    if coverage < min_coverage and len(slices) > 1:
        slices = slices[:-1]
    return slices
