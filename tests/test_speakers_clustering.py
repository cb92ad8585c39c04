"""Clustering, count estimation, smoothing and turns on synthetic features."""

from __future__ import annotations

import numpy as np
import pytest
from speakers_synthetic import make_features, timeline

from pipeline.evaluation.speakers import Span, score
from pipeline.speakers.clustering import (
    DiarizeOptions,
    Turn,
    by_first_appearance,
    find_turns,
    kmeans,
    persistence,
    same_speaker_pairs,
    speech_gate,
    to_turns,
    viterbi,
    voiced_share,
)

OPTS = DiarizeOptions()


def pattern(speakers: int, turns: int, seed: int = 1) -> list[tuple[int, float]]:
    """A conversation: each turn 2 to 6 s, the next speaker another one."""
    rng = np.random.default_rng(seed)
    out, current = [], 0
    for _ in range(turns):
        out.append((current, float(rng.uniform(2, 6))))
        current = int(rng.choice([k for k in range(speakers) if k != current]))
    return out


def accuracy(truth: list[Turn], found: list[Turn] | tuple[Turn, ...]) -> float:
    spans = [Span(t.start, t.end, str(t.speaker)) for t in truth]
    return score(spans, [Span(t.start, t.end, f"h{t.speaker}") for t in found]).accuracy


@pytest.mark.parametrize("speakers", [2, 3, 4])
def test_known_count_finds_the_turns(speakers: int) -> None:
    truth = timeline(pattern(speakers, 40))
    result = find_turns(make_features(truth, speakers), speakers)
    assert result.speakers == speakers and not result.estimated
    assert accuracy(truth, result.turns) > 0.95


@pytest.mark.parametrize("speakers", [2, 3, 4])
def test_count_is_estimated(speakers: int) -> None:
    truth = timeline(pattern(speakers, 50, seed=speakers))
    result = find_turns(make_features(truth, speakers, seed=speakers), None)
    assert result.estimated
    assert result.speakers == speakers
    assert accuracy(truth, result.turns) > 0.95


def test_a_silent_recording_gives_no_turns() -> None:
    features = make_features(timeline([(0, 5.0)]), 1)
    silent = type(features)(
        np.full_like(features.level_db, -100.0),
        features.starts,
        features.embeddings,
        features.window_frames,
        features.step_frames,
    )
    assert find_turns(silent, 2).turns == ()


def test_kmeans_separates_blobs() -> None:
    rng = np.random.default_rng(0)
    y = np.concatenate([rng.normal(0, 0.3, (50, 4)), rng.normal(3, 0.3, (30, 4))])
    _, labels, _ = kmeans(y, 2)
    assert len(set(labels[:50])) == 1 and len(set(labels[50:])) == 1
    assert labels[0] != labels[-1]


def test_persistence_tells_runs_from_scatter() -> None:
    runs = np.repeat([0, 1, 0, 1], 10)
    scattered = np.array([0, 1] * 20)
    adjacent = np.arange(39)
    assert persistence(runs, adjacent, 2).min() > 0.8
    assert persistence(scattered, adjacent, 2).max() == 0.0


def test_speech_gate_follows_the_level() -> None:
    level = np.full(1000, -100.0)
    level[100:400] = -20.0
    level[300:302] = -100.0  # a 20 ms hole: filled
    level[600:603] = -20.0  # a 30 ms click: dropped
    mask = speech_gate(level, OPTS)
    assert mask[100:400].all() and not mask[:100].any() and not mask[400:].any()


def test_speech_gate_ignores_steady_noise() -> None:
    rng = np.random.default_rng(0)
    level = rng.normal(-45, 1.0, 2000)  # noise at -45 dBFS
    level[500:1500] = rng.normal(-22, 3.0, 1000)  # speech
    mask = speech_gate(level, OPTS)
    assert mask[500:1500].mean() > 0.95
    assert mask[:500].mean() < 0.03 and mask[1500:].mean() < 0.03


def test_voiced_share_counts_speech_frames() -> None:
    mask = np.zeros(400, bool)
    mask[100:200] = True
    share = voiced_share(mask, np.array([0, 100, 150, 300]), 100)
    assert share.tolist() == [0.0, 1.0, 0.5, 0.0]


def test_pairs_do_not_cross_a_pause() -> None:
    speech = np.ones(1000, bool)
    speech[500:520] = False  # a 0.2 s pause
    starts = np.arange(0, 841, 40)
    first, second = same_speaker_pairs(starts, speech, 160, 320, 5)
    assert len(first) > 0
    for i, j in zip(first, second, strict=True):
        assert starts[j] - starts[i] >= 160  # windows do not overlap
        assert starts[j] + 160 <= 500 or starts[i] >= 520  # one side of the pause


def test_viterbi_switch_cost_removes_a_blip() -> None:
    scores = np.zeros((100, 2))
    scores[:, 0] = 1.0
    scores[50:53] = [0.0, 1.0]  # three cells that favour speaker 1
    high = viterbi(scores, np.full(100, 5.0))
    low = viterbi(scores, np.full(100, 0.1))
    assert (high == 0).all()
    assert (low[50:53] == 1).all() and (low[:50] == 0).all() and (low[53:] == 0).all()


def test_viterbi_changes_speaker_in_the_pause() -> None:
    scores = np.zeros((60, 2))
    scores[:25, 0] = 1.0
    scores[35:, 1] = 1.0  # cells 25-34: a pause without evidence
    switch = np.full(60, 10.0)
    switch[30] = 0.01  # cheap only in the pause's middle
    path = viterbi(scores, switch)
    assert (path[:30] == 0).all() and (path[30:] == 1).all()


def test_turns_bridge_short_pauses_of_one_speaker() -> None:
    speech = np.zeros(300, bool)
    speech[0:100] = speech[110:200] = speech[260:300] = True  # pauses of 0.1 s and 0.6 s
    path = np.zeros(150, np.int64)  # cells of 2 frames
    path[130:] = 1
    turns = to_turns(path, speech, 0.02, OPTS)
    assert [(t.start, t.end, t.speaker) for t in turns] == [(0.0, 2.0, 0), (2.6, 3.0, 1)]


def test_speakers_are_numbered_by_first_long_turn() -> None:
    turns = [Turn(0.0, 0.3, 5), Turn(0.5, 3.0, 2), Turn(3.2, 6.0, 5), Turn(6.5, 7.0, 9)]
    renumbered = by_first_appearance(turns, shortest=1.0)
    assert [t.speaker for t in renumbered] == [1, 0, 1, 2]


def test_generalized_eigh_matches_scipy() -> None:
    linalg = pytest.importorskip("scipy.linalg")
    from pipeline.speakers.clustering import generalized_eigh

    rng = np.random.default_rng(0)
    a = rng.normal(size=(16, 16))
    b = rng.normal(size=(16, 16))
    a, b = a @ a.T, b @ b.T + np.eye(16)
    values, vectors = generalized_eigh(a, b)
    ref, _ = linalg.eigh(a, b)
    assert np.allclose(values, ref)
    assert np.allclose(vectors.T @ b @ vectors, np.eye(16), atol=1e-9)
    assert np.allclose(a @ vectors, b @ vectors * values, atol=1e-8)


def test_blas_threads_restores_the_count() -> None:
    from pipeline.speakers.blas import SYMBOL, _libraries, blas_threads

    libs = _libraries()
    if not libs:
        pytest.skip("no OpenBLAS with openblas_set_num_threads_local")
    before = [getattr(lib, SYMBOL)(3) for lib in libs]  # set 3, remember the old count
    with blas_threads(1) as count:
        assert count == len(libs)
        assert all(getattr(lib, SYMBOL)(1) == 1 for lib in libs)
    assert all(getattr(lib, SYMBOL)(old) == 3 for lib, old in zip(libs, before, strict=True))
