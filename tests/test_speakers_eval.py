"""DER and speaker-attributed accuracy: readers, collar, name mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.evaluation.speakers import (
    ScoreError,
    Span,
    parse_jsonl,
    parse_rttm,
    parse_segments_json,
    read_spans,
    score,
    to_rttm,
)

TRUTH = [Span(0.0, 4.0, "small"), Span(4.5, 9.0, "big"), Span(9.5, 12.0, "small")]


def test_perfect_hypothesis_with_other_names() -> None:
    hyp = [Span(s.start, s.end, {"small": "A", "big": "B"}[s.speaker]) for s in TRUTH]
    result = score(TRUTH, hyp)
    assert result.der == 0.0 and result.accuracy == 1.0
    assert result.mapping == {"A": "small", "B": "big"}


def test_swapped_turn_is_confusion() -> None:
    hyp = [Span(0.0, 4.0, "A"), Span(4.5, 9.0, "A"), Span(9.5, 12.0, "A")]
    result = score(TRUTH, hyp)
    assert result.confusion == pytest.approx(4.5 - 0.5, abs=0.02)  # big's turn, less collars
    assert result.accuracy == pytest.approx(1 - result.confusion / result.scored)


def test_missed_and_false_alarm() -> None:
    hyp = [Span(0.0, 4.0, "A"), Span(13.0, 15.0, "A")]  # big and the last turn missed
    result = score(TRUTH, hyp)
    assert result.missed == pytest.approx((4.5 - 0.5) + (2.5 - 0.5), abs=0.02)
    assert result.false_alarm == pytest.approx(2.0, abs=0.02)
    assert result.accuracy == pytest.approx((4.0 - 0.5) / result.scored, abs=1e-3)


def test_collar_forgives_boundary_errors() -> None:
    hyp = [Span(0.2, 4.2, "A"), Span(4.2, 9.2, "B"), Span(9.2, 12.0, "A")]
    assert score(TRUTH, hyp).der == 0.0
    assert score(TRUTH, hyp, collar=0.0).der > 0.0


def test_covered_only_scores_what_the_hypothesis_has() -> None:
    hyp = [Span(0.0, 4.0, "A")]
    assert score(TRUTH, hyp, covered_only=True).accuracy == 1.0
    assert score(TRUTH, hyp).accuracy < 0.5


def test_extra_hypothesis_speaker_stays_unmatched() -> None:
    hyp = [Span(0.0, 4.0, "A"), Span(4.5, 9.0, "B"), Span(9.5, 12.0, "C")]
    result = score(TRUTH, hyp)
    assert result.confusion == pytest.approx(2.0, abs=0.02)
    assert len(result.mapping) == 2


def test_readers(tmp_path: Path) -> None:
    rttm = to_rttm(TRUTH, "dialogue")
    assert parse_rttm(rttm) == TRUTH
    jsonl = "\n".join(
        json.dumps({"start": s.start, "end": s.end, "speaker": s.speaker}) for s in TRUTH
    )
    assert parse_jsonl(jsonl) == TRUTH
    podcast = {
        "segments": [
            {"startTime": 0.0, "endTime": 4.0, "body": "x", "speaker": "small"},
            {"startTime": 4.0, "endTime": 5.0, "body": "geen spreker"},
        ]
    }
    assert parse_segments_json(json.dumps(podcast)) == [Span(0.0, 4.0, "small")]
    vlinder = {"segments": [{"id": 0, "start": 1.0, "end": 2.0, "text": "x", "speaker": "big"}]}
    assert parse_segments_json(json.dumps(vlinder)) == [Span(1.0, 2.0, "big")]
    for name, text in (("t.rttm", rttm), ("t.jsonl", jsonl), ("t.json", json.dumps(podcast))):
        (tmp_path / name).write_text(text)
        assert read_spans(tmp_path / name)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("t.rttm", "SPEAKER x 1 zero 1.0 <NA> <NA> a <NA> <NA>", "RTTM-regel 1"),
        ("t.jsonl", '{"start": 0, "end": 1, "speaker": "a"}\n{nope', "JSONL-regel 2"),
        ("t.json", '{"items": []}', "segments"),
        ("t.txt", "", "onbekend formaat"),
    ],
)
def test_reader_errors_in_dutch(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(ScoreError, match=message):
        read_spans(tmp_path / name)
