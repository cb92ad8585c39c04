"""Synthetic features: speakers as directions in embedding space, windows as noisy mixtures."""

from __future__ import annotations

import numpy as np

from pipeline.speakers.clustering import Turn
from pipeline.speakers.features import Features

WIDTH, STEP = 160, 40  # frames: 1.6 s windows every 0.4 s


def timeline(pattern: list[tuple[int, float]], gap: float = 0.4) -> list[Turn]:
    """Turns from (speaker, seconds) with ``gap`` seconds of silence between them."""
    turns, t = [], 0.0
    for speaker, seconds in pattern:
        turns.append(Turn(round(t, 2), round(t + seconds, 2), speaker))
        t += seconds + gap
    return turns


def make_features(
    turns: list[Turn],
    speakers: int,
    noise: float = 0.6,
    content: float = 0.8,
    seed: int = 0,
) -> Features:
    """Features whose windows mix the speakers' directions by their share of the window.

    ``content`` adds a per-window shift shared by all speakers (what is said), stronger than
    the noise, so that plain clustering of raw embeddings is not enough.
    """
    rng = np.random.default_rng(seed)
    dim = 256
    voices = np.abs(rng.normal(size=(speakers, dim)))
    voices /= np.linalg.norm(voices, axis=1, keepdims=True)
    content_axes = rng.normal(size=(4, dim)) / np.sqrt(dim)
    frames = int(round(max(t.end for t in turns) * 100)) + 50
    who = np.full(frames, -1)
    for turn in turns:
        who[int(round(turn.start * 100)) : int(round(turn.end * 100))] = turn.speaker
    level = np.where(who >= 0, -20.0, -100.0).astype(np.float32)
    starts = np.arange(0, max(1, frames - WIDTH + 1), STEP)
    rows = []
    for s in starts:
        share = np.bincount(who[s : s + WIDTH][who[s : s + WIDTH] >= 0], minlength=speakers)
        mix = share @ voices / max(share.sum(), 1)
        shift = rng.normal(size=4) @ content_axes * content * np.sqrt(dim) / 4
        rows.append(np.abs(mix + shift / 4 + rng.normal(0, noise / np.sqrt(dim), dim)))
    emb = np.array(rows, np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return Features(level, starts.astype(np.int64), emb, WIDTH, STEP)
