"""Speaker features of a recording, in one streaming pass: frame levels and window embeddings.

Audio (16 kHz mono float32) is given block by block (:class:`FeatureStream`), so memory stays
flat whatever the length: per 10 ms frame only its level is kept (4 bytes), per window its
embedding (1 KB); the mel frames are dropped once the windows over them are embedded.

- Windows: ``window`` seconds (1.6 s, the encoder's partial utterance) every ``step`` seconds.
  Windows without enough sound (fewer than ``min_voiced`` of their frames above the block's
  pre-gate level, see :func:`pregate_threshold`) are not embedded: silence costs nothing. The
  final speech gate is decided later, over the whole recording (:mod:`.diarize`).
- Level: the encoder takes power mels and was trained on utterances at -30 dBFS. Each window is
  scaled so that its loud frames (within 30 dB of its loudest) average -30 dBFS: a quiet and a
  loud speaker are embedded alike, and a window half silence is not made louder by it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .encoder import HOP, N_MELS, PARTIAL_FRAMES, SAMPLE_RATE, MelStream, VoiceEncoder

FRAME = HOP / SAMPLE_RATE  # 0.01 s
SILENCE_DB = -100.0  # the level of digital silence (log of zero is clipped here)
TARGET_POWER = 10 ** (-30 / 10)  # -30 dBFS as a mean square


@dataclass(frozen=True, kw_only=True)
class FeatureOptions:
    window: float = 1.6  # seconds; at most 1.6 (the encoder's partial utterance)
    step: float = 0.4  # seconds between window starts
    min_voiced: float = 0.5  # share of a window's frames that must be sound to embed it
    block: float = 60.0  # seconds of audio per pre-gate decision (and per embedding batch)
    normalize: bool = True  # scale each window to -30 dBFS (off: the audio's own level)
    level_range_db: float = 30.0  # frames within this of a window's loudest set its level

    def frames(self) -> tuple[int, int]:
        """(window, step) in 10 ms frames."""
        win = min(PARTIAL_FRAMES, max(10, round(self.window / FRAME)))
        return win, max(1, round(self.step / FRAME))


@dataclass(frozen=True)
class Features:
    """What diarization needs of a recording."""

    level_db: np.ndarray  # (frames,) level of each 10 ms frame in dBFS, >= SILENCE_DB
    starts: np.ndarray  # (windows,) first frame of each embedded window
    embeddings: np.ndarray  # (windows, 256) L2-normed
    window_frames: int
    step_frames: int

    @property
    def duration(self) -> float:
        return len(self.level_db) * FRAME

    def centres(self) -> np.ndarray:
        """The middle of each window, seconds."""
        return (self.starts + self.window_frames / 2) * FRAME


def level_db(mean_square: np.ndarray) -> np.ndarray:
    """dBFS of frames' mean squares (float audio in [-1, 1]), digital silence at -100."""
    with np.errstate(divide="ignore"):
        db = 10 * np.log10(np.maximum(mean_square, 0))
    return np.maximum(db, SILENCE_DB).astype(np.float32)


def pregate_threshold(db: np.ndarray) -> float:
    """A lenient level below which a frame is surely not speech, from one block's levels.

    Between the block's noise floor (10th percentile) + 6 dB and its loud speech (95th) - 35
    dB, never below -70 dBFS: it only keeps windows of silence or hum from being embedded.
    """
    if len(db) == 0:
        return SILENCE_DB
    low, high = np.percentile(db, [10, 95])
    return float(max(-70.0, min(low + 6.0, high - 35.0)))


@dataclass
class _Pending:
    """Frames not yet covered by all their windows (from ``first`` on)."""

    first: int = 0
    mel: np.ndarray = field(default_factory=lambda: np.zeros((0, N_MELS), np.float32))
    db: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    sound: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))


class FeatureStream:
    """Give audio with :meth:`add` (any block size), then take :meth:`finish`'s features."""

    def __init__(self, encoder: VoiceEncoder, opts: FeatureOptions | None = None) -> None:
        self.encoder = encoder
        self.opts = opts or FeatureOptions()
        self.win, self.step = self.opts.frames()
        self.mel_stream = MelStream()
        self.block_frames = max(self.win, round(self.opts.block / FRAME))
        self.new_mel: list[np.ndarray] = []
        self.new_power: list[np.ndarray] = []
        self.new_count = 0
        self.pending = _Pending()
        self.levels: list[np.ndarray] = []
        self.starts: list[np.ndarray] = []
        self.embeddings: list[np.ndarray] = []
        self.next_start = 0  # first frame of the next window to consider

    def add(self, samples: np.ndarray) -> None:
        mel, power = self.mel_stream.add(samples)
        self._take(mel, power)
        while self.new_count >= self.block_frames:
            self._block(final=False)

    def finish(self) -> Features:
        mel, power = self.mel_stream.finish()
        self._take(mel, power)
        self._block(final=True)
        dim = self.encoder.weights.linear_b.shape[0]
        return Features(
            level_db=np.concatenate(self.levels) if self.levels else np.zeros(0, np.float32),
            starts=np.concatenate([np.zeros(0, np.int64), *self.starts]).astype(np.int64),
            embeddings=np.concatenate(self.embeddings) if self.embeddings else np.zeros((0, dim)),
            window_frames=self.win,
            step_frames=self.step,
        )

    def _take(self, mel: np.ndarray, power: np.ndarray) -> None:
        if len(mel):
            self.new_mel.append(mel)
            self.new_power.append(power)
            self.new_count += len(mel)

    def _block(self, final: bool) -> None:
        """Pre-gate the next block of frames and embed the windows that are complete."""
        mel = np.concatenate(self.new_mel) if self.new_mel else np.zeros((0, N_MELS), np.float32)
        power = np.concatenate(self.new_power) if self.new_power else np.zeros(0, np.float32)
        take = len(mel) if final else self.block_frames
        rest_mel, rest_power = mel[take:], power[take:]
        mel, power = mel[:take], power[:take]
        self.new_mel, self.new_power = [rest_mel], [rest_power]
        self.new_count = len(rest_mel)
        db = level_db(power)
        self.levels.append(db)
        pend = self.pending
        pend.mel = np.concatenate([pend.mel, mel])
        pend.db = np.concatenate([pend.db, db])
        pend.sound = np.concatenate([pend.sound, db > pregate_threshold(db)])
        self._embed(final)

    def _embed(self, final: bool) -> None:
        pend = self.pending
        available = pend.first + len(pend.mel)  # frames known so far
        last = available - self.win if not final else max(available - self.win, 0)
        starts = np.arange(self.next_start, last + 1, self.step)
        if final and available > 0 and (len(starts) == 0 or starts[-1] + self.win < available):
            # one more window that reaches the end (it starts at a step, padded with zeros)
            starts = np.append(starts, starts[-1] + self.step if len(starts) else self.next_start)
        if len(starts):
            self._embed_starts(starts)
            self.next_start = int(starts[-1]) + self.step
        drop = max(0, min(self.next_start, available) - pend.first)
        pend.first += drop
        pend.mel, pend.db, pend.sound = pend.mel[drop:], pend.db[drop:], pend.sound[drop:]

    def _embed_starts(self, starts: np.ndarray) -> None:
        pend = self.pending
        local = starts - pend.first
        index = np.minimum(local[:, None] + np.arange(self.win)[None, :], len(pend.mel) - 1)
        inside = (local[:, None] + np.arange(self.win)[None, :]) < len(pend.mel)
        sound = pend.sound[index] & inside
        keep = sound.mean(axis=1) >= self.opts.min_voiced
        if not keep.any():
            return
        index, inside = index[keep], inside[keep]
        mel = pend.mel[index]
        mel[~inside] = 0.0
        if self.opts.normalize:
            mel *= self._gains(pend.db[index], inside)[:, None, None]
        self.starts.append(starts[keep])
        self.embeddings.append(self.encoder.forward(mel))

    def _gains(self, db: np.ndarray, inside: np.ndarray) -> np.ndarray:
        """Power gain per window that brings its loud frames to -30 dBFS."""
        db = np.where(inside, db, SILENCE_DB)
        loud = db >= db.max(axis=1, keepdims=True) - self.opts.level_range_db
        power = np.where(loud, 10 ** (db / 10), 0.0).sum(axis=1) / loud.sum(axis=1)
        return (TARGET_POWER / np.maximum(power, 1e-10)).astype(np.float32)


def extract(
    encoder: VoiceEncoder, samples: np.ndarray, opts: FeatureOptions | None = None
) -> Features:
    """The features of a whole recording in memory (streamed in blocks)."""
    stream = FeatureStream(encoder, opts)
    block = 30 * SAMPLE_RATE
    for first in range(0, len(samples), block):
        stream.add(samples[first : first + block])
    return stream.finish()
