"""Chapters a listener can use: length-aware starts (boundaries), titles of real Dutch words
(titles, phrases, lexicon_words), and both on an automatic transcript of an hour."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from pipeline.core.models import Chapter, Fragment, Segment, Tag, Transcript, Word
from pipeline.core.taxonomy import load_taxonomy
from pipeline.tagging.boundaries import (
    ChapterPolicy,
    Span,
    chapter_lengths,
    choose_starts,
    max_chapter_count,
    min_chapter_seconds,
    pauses,
    snap_gap,
)
from pipeline.tagging.lexicon_words import is_dutch_word, is_verb_form
from pipeline.tagging.phrases import phrases
from pipeline.tagging.segment import segment, titles_from_tags
from pipeline.tagging.titles import (
    ChapterText,
    TitleOptions,
    chapter_title,
    chapter_titles,
    is_bare_name,
)

DATA = Path(__file__).parent / "data"


def _spans(n: int, seconds: float = 10.0, pause: float = 0.0) -> list[Span]:
    return [Span(i * seconds, (i + 1) * seconds - pause, f"Zin {i}.") for i in range(n)]


@pytest.mark.parametrize(
    ("total", "shortest"),
    [(60.0, 30.0), (180.0, 33.541), (300.0, 43.301), (1200.0, 86.603), (3600.0, 150.0)],
)
def test_shortest_chapter_grows_with_the_recording(total: float, shortest: float) -> None:
    assert min_chapter_seconds(total) == pytest.approx(shortest, abs=1e-3)


@pytest.mark.parametrize(
    ("total", "count"), [(50.0, 1), (180.0, 4), (300.0, 5), (1200.0, 11), (3600.0, 20)]
)
def test_chapter_budget(total: float, count: int) -> None:
    assert max_chapter_count(total) == count


def test_short_talk_keeps_its_topic_shifts() -> None:
    # 3 minutes, 18 sentences of 10 s; clear dips after sentences 5 and 11
    spans = _spans(18)
    depths = [0.05] * 17
    depths[5], depths[11] = 0.9, 0.7
    assert choose_starts(depths, spans) == [0, 6, 12]


def test_a_talk_shorter_than_two_minimum_chapters_is_one_chapter() -> None:
    spans = _spans(5)  # 50 s
    assert choose_starts([0.0, 0.9, 0.0, 0.0], spans) == [0]


def test_starts_closer_than_the_minimum_are_skipped() -> None:
    spans = _spans(18)
    depths = [0.0] * 17
    depths[5], depths[6], depths[11] = 0.9, 0.8, 0.7  # 6 and 7 are 10 s apart
    assert choose_starts(depths, spans) == [0, 6, 12]


def test_an_hour_gets_at_most_twenty_chapters_of_minutes() -> None:
    spans = _spans(1200, 3.0)  # an hour of 3 s sentences
    depths = [((g * 7919) % 101) / 100 for g in range(1199)]  # dips everywhere
    starts = choose_starts(depths, spans)
    lengths = chapter_lengths(starts, spans)
    assert len(starts) <= 20
    assert min(lengths) >= 150.0
    assert statistics.median(lengths) >= 120.0


def test_no_depth_no_chapters() -> None:
    assert choose_starts([0.0] * 17, _spans(18)) == [0]


def test_snap_moves_a_start_to_the_long_pause_nearby() -> None:
    spans = [Span(i * 3.0, i * 3.0 + 2.6, f"Zin {i}.") for i in range(10)]
    spans[5] = Span(16.0, 18.6, "Zin 5.")  # 1.4 s of silence before sentence 5 (gap 4)
    depths = [0.1, 0.1, 0.1, 0.6, 0.5, 0.1, 0.1, 0.1, 0.1]
    assert pauses(spans)[4] == pytest.approx(1.4)
    assert snap_gap(3, depths, spans) == 4


def test_snap_keeps_the_start_when_the_pause_has_no_depth() -> None:
    spans = [Span(i * 3.0, i * 3.0 + 2.6, f"Zin {i}.") for i in range(10)]
    spans[5] = Span(16.0, 18.6, "Zin 5.")
    depths = [0.1, 0.1, 0.1, 0.6, 0.05, 0.1, 0.1, 0.1, 0.1]
    assert snap_gap(3, depths, spans) == 3


def test_snap_prefers_a_sentence_start_to_the_middle_of_a_sentence() -> None:
    spans = [
        Span(0.0, 2.0, "Dit is de eerste zin."),
        Span(2.0, 4.0, "En dit is de tweede,"),
        Span(4.0, 6.0, "die hier doorloopt."),
        Span(6.0, 8.0, "Nieuw onderwerp."),
    ]
    assert snap_gap(1, [0.1, 0.5, 0.45], spans) == 2


def test_depths_must_match_the_gaps() -> None:
    with pytest.raises(ValueError):
        choose_starts([0.1], _spans(5))


def test_policy_is_tunable() -> None:
    flat = ChapterPolicy(min_scale=0.0, budget_factor=0.01, max_chapters=100)
    spans = _spans(18)
    depths = [0.0] * 17
    depths[2], depths[5], depths[11] = 0.9, 0.8, 0.7
    assert choose_starts(depths, spans, flat) == [0, 3, 6, 12]


# --- titles ---------------------------------------------------------------------------------
FRIET = (
    "Elke vrijdag kwam de frietkar op het terrein.",
    "Bij de frietkar stond iedereen door elkaar, opdrachtgever en aannemer.",
    "Die frietkar op vrijdag werd een vast ritueel.",
    "Zo groeide de sociale binding in het team.",
)
RISICO = (
    "We hebben afgesproken dat we risico's en winst samen dragen.",
    "Een tegenvaller is van iedereen, een meevaller ook.",
    "Daarvoor is vooraf een verdeelsleutel gemaakt.",
    "Bij elke tegenvaller pakken we de verdeelsleutel erbij.",
)
DIJK = (
    "De kruinhoogte van de dijk gaat een halve meter omhoog.",
    "Aan de binnenkant komt een steunberm van klei.",
    "Voor de steunberm is veel klei nodig.",
    "Uit de sonderingen bleek dat de ondergrond zettingsgevoelig is.",
)
MISHEARD = (  # Whisper-style mishearings: "passisierspictuik", "stullen"
    "De passisierspictuik stond op het plein.",
    "Iedereen keek naar de passisierspictuik.",
    "Die passisierspictuik was van de gemeente en de stullen ook.",
    "De stullen stonden naast het oude stadhuis.",
)
NAMES = (
    "Jan Peters opende de vergadering.",
    "Jan Peters vertelde over Gorinchem.",
    "Daarna sprak Jan Peters over Gorinchem en Waardenburg.",
)
SMALL_TALK = ("Ja.", "Nee hoor.", "Oké, dank je wel.")


def test_titles_of_an_episode() -> None:
    chapters = [ChapterText(c) for c in (FRIET, RISICO, DIJK, MISHEARD, NAMES, SMALL_TALK)]
    assert chapter_titles(chapters) == [
        "De frietkar op vrijdag",
        "De verdeelsleutel en een tegenvaller",
        "Een steunberm van klei",
        "Het oude stadhuis",
        "Deel 5",
        "Deel 6",
    ]


@pytest.mark.parametrize("sentences", [FRIET, RISICO, DIJK, MISHEARD])
def test_titles_are_three_to_seven_real_dutch_words(sentences: tuple[str, ...]) -> None:
    title = chapter_title(sentences)
    words = title.split()
    assert 3 <= len(words) <= 7
    assert all(is_dutch_word(w.lower()) for w in words), title
    assert title[0].isupper() and title[1:] == title[1:].lower()


def test_a_misheard_word_never_makes_a_title() -> None:
    title = chapter_title(MISHEARD)
    assert "passisierspictuik" not in title.lower()
    assert "stullen" not in title.lower()


def test_a_misheard_word_is_no_dutch_word() -> None:
    misheard = ["passisierspictuik", "stullen", "linkskrijven", "spaatsjebalpjesje",
                "aandrijsenspelen"]  # fmt: skip
    real = ["frietkar", "steunberm", "passagiersvliegtuig", "sporttoernooi", "verdeelsleutel",
            "meevallers", "vergaderingen", "wij-zij", "vrijdag"]  # fmt: skip
    assert [w for w in misheard if is_dutch_word(w)] == []
    assert [w for w in real if not is_dutch_word(w)] == []


def test_a_word_heard_with_low_confidence_never_makes_a_title() -> None:
    heard = {"frietkar": 0.2}  # ASR probability per folded word
    title = chapter_title(FRIET, heard)
    assert "frietkar" not in title.lower()
    assert 3 <= len(title.split()) <= 7 or title.startswith("Deel")


def test_a_compound_missing_from_the_word_list_needs_a_clear_hearing() -> None:
    assert "frietkar" in chapter_title(FRIET, {"frietkar": 0.95}).lower()
    assert "frietkar" not in chapter_title(FRIET, {"frietkar": 0.6}).lower()


def test_a_bare_name_never_makes_a_title() -> None:
    title = chapter_title(NAMES)
    assert not is_bare_name(title)
    assert "Peters" not in title


@pytest.mark.parametrize(
    ("title", "bare"),
    [
        ("Jan Peters", True),
        ("Gorinchem", True),
        ("Gorinchem en Waardenburg", True),
        ("De schoonvader van Olaf", False),
        ("De frietkar op vrijdag", False),
        ("Vrijdag", False),
    ],
)
def test_is_bare_name(title: str, bare: bool) -> None:
    assert is_bare_name(title) is bare


def test_names_keep_their_capital() -> None:
    sentences = (
        "De schoonvader van Olaf kwam op bezoek.",
        "Zijn schoonvader had een lange baard.",
        "De schoonvader van Olaf bleef drie dagen.",
    )
    assert chapter_title(sentences) == "De schoonvader van Olaf"


def test_titles_are_all_different() -> None:
    titles = chapter_titles([ChapterText(DIJK), ChapterText(DIJK), ChapterText(DIJK)])
    assert len(set(titles)) == 3


def test_no_phrase_falls_back_to_the_ingredient_then_to_a_number() -> None:
    chapters = [
        ChapterText(SMALL_TALK, fallback=("Sociale binding",)),
        ChapterText(SMALL_TALK, fallback=("Sociale binding",)),
        ChapterText(SMALL_TALK, ingredients=("Sociale binding",)),  # evidence only: no fallback
    ]
    assert chapter_titles(chapters) == ["Sociale binding", "Deel 2", "Deel 3"]
    numbered = TitleOptions(fallback="Hoofdstuk {n}")
    assert chapter_titles([ChapterText(SMALL_TALK)], options=numbered) == ["Hoofdstuk 1"]


def test_the_ingredient_favours_its_own_words() -> None:
    sentences = (
        "Bij de eerste tegenvaller ging het mis met de planning.",
        "De verdeelsleutel voor risico's en winst hielp ons toen.",
        "Over de planning van de kade hebben we lang gepraat.",
    )
    plain = chapter_title(sentences)
    tagged = chapter_titles([ChapterText(sentences, ("Risico en winst delen",))])[0]
    assert "risico" not in plain.lower()
    assert "risico" in tagged.lower()


def test_demonstratives_become_articles() -> None:
    texts = [p.text for p in phrases("Die frietkar op vrijdag werd een vast ritueel.")]
    assert "de frietkar op vrijdag" in texts


def test_verbs_do_not_head_a_phrase() -> None:
    assert is_verb_form("kregen") and is_verb_form("werken") and is_verb_form("opgeslagen")
    assert not is_verb_form("partijen") and not is_verb_form("vrijdag")
    texts = [p.text for p in phrases("Om het vlot te trekken, nu trekken we samen op.")]
    assert texts == ["het vlot"]


# --- on a real automatic transcript -----------------------------------------------------------
def hour_transcript() -> Transcript:
    """An hour of real Dutch speech about something else (voice acting of a game), as the
    bundled Whisper model heard it; ``low`` = words heard with probability < 0.9."""
    lines = (DATA / "offtopic-hour-transcript.jsonl").read_text(encoding="utf-8").splitlines()
    head = json.loads(lines[0])
    segs = []
    for i, line in enumerate(lines[1:]):
        row = json.loads(line)
        words = tuple(Word(row["start"], row["end"], w, p) for w, p in row.get("low", ()))
        segs.append(Segment(i, row["start"], row["end"], row["text"], words))
    return Transcript("nl", tuple(segs), duration=head["duration"])


@pytest.fixture(scope="module")
def hour_chapters() -> list[Chapter]:
    return segment(hour_transcript(), load_taxonomy())[0]


def test_an_hour_gets_at_most_twenty_chapters_of_minutes_each(hour_chapters) -> None:
    lengths = [c.end - c.start for c in hour_chapters]
    assert 10 <= len(hour_chapters) <= 20
    assert statistics.median(lengths) >= 120.0


def test_titles_of_an_automatic_transcript_are_real_dutch_words(hour_chapters) -> None:
    titles = [c.title for c in hour_chapters]
    assert len(set(titles)) == len(titles)
    named = [t for t in titles if not t.startswith("Deel ")]
    assert len(named) >= len(titles) - 2, titles
    for title in named:
        words = title.split()
        assert 3 <= len(words) <= 7, title
        assert all(is_dutch_word(w.lower().strip("'")) or w[:1].isupper() for w in words), title
        assert not is_bare_name(title), title
    assert "De knop met de lange pijl" in titles  # the player's controls, the first minutes


def test_a_short_talk_may_have_one_chapter() -> None:
    texts = ["Goedemorgen allemaal.", "Welkom bij deze korte lezing over de dijk."] * 3
    segs = tuple(Segment(i, i * 8.0, (i + 1) * 8.0, t) for i, t in enumerate(texts))
    chapters, fragments = segment(Transcript("nl", segs, duration=48.0), load_taxonomy())
    assert len(chapters) == 1 and fragments


def test_a_chapter_without_a_title_is_named_after_its_strongest_ingredient() -> None:
    tax = load_taxonomy()
    chapters = [Chapter(0, 0, 60, "Deel 1"), Chapter(1, 60, 120, "Een steunberm van klei")]
    frags = [
        Fragment(0, 0, 30, "a", (Tag("sociale-binding", 0.6),), 0),
        Fragment(1, 30, 60, "b", (Tag("sociale-binding", 0.5), Tag("een-team", 0.7)), 0),
        Fragment(2, 60, 120, "c", (Tag("een-team", 0.9),), 1),
    ]
    named = titles_from_tags(chapters, frags, tax)
    assert [c.title for c in named] == ["Sociale binding", "Een steunberm van klei"]
