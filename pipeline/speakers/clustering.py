"""Who speaks when, from :class:`~.features.Features`: pure functions on numpy arrays.

1. Speech gate (:func:`speech_gate`): a frame is speech when its level is well above the
   recording's noise floor and not far below its speech level; short blips and holes go.
2. Windows (1.6 s every 0.4 s) that are mostly speech are clustered (:func:`cluster`): spectral
   clustering of their cosine affinities, then spherical k-means over all of them. Without a
   given count, :func:`estimate_count` picks 2 to 6 by the eigengap of the affinity's Laplacian.
3. Decoding (:func:`decode`): each 20 ms cell gets, per speaker, the mean similarity of the
   windows over it to that speaker's centroid; a Viterbi path with a cost per change of
   speaker, low in a pause and high inside speech, gives the labels. Centroids are then
   re-estimated from the windows the path gives to one speaker, and decoded again.
4. Turns (:func:`to_turns`): runs of speech with one label, across pauses shorter than
   ``merge_gap``; speakers numbered in order of first appearance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .features import FRAME, Features

RNG_SEED = 0


@dataclass(frozen=True, kw_only=True)
class DiarizeOptions:
    min_speakers: int = 2
    max_speakers: int = 6
    # speech gate: above floor + this, above loud speech - this, never below the absolute
    gate_above_floor_db: float = 8.0
    gate_below_speech_db: float = 25.0
    gate_min_db: float = -75.0
    min_voiced: float = 0.6  # share of speech frames for a window to be clustered
    max_cluster: int = 1000  # windows in the affinity matrix (evenly subsampled beyond)
    grid: float = 0.02  # seconds per decoding cell
    switch_cost: float = 0.6  # similarity x seconds to change speaker inside speech
    pause_switch_cost: float = 0.005  # ... in a pause
    merge_gap: float = 0.3  # seconds of pause inside one speaker's turn
    iterations: int = 2  # re-estimations of the centroids from the decoded path
    pca_dims: int = 32  # principal components kept before the discriminant
    lda_dims: int = 8  # discriminant axes the windows are clustered on
    pair_lag: float = 8.0  # seconds: farthest same-speaker pair of windows
    pair_prior: float = 640.0  # pairs' worth of ridge on the within-speaker scatter
    pair_pause: float = 0.05  # seconds: a pause this long may be a change of speaker
    min_persistence: float = 0.8  # of each cluster, for a count to be accepted
    first_turn: float = 1.0  # seconds: a speaker's first turn this long sets the name order


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: int  # 0, 1, ... in order of first appearance


@dataclass(frozen=True)
class Diarization:
    turns: tuple[Turn, ...]
    speakers: int  # number of speakers (given or estimated)
    estimated: bool  # True when the count was estimated
    heard: int = 0  # the estimated count, also when a count was given (0: too little speech)


# --- speech gate -----------------------------------------------------------------------------


def _runs(mask: np.ndarray) -> list[tuple[int, int, bool]]:
    """(start, stop, value) of each run of equal values."""
    if len(mask) == 0:
        return []
    edges = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    bounds = np.concatenate([[0], edges, [len(mask)]])
    return [(int(a), int(b), bool(mask[a])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _drop_short(mask: np.ndarray, value: bool, shortest: int) -> np.ndarray:
    """Flip runs of ``value`` shorter than ``shortest`` frames."""
    out = mask.copy()
    for a, b, v in _runs(mask):
        if v == value and b - a < shortest:
            out[a:b] = not value
    return out


def speech_gate(level_db: np.ndarray, opts: DiarizeOptions) -> np.ndarray:
    """Speech frames (bool) from frame levels in dBFS."""
    if len(level_db) == 0:
        return np.zeros(0, bool)
    floor, loud = np.percentile(level_db, [2, 95])
    threshold = max(
        opts.gate_min_db,
        min(floor + opts.gate_above_floor_db, loud - opts.gate_below_speech_db),
    )
    mask = level_db > threshold
    mask = _drop_short(mask, False, round(0.05 / FRAME))  # fill holes < 50 ms
    return _drop_short(mask, True, round(0.08 / FRAME))  # drop blips < 80 ms


def voiced_share(mask: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """Share of speech frames in each window ``[s, s + width)``."""
    cum = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])
    stops = np.minimum(starts + width, len(mask))
    return (cum[stops] - cum[np.minimum(starts, len(mask))]) / width


# --- clustering ------------------------------------------------------------------------------


def _normalise(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def _subsample(n: int, most: int) -> np.ndarray:
    if n <= most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, most).round().astype(np.int64))


def same_speaker_pairs(
    starts: np.ndarray, speech: np.ndarray, width: int, max_lag: int, max_pause: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of windows (indices into ``starts``) that do not overlap and have no pause of
    ``max_pause`` frames or more between them: almost always one speaker, two things said.
    """
    long_pause = np.zeros(len(speech) + 1, np.int64)
    for a, b, is_speech in _runs(speech):
        if not is_speech and b - a >= max_pause:
            long_pause[a + 1] += 1  # a pause starting inside (s, s + span) breaks the pair
    crossed = np.cumsum(long_pause)
    first, second = [], []
    for lag in np.unique(starts[1:] - starts[0]) if len(starts) > 1 else []:
        if not width <= lag <= max_lag:
            continue
        j = np.searchsorted(starts, starts + lag)
        ok = j < len(starts)
        ok[ok] = starts[j[ok]] == starts[ok] + lag
        end = np.minimum(starts + lag + width - 1, len(speech) - 1)
        ok &= (
            crossed[np.minimum(end, len(crossed) - 1)]
            == crossed[np.minimum(starts, len(crossed) - 1)]
        )
        first.append(np.flatnonzero(ok))
        second.append(j[ok])
    if not first:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(first), np.concatenate(second)


def enough_pairs(
    starts: np.ndarray, speech: np.ndarray, width: int, opts: DiarizeOptions
) -> tuple[np.ndarray, np.ndarray]:
    """Same-speaker pairs; when a noisy gate leaves too few, longer pauses are allowed
    inside a pair (twice as long each time, up to 0.4 s)."""
    pause = opts.pair_pause
    while True:
        pairs = same_speaker_pairs(
            starts, speech, width, round(opts.pair_lag / FRAME), round(pause / FRAME)
        )
        if len(pairs[0]) >= 4 * opts.pca_dims or pause >= 0.4:
            return pairs
        pause *= 2


@dataclass(frozen=True)
class Projection:
    """A linear map of embeddings to a space where speakers differ and one speaker's windows
    do not: ``(x - mean) @ matrix``; its within-speaker covariance is the identity."""

    mean: np.ndarray
    matrix: np.ndarray
    ratios: np.ndarray  # total / within-speaker variance along each output axis

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return np.asarray((x - self.mean) @ self.matrix)


def discriminant(
    x: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], opts: DiarizeOptions
) -> Projection:
    """LDA without labels: within-speaker scatter from same-speaker pairs, total scatter from
    all windows, in the space of the first ``pca_dims`` principal components.

    The within-speaker scatter gets a ridge of ``pair_prior / pairs`` times its mean variance.
    """
    mean = x.mean(axis=0)
    centred = x - mean
    _, vectors = np.linalg.eigh(np.cov(centred.T))
    pca = vectors[:, ::-1][:, : opts.pca_dims]
    z = centred @ pca
    total = np.cov(z.T, bias=True)
    first, second = pairs
    if len(first) == 0:
        within = np.diag(np.diag(total)) / 2  # no pairs: PCA whitening
    else:
        diff = z[first] - z[second]
        within = diff.T @ diff / (2 * len(diff))
        # ridge, the stronger the fewer pairs: with few turns, a direction that sets some turns
        # apart (a way of speaking) looks as discriminative as the voice; the ridge pulls the
        # axes back towards the principal ones, where GE2E puts the voice
        ridge = opts.pair_prior / len(diff) * np.trace(within) / len(within)
        within += np.eye(len(within)) * ridge
    within += np.eye(len(within)) * 1e-3 * np.trace(within) / len(within)
    ratios, axes = generalized_eigh(total, within)
    order = np.argsort(ratios)[::-1][: opts.lda_dims]
    return Projection(mean, pca @ axes[:, order], ratios[order])


def _kmeans_once(
    y: np.ndarray, count: int, rng: np.random.Generator, iterations: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Lloyd's k-means from a k-means++ start."""
    sq = (y**2).sum(axis=1)
    centroids = [y[rng.integers(len(y))]]
    for _ in range(1, count):
        c = np.array(centroids)
        dist = np.maximum(sq[:, None] - 2 * y @ c.T + (c**2).sum(axis=1)[None, :], 0).min(axis=1)
        total = dist.sum()
        pick = rng.choice(len(y), p=dist / total) if total > 0 else rng.integers(len(y))
        centroids.append(y[pick])
    c = np.array(centroids)
    labels = np.zeros(len(y), np.int64)
    for _ in range(iterations):
        dist = sq[:, None] - 2 * y @ c.T + (c**2).sum(axis=1)[None, :]
        new = np.argmin(dist, axis=1)
        if _ and np.array_equal(new, labels):
            break
        labels = new
        for k in range(count):
            if (labels == k).any():
                c[k] = y[labels == k].mean(axis=0)
    inertia = float(((y - c[labels]) ** 2).sum())
    return c, labels, inertia


def generalized_eigh(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and vectors of ``a v = w b v`` (b positive definite), vectors b-normalised:
    ``scipy.linalg.eigh(a, b)`` in numpy, by way of b's Cholesky factor."""
    inv = np.linalg.inv(np.linalg.cholesky(b))
    values, vectors = np.linalg.eigh(inv @ a @ inv.T)
    return values, inv.T @ vectors


def kmeans(
    y: np.ndarray, count: int, restarts: int = 6, iterations: int = 40
) -> tuple[np.ndarray, np.ndarray, float]:
    """Euclidean k-means, the best of ``restarts`` seeded runs: centroids, labels, inertia."""
    rng = np.random.default_rng(RNG_SEED)
    runs = [_kmeans_once(y, count, rng, iterations) for _ in range(restarts)]
    return min(runs, key=lambda run: run[2])


def persistence(labels: np.ndarray, adjacent: np.ndarray, count: int) -> np.ndarray:
    """Per cluster: how often the window right after one of its windows is in it as well.

    ``adjacent`` holds the indices i whose window i + 1 starts one step later. A speaker's
    windows come in runs (0.9 with turns of a few seconds); a cluster of windows that straddle
    two voices, or of an odd moment, is scattered (0.2 to 0.7).
    """
    out = np.zeros(count)
    for k in range(count):
        mine = adjacent[labels[adjacent] == k]
        out[k] = float((labels[mine + 1] == k).mean()) if len(mine) else 0.0
    return out


def estimate_count(y: np.ndarray, starts: np.ndarray, step: int, opts: DiarizeOptions) -> int:
    """The largest count (``min_speakers`` to ``max_speakers``) whose k-means clusters all
    persist (:func:`persistence` >= ``opts.min_persistence``)."""
    adjacent = np.flatnonzero(np.diff(starts) == step)
    best = opts.min_speakers
    for count in range(opts.min_speakers, min(opts.max_speakers, len(y) - 1) + 1):
        _, labels, _ = kmeans(y, count)
        if persistence(labels, adjacent, count).min() >= opts.min_persistence:
            best = count
    return best


def cluster(
    y: np.ndarray, starts: np.ndarray, step: int, count: int | None, opts: DiarizeOptions
) -> tuple[np.ndarray, int]:
    """Labels of the projected windows ``y`` and the count (estimated when None)."""
    if count is None:
        count = estimate_count(y, starts, step, opts)
    count = max(1, min(count, len(y)))
    _, labels, _ = kmeans(y, count)
    return labels, count


# --- decoding --------------------------------------------------------------------------------


def window_scores(y: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Cosine similarity of each projected window to each speaker's centroid."""
    return np.asarray(_normalise(y) @ _normalise(centroids).T)


def cell_scores(
    starts: np.ndarray, width: int, sims: np.ndarray, n_frames: int, cell: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per cell of ``cell`` frames: the mean score of the windows over it, per speaker.

    Returns scores (cells, speakers) and how many windows cover each cell (0: no evidence).
    Accumulated per cell (a window covers the cells its frames start in), in float32:
    memory is a few bytes per 20 ms whatever the length.
    """
    cells = -(-n_frames // cell)
    first = starts // cell
    stop = np.minimum(-(-(starts + width) // cell), cells)
    total = np.zeros((cells + 1, sims.shape[1]), np.float32)
    count = np.zeros(cells + 1, np.float32)
    np.add.at(total, first, sims)
    np.add.at(total, stop, -sims)
    np.add.at(count, first, 1.0)
    np.add.at(count, stop, -1.0)
    sums = np.cumsum(total[:-1], axis=0)
    covered = np.round(np.cumsum(count[:-1]))
    return sums / np.maximum(covered, 1e-9)[:, None], covered


def viterbi(scores: np.ndarray, switch: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """The path maximising the summed scores less ``switch[t]`` at each change into cell t.

    With one switch cost for every pair of speakers, each step only needs the best state so
    far: O(cells x speakers), in plain Python floats (faster than numpy for 2 to 6 states),
    rows converted ``chunk`` at a time; back pointers in numpy (a byte per cell and state).
    """
    cells, states = scores.shape
    tops = np.zeros(cells, np.int64)  # the best state before each cell
    moved = np.zeros((cells, states), bool)  # whether state k came from it
    order = range(states)
    best = scores[0].tolist()
    for first in range(1, cells, chunk):
        rows = scores[first : first + chunk].tolist()
        costs = switch[first : first + chunk].tolist()
        for offset, (row, cost) in enumerate(zip(rows, costs, strict=True)):
            top = max(order, key=best.__getitem__)
            jump = best[top] - cost
            came = [b < jump for b in best]
            best = [(jump if m else b) + e for b, m, e in zip(best, came, row, strict=True)]
            tops[first + offset] = top
            moved[first + offset] = came
    path = np.empty(cells, np.int64)
    path[-1] = max(order, key=best.__getitem__)
    for t in range(cells - 1, 0, -1):
        path[t - 1] = tops[t] if moved[t, path[t]] else path[t]
    return path


def speech_cells(speech: np.ndarray, cell: int) -> np.ndarray:
    """A cell is speech when half its frames are."""
    cells = -(-len(speech) // cell)
    padded = np.pad(speech, (0, cells * cell - len(speech)))
    return np.asarray(padded.reshape(cells, cell).mean(axis=1) >= 0.5)


def decode(
    starts: np.ndarray, width: int, sims: np.ndarray, speech: np.ndarray, opts: DiarizeOptions
) -> np.ndarray:
    """A label per cell (``opts.grid`` seconds) from the windows' scores per speaker."""
    cell = max(1, round(opts.grid / FRAME))
    scores, count = cell_scores(starts, width, sims, len(speech), cell)
    is_speech = speech_cells(speech, cell)
    evidence = is_speech & (count > 0)
    scores = np.where(evidence[:, None], scores * cell * FRAME, 0.0)
    switch = np.where(is_speech, opts.switch_cost, opts.pause_switch_cost)
    return viterbi(scores, switch)


def refit_centroids(
    y: np.ndarray, starts: np.ndarray, width: int, path: np.ndarray, cell: int, old: np.ndarray
) -> np.ndarray:
    """Centroids of the windows whose middle the path gives to each speaker."""
    owner = path[np.minimum((starts + width // 2) // cell, len(path) - 1)]
    return np.stack(
        [y[owner == k].mean(axis=0) if (owner == k).any() else old[k] for k in range(len(old))]
    )


# --- turns -----------------------------------------------------------------------------------


def to_turns(
    path: np.ndarray, speech: np.ndarray, cell_seconds: float, opts: DiarizeOptions
) -> list[Turn]:
    """Runs of speech cells with one label; a pause under ``merge_gap`` stays in the turn."""
    cells = len(path)
    cell = max(1, round(cell_seconds / FRAME))
    pad = cells * cell - len(speech)
    speech_cells = np.pad(speech, (0, pad)).reshape(cells, cell).mean(axis=1) >= 0.5
    turns: list[list[float]] = []  # start, end, label
    for a, b, is_speech in _runs(speech_cells):
        if not is_speech:
            continue
        labels = path[a:b]
        for c, d, _ in _runs_of_labels(labels):
            start, end, label = (a + c) * cell_seconds, (a + d) * cell_seconds, int(labels[c])
            if turns and turns[-1][2] == label and start - turns[-1][1] < opts.merge_gap:
                turns[-1][1] = end
            else:
                turns.append([start, end, label])
    return [Turn(round(s, 3), round(e, 3), int(k)) for s, e, k in turns]


def _runs_of_labels(labels: np.ndarray) -> list[tuple[int, int, int]]:
    if len(labels) == 0:
        return []
    edges = np.flatnonzero(np.diff(labels)) + 1
    bounds = np.concatenate([[0], edges, [len(labels)]])
    return [(int(a), int(b), int(labels[a])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def by_first_appearance(turns: list[Turn], shortest: float = 0.0) -> list[Turn]:
    """Renumber speakers 0, 1, ... in the order they first speak a turn of ``shortest``
    seconds or more (then, for any speaker without one, of any length)."""
    order: dict[int, int] = {}
    for turn in turns:
        if turn.end - turn.start >= shortest:
            order.setdefault(turn.speaker, len(order))
    for turn in turns:
        order.setdefault(turn.speaker, len(order))
    return [Turn(t.start, t.end, order[t.speaker]) for t in turns]


def find_turns(
    features: Features, count: int | None = None, opts: DiarizeOptions | None = None
) -> Diarization:
    """Turns of ``count`` speakers (estimated, 2 to 6, when None)."""
    opts = opts or DiarizeOptions()
    speech = speech_gate(features.level_db, opts)
    width = features.window_frames
    share = voiced_share(speech, features.starts, width)
    use = np.flatnonzero(share >= opts.min_voiced)
    if len(use) < 2:
        return Diarization((), count or 0, count is None, 0)
    starts = features.starts[use]
    x = features.embeddings[use]
    y = discriminant(x, enough_pairs(starts, speech, width, opts), opts)(x)
    heard = estimate_count(y, starts, features.step_frames, opts)
    labels, found = cluster(y, starts, features.step_frames, count or heard, opts)
    centroids = np.stack([y[labels == k].mean(axis=0) for k in range(found)])
    cell = max(1, round(opts.grid / FRAME))
    path = decode(starts, width, window_scores(y, centroids), speech, opts)
    for _ in range(opts.iterations):
        centroids = refit_centroids(y, starts, width, path, cell, centroids)
        path = decode(starts, width, window_scores(y, centroids), speech, opts)
    turns = by_first_appearance(to_turns(path, speech, cell * FRAME, opts), opts.first_turn)
    return Diarization(tuple(turns), found, count is None, heard)
