"""Words and segments to speakers; splitting at changes; fitting segment times to turns."""

from __future__ import annotations

import pytest

from pipeline.core.errors import SpeakerError
from pipeline.core.models import Segment, Word
from pipeline.speakers.assign import (
    assign_speakers,
    fit_to_turns,
    smooth_labels,
    span_speaker,
    speaker_name,
    split_segment,
    word_speakers,
)
from pipeline.speakers.clustering import Turn
from pipeline.speakers.labels import speaker_count

TURNS = [Turn(0.0, 4.0, 0), Turn(4.5, 8.0, 1), Turn(8.4, 12.0, 0)]


def words(*spans: tuple[float, float, str]) -> tuple[Word, ...]:
    return tuple(Word(a, b, f" {t}") for a, b, t in spans)


def segment(i: int, ws: tuple[Word, ...], speaker: str | None = None) -> Segment:
    return Segment(i, ws[0].start, ws[-1].end, " ".join(w.text.strip() for w in ws), ws, speaker)


def test_span_goes_to_the_largest_overlap() -> None:
    assert span_speaker(3.5, 4.6, TURNS) == 0  # 0.5 s in turn 0, 0.1 s in turn 1
    assert span_speaker(3.9, 5.5, TURNS) == 1


def test_a_word_in_a_pause_goes_to_the_nearest_turn() -> None:
    assert span_speaker(4.05, 4.15, TURNS) == 0
    assert span_speaker(4.3, 4.45, TURNS) == 1
    assert span_speaker(30.0, 31.0, TURNS) is None  # too far from any turn


def test_word_speakers_fill_unknowns_from_neighbours() -> None:
    ws = words((1.0, 1.5, "a"), (20.0, 20.5, "far"), (5.0, 5.5, "b"))
    assert word_speakers(ws, TURNS) == [0, 0, 1]


def test_lone_short_word_joins_its_neighbours() -> None:
    ws = words((1.0, 1.2, "a"), (1.3, 1.5, "b"), (1.6, 1.8, "c"), (1.9, 2.1, "d"))
    assert smooth_labels([0, 1, 0, 0], ws) == [0, 0, 0, 0]
    assert smooth_labels([0, 1, 1, 0], ws) == [0, 1, 1, 0]  # two words: a real change
    long_word = words((1.0, 1.2, "a"), (1.3, 2.5, "long"), (2.6, 2.8, "c"))
    assert smooth_labels([0, 1, 0], long_word) == [0, 1, 0]


def test_split_at_the_speaker_change() -> None:
    ws = words((3.0, 3.4, "Goed"), (3.5, 3.9, "zo."), (4.6, 5.0, "Dank"), (5.1, 5.5, "je."))
    pieces = split_segment(segment(7, ws), [0, 0, 1, 1], ["Anna", "Bram"])
    assert [(p.start, p.end, p.text, p.speaker) for p in pieces] == [
        (3.0, 3.9, "Goed zo.", "Anna"),
        (4.6, 5.5, "Dank je.", "Bram"),
    ]
    assert [len(p.words) for p in pieces] == [2, 2]


def test_unsplit_segment_keeps_its_text() -> None:
    ws = words((1.0, 1.4, "Hallo"), (1.5, 1.9, "daar"))
    seg = segment(0, ws)
    (piece,) = split_segment(seg, [1, 1], ["Anna", "Bram"])
    assert piece == Segment(0, seg.start, seg.end, seg.text, ws, "Bram")


def test_names_beyond_the_given_ones() -> None:
    assert speaker_name(0, ["Anna"]) == "Anna"
    assert speaker_name(2, ["Anna"]) == "Spreker 3"


def test_assign_splits_renumbers_and_names() -> None:
    first = segment(0, words((1.0, 1.5, "Een"), (3.5, 3.9, "twee."), (4.6, 5.0, "Drie")))
    cue = Segment(1, 9.0, 10.0, "Een cue zonder woorden.")
    out = assign_speakers([first, cue], TURNS, ["Anna", "Bram"], fit=False)
    assert [(s.id, s.text, s.speaker) for s in out] == [
        (0, "Een twee.", "Anna"),
        (1, "Drie", "Bram"),
        (2, "Een cue zonder woorden.", "Anna"),
    ]


def test_fit_widens_to_the_turn_without_overlapping_neighbours() -> None:
    a = segment(0, words((0.5, 1.0, "a"), (2.0, 3.0, "b")), "Anna")
    b = segment(1, words((3.2, 3.6, "c")), "Anna")
    c = segment(2, words((5.0, 6.0, "d")), "Bram")
    fitted = fit_to_turns([a, b, c], TURNS, ["Anna", "Bram"])
    assert [(s.start, s.end) for s in fitted] == [(0.0, 3.2), (3.2, 4.0), (4.5, 8.0)]
    assert [s.words for s in fitted] == [a.words, b.words, c.words]  # words keep their times


def test_fit_moves_at_most_max_shift() -> None:
    seg = segment(0, words((5.0, 6.0, "d")), "Bram")
    (fitted,) = fit_to_turns([seg], [Turn(0.0, 20.0, 1)], ["Anna", "Bram"], max_shift=2.0)
    assert (fitted.start, fitted.end) == (3.0, 8.0)


def test_fit_leaves_a_segment_outside_its_speakers_turns() -> None:
    seg = segment(0, words((5.0, 6.0, "d")), "Anna")  # Bram speaks then
    assert fit_to_turns([seg], TURNS, ["Anna", "Bram"]) == [seg]


@pytest.mark.parametrize(
    ("names", "count", "kind", "expected"),
    [
        ((), None, "talk", 1),
        (("Anna",), None, "interview", None),  # an interview has two voices at least
        (("Anna", "Bram"), None, "talk", 2),
        ((), 3, "talk", 3),
        ((), None, "interview", None),
        ((), None, "panel", None),
        (("Anna", "Bram", "Cas"), 3, "panel", 3),
    ],
)
def test_speaker_count(
    names: tuple[str, ...], count: int | None, kind: str, expected: int | None
) -> None:
    assert speaker_count(names, count, kind) == expected


@pytest.mark.parametrize(
    ("names", "count", "message"),
    [
        (("Anna", "Bram"), 3, "past niet"),
        ((), 0, "tussen 1 en"),
        (("Anna", "Anna"), None, "één keer"),
    ],
)
def test_speaker_count_errors(names: tuple[str, ...], count: int | None, message: str) -> None:
    with pytest.raises(SpeakerError, match=message):
        speaker_count(names, count, "talk")
