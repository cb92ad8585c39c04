"""Segmentation: sentences with times, fragments, chapters, Pk and WindowDiff."""

from __future__ import annotations

from pathlib import Path

from pipeline.core.models import Segment, Transcript, Word
from pipeline.core.taxonomy import load_taxonomy
from pipeline.evaluation.segmentation import (
    evaluate_segmentation,
    pk,
    read_segmentation_jsonl,
    window_diff,
)
from pipeline.tagging.segment import (
    SegmentOptions,
    Sentence,
    chapter_starts,
    chapter_summary,
    group_fragments,
    segment,
    sentences_of,
)

DATA = Path(__file__).parent / "data"

TEAM = [
    "Opdrachtgever en opdrachtnemer vormden samen één team, zonder wij-zij.",
    "Op het projectkantoor zat iedereen door elkaar, onder één dak.",
    "Dat teamgevoel groeide elke week een beetje meer.",
    "Na een jaar kon niemand meer zeggen wie van welke organisatie was.",
]
DIKE = [
    "De kruinhoogte van de dijk gaat een halve meter omhoog.",
    "Aan de binnenkant komt een steunberm van klei.",
    "Het asfalt op de kruin wordt in het voorjaar aangebracht.",
    "Uit de sonderingen bleek dat de ondergrond zettingsgevoelig is.",
]


def _transcript(texts: list[str], seconds: float = 12.0) -> Transcript:
    segs = tuple(Segment(i, i * seconds, (i + 1) * seconds, t) for i, t in enumerate(texts))
    return Transcript("nl", segs, duration=len(texts) * seconds)


def test_sentences_use_word_timings():
    words = (
        Word(0.0, 0.5, "Eerste"), Word(0.5, 1.0, "zin."),
        Word(2.0, 2.4, "Tweede"), Word(2.4, 3.0, "zin!"),
    )  # fmt: skip
    t = Transcript("nl", (Segment(0, 0.0, 3.0, "Eerste zin. Tweede zin!", words),))
    assert sentences_of(t) == [Sentence(0.0, 1.0, "Eerste zin."), Sentence(2.0, 3.0, "Tweede zin!")]


def test_sentences_without_words_split_by_length():
    t = Transcript("nl", (Segment(0, 10.0, 20.0, "Eerst. Tweede."),))
    assert sentences_of(t) == [Sentence(10.0, 14.615, "Eerst."), Sentence(14.615, 20.0, "Tweede.")]


def test_fragments_are_15_to_60_seconds_on_sentence_boundaries():
    sents = [Sentence(i * 10.0, i * 10.0 + 10.0, f"Zin {i}.") for i in range(10)]
    groups = group_fragments(sents, SegmentOptions())
    assert groups == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    for g in groups:
        assert 15 <= sents[g[-1]].end - sents[g[0]].start <= 60


def test_a_long_sentence_is_a_fragment_of_its_own():
    sents = [Sentence(0, 10, "Kort."), Sentence(10, 90, "Heel lang."), Sentence(90, 100, "Kort.")]
    assert group_fragments(sents) == [[0], [1], [2]]


def test_topic_shift_starts_a_chapter():
    tax = load_taxonomy()
    t = _transcript(TEAM + DIKE)
    sents = sentences_of(t)
    assert chapter_starts(sents, tax) == [0, 4]
    chapters, fragments = segment(t, tax)
    assert [(c.start, c.end) for c in chapters] == [(0.0, 48.0), (48.0, 96.0)]
    assert [f.chapter for f in fragments] == [0, 1]  # 36 s + a 12 s rest merge into one
    assert all(f.text.endswith(".") for f in fragments)
    assert chapters[0].title and chapters[1].title != chapters[0].title
    assert chapters[0].summary in " ".join(TEAM)


def test_short_talk_is_one_chapter():
    chapters, fragments = segment(_transcript(TEAM[:2], 5.0), load_taxonomy())
    assert len(chapters) == 1 and len(fragments) == 1
    assert fragments[0].start == 0.0 and fragments[0].end == 10.0


def test_moved_boundary():
    tax = load_taxonomy()
    chapters, fragments = segment(_transcript(TEAM + DIKE), tax, moves={1: 37.0})
    assert chapters[1].start == 36.0
    assert all(f.chapter == (0 if f.end <= 36.0 else 1) for f in fragments)


def test_summary_is_the_most_central_sentence():
    sents = [
        Sentence(0, 1, "Klei voor de berm."),
        Sentence(1, 2, "De dijk krijgt een berm van klei."),
        Sentence(2, 3, "De dijk is hoog."),
    ]
    assert chapter_summary(sents) == "De dijk krijgt een berm van klei."


def test_pk_and_window_diff():
    ref = [0, 0, 0, 0, 1, 1, 1, 1]
    assert pk(ref, ref) == 0.0 and window_diff(ref, ref) == 0.0
    assert pk(ref, [0] * 8, k=2) == 2 / 6
    assert window_diff(ref, [0, 0, 0, 1, 1, 1, 1, 1], k=2) == 2 / 6
    assert pk(ref, [0, 1, 2, 3, 4, 5, 6, 7], k=2) == 4 / 6


def test_segmentation_dev_set_meets_target():
    items = read_segmentation_jsonl((DATA / "segmentation-dev.jsonl").read_text().splitlines())
    result = evaluate_segmentation(items, load_taxonomy())
    assert result["items"] == len(items) >= 10
    assert result["pk"] <= 0.25
