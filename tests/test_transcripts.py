"""Transcript formats: writing, reading back, importing (incl. malformed files), human edits, WER.

No Whisper model here; the engines are tested in test_transcribe.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest

from pipeline import flows
from pipeline.catalogue import open_catalogue
from pipeline.core.episodes import save_episode
from pipeline.core.errors import TranscriptError
from pipeline.core.models import Episode, Segment, Transcript, Word
from pipeline.core.workspace import Workspace
from pipeline.evaluation.asr import edit_distance, normalise, number_words, word_error_rate
from pipeline.service.messages import process_lines
from pipeline.transcribe.formats.readers import (
    estimate_words,
    parse_srt,
    parse_transcript_file,
    parse_vtt,
)
from pipeline.transcribe.formats.sentences import split_sentences
from pipeline.transcribe.formats.writers import (
    to_html,
    to_podcast_json,
    to_srt,
    to_text,
    to_vtt,
)
from pipeline.transcribe.stage import import_transcript
from pipeline.transcribe.store import (
    edited_files,
    load_transcript,
    read_transcript_json,
    refresh_formats,
    write_transcript,
)

TEXT = (
    "Welkom bij de podcast over de dijkversterking tussen Gorinchem en Waardenburg. "
    "De alliantie deelde de risico's en werkte als één team, zonder wij-zij. "
    "Het waterschap Rivierenland was de opdrachtgever & de aannemer de opdrachtnemer. "
    "Natuurcompensatie op het Heuff-terrein was de aanleiding."
)


def _words(text: str, start: float, step: float = 0.3) -> tuple[Word, ...]:
    return tuple(
        Word(round(start + i * step, 3), round(start + (i + 1) * step, 3), w, 0.9)
        for i, w in enumerate(text.split())
    )


def sample_transcript(speaker: str | None = "Jan de Vries") -> Transcript:
    sentences = re.split(r"(?<=\.) ", TEXT)
    segments = []
    t = 0.0
    for i, sentence in enumerate(sentences):
        words = _words(sentence, t)
        segments.append(Segment(i, words[0].start, words[-1].end, sentence, words, speaker))
        t = words[-1].end + 0.5
    return Transcript(
        "nl", tuple(segments), "faster-whisper", "base", {"key": "k1"}, duration=t + 1
    )


def make_episode(ws: Workspace, slug: str = "lezing", speakers: tuple[str, ...] = ()) -> Episode:
    ep = Episode(
        slug=slug,
        title="Lezing",
        date=dt.date(2025, 3, 14),
        guid=f"guid-{slug}",
        speakers=speakers,
        audio_file=f"{slug}.mp3",
        duration=30.0,
    )
    save_episode(ws, ep)
    with open_catalogue(ws) as cat:
        cat.upsert_episode(ep)
    return ep


# --- writing ------------------------------------------------------------------------------------


def _cue_text_lines(vtt: str) -> list[list[str]]:
    blocks = vtt.strip().split("\n\n")[1:]
    return [[re.sub(r"<[^>]+>", "", line) for line in b.splitlines()[1:]] for b in blocks]


def test_vtt_cues_are_at_most_two_lines_of_42_characters() -> None:
    long_word = "Hoogwaterbeschermingsprogrammaprojectorganisatieleden"  # > 42 characters
    t = sample_transcript()
    extra = Segment(9, 40.0, 44.0, f"Dat is de {long_word} zeggen ze.", (), None)
    t = Transcript("nl", (*t.segments, extra), duration=45.0)
    vtt = to_vtt(t)
    assert vtt.startswith("WEBVTT\n")
    blocks = _cue_text_lines(vtt)
    assert len(blocks) >= 6
    for lines in blocks:
        assert 1 <= len(lines) <= 2
        assert all(len(line) <= 42 for line in lines), lines
    # nothing lost: the cue text is the transcript text
    joined = " ".join(" ".join(lines) for lines in blocks)
    assert joined.replace(" ", "") == t.text.replace(" ", "").replace("&", "&amp;")


def test_vtt_has_voice_tags_and_increasing_times() -> None:
    vtt = to_vtt(sample_transcript())
    assert "<v Jan de Vries>Welkom" in vtt
    assert "&amp;" in vtt  # escaped
    stamps = re.findall(r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})", vtt)
    flat = [s for pair in stamps for s in pair]
    assert flat == sorted(flat)
    assert "<v " not in to_vtt(sample_transcript(speaker=None))


def test_vtt_round_trip_keeps_text_and_speaker() -> None:
    t = sample_transcript()
    segments = parse_vtt(to_vtt(t))
    assert " ".join(s.text for s in segments) == t.text
    assert {s.speaker for s in segments} == {"Jan de Vries"}


def test_srt_round_trip() -> None:
    t = sample_transcript()
    srt = to_srt(t)
    assert srt.startswith("1\n00:00:00,000 --> ")
    assert " ".join(s.text for s in parse_srt(srt)) == t.text


def test_srt_cues_keep_to_the_spec_32_characters_and_two_lines() -> None:
    """The Podcasting 2.0 transcript spec: SRT cards of at most 2 lines of 32 characters."""
    long_word = "Hoogwaterbeschermingsprogrammaprojectorganisatieleden"
    t = sample_transcript()
    t = Transcript("nl", (*t.segments, Segment(9, 40.0, 44.0, f"De {long_word} ook.")), duration=45)
    blocks = [b.splitlines()[2:] for b in to_srt(t).strip().split("\n\n")]
    assert len(blocks) >= 8
    for lines in blocks:
        assert 1 <= len(lines) <= 2, lines
        assert all(len(line) <= 32 for line in lines), lines
    assert max(len(line) for lines in blocks for line in lines) > 28  # lines are filled
    # VTT keeps its longer lines (the spec recommends at most 65 there)
    assert max(len(line) for lines in _cue_text_lines(to_vtt(t)) for line in lines) > 32


def test_html_transcript_has_the_spec_form() -> None:
    """cite (the speaker, where it changes), time (the start) and p (the words), in a complete
    HTML document; user text escaped."""
    import lxml.html

    first = sample_transcript(speaker="Jan de Vries")
    second = Segment(9, 40.0, 47.5, "Ik ben Piet <b>en</b> ik reageer.", (), "Piet Bakker")
    later = Segment(10, 61.0, 75.0, "Na een pauze verder.", (), "Piet Bakker")
    t = Transcript("nl", (*first.segments, second, later), duration=80.0)
    page = to_html(t)
    assert page.startswith('<!doctype html>\n<html lang="nl">')
    body = lxml.html.fromstring(page).body
    assert [el.tag for el in body] == ["cite", "time", "p", "cite", "time", "p", "time", "p"]
    assert [c.text for c in body.iter("cite")] == ["Jan de Vries:", "Piet Bakker:"]
    times = [(el.text, el.get("datetime")) for el in body.iter("time")]
    assert times == [("0:00", "PT0S"), ("0:40", "PT40S"), ("1:01", "PT1M1S")]
    assert body.findall("p")[1].text == "Ik ben Piet <b>en</b> ik reageer."
    assert "&lt;b&gt;" in page


def test_podcast_json_format() -> None:
    data = json.loads(to_podcast_json(sample_transcript()))
    assert data["version"] == "1.0.0"
    first = data["segments"][0]
    assert set(first) == {"startTime", "endTime", "body", "speaker"}
    assert first["body"].startswith("Welkom")
    assert all(s["startTime"] <= s["endTime"] for s in data["segments"])


def test_text_has_paragraphs_with_speaker() -> None:
    text = to_text(sample_transcript())
    assert text.startswith("Jan de Vries: Welkom")
    assert text.endswith("aanleiding.\n")


def test_write_and_load_transcript(ws: Workspace) -> None:
    t = sample_transcript()
    paths = write_transcript(ws, "lezing", t)
    assert sorted(p.name for p in paths) == sorted(
        f"lezing.{ext}" for ext in ("json", "vtt", "srt", "txt", "podcast.json", "html")
    )
    loaded = load_transcript(ws, "lezing")
    assert loaded == t
    assert loaded.options["key"] == "k1"
    assert loaded.segments[0].words[0] == Word(0.0, 0.3, "Welkom", 0.9)
    assert edited_files(ws, "lezing") == []
    assert load_transcript(ws, "bestaat-niet") is None


def test_human_edit_of_vtt_is_detected_and_wins(ws: Workspace) -> None:
    write_transcript(ws, "lezing", sample_transcript())
    vtt = ws.transcript_path("lezing", "vtt")
    vtt.write_text(vtt.read_text(encoding="utf-8").replace("Welkom", "Hartelijk welkom"))
    assert edited_files(ws, "lezing") == ["vtt"]
    loaded = load_transcript(ws, "lezing")
    assert loaded is not None
    assert loaded.text.startswith("Hartelijk welkom bij de podcast")
    assert loaded.options["edited"] == "vtt"
    assert loaded.options["words_estimated"] is True


def test_formats_of_an_older_version_are_refreshed_unless_edited(ws: Workspace) -> None:
    """A workspace from before the HTML transcript and the 32-character SRT: the transcribe
    stage writes the formats again from the JSON, but never over a person's edit."""
    write_transcript(ws, "lezing", sample_transcript())
    html_path, srt = ws.transcript_path("lezing", "html"), ws.transcript_path("lezing", "srt")
    html_path.unlink()
    data = read_transcript_json(ws, "lezing")
    old_srt = "1\n00:00:00,000 --> 00:00:05,000\nWelkom bij de podcast over de dijkversterking\n"
    srt.write_text(old_srt, encoding="utf-8")
    data["written"]["srt"] = hashlib.sha256(old_srt.encode()).hexdigest()
    data["written"].pop("html")
    ws.transcript_path("lezing", "json").write_text(json.dumps(data), encoding="utf-8")
    assert edited_files(ws, "lezing") == []

    assert refresh_formats(ws, "lezing", read_transcript_json(ws, "lezing"))
    assert html_path.exists() and srt.read_text(encoding="utf-8") == to_srt(sample_transcript())
    assert edited_files(ws, "lezing") == []
    assert not refresh_formats(ws, "lezing", read_transcript_json(ws, "lezing"))  # up to date

    srt.write_text("1\n00:00:00,000 --> 00:00:05,000\nMet de hand\n", encoding="utf-8")
    html_path.unlink()
    assert not refresh_formats(ws, "lezing", read_transcript_json(ws, "lezing"))
    assert "Met de hand" in srt.read_text(encoding="utf-8") and not html_path.exists()


def test_human_edit_of_json_is_detected(ws: Workspace) -> None:
    write_transcript(ws, "lezing", sample_transcript())
    path = ws.transcript_path("lezing", "json")
    path.write_text(path.read_text(encoding="utf-8").replace("Welkom bij", "Welkom op"))
    assert edited_files(ws, "lezing") == ["json"]
    assert load_transcript(ws, "lezing").text.startswith("Welkom op")


def test_split_sentences_by_words() -> None:
    text = "Dit is een. Tweede zin hier? Derde"
    words = _words(text, 1.0)
    [a, b, c] = split_sentences([Segment(0, 1.0, 4.0, text, words)])
    assert (a.text, b.text, c.text) == ("Dit is een.", "Tweede zin hier?", "Derde")
    assert a.start == 1.0 and b.start == words[3].start and c.end == words[-1].end
    assert [s.id for s in (a, b, c)] == [0, 1, 2]


# --- import -----------------------------------------------------------------------------------

VTT = """\ufeffWEBVTT - geëxporteerd

NOTE dit is commentaar
over twee regels

STYLE
::cue { color: yellow }

1
00:01.000 --> 00:04.000 align:start
<v.spreker Anne Bakker>De alliantie is &amp; blijft

2
00:04.000 --> 00:06.500
<v Anne Bakker><i>een</i> vorm van samenwerken.

00:07.000 --> 00:09.000
<v Piet>Dat klopt<00:00:08.000> helemaal.
"""


def test_import_vtt(tmp_path: Path) -> None:
    path = tmp_path / "t.vtt"
    path.write_text(VTT, encoding="utf-8")
    t = parse_transcript_file(path)
    assert t.engine == "import"
    assert t.options["words_estimated"] is True
    assert [s.text for s in t.segments] == [
        "De alliantie is & blijft een vorm van samenwerken.",
        "Dat klopt helemaal.",
    ]
    assert [s.speaker for s in t.segments] == ["Anne Bakker", "Piet"]
    first = t.segments[0]
    assert (first.start, first.end) == (1.0, 6.5)
    # estimated words: in order, inside their cue, covering it
    words = first.words
    assert [w.text for w in words][:3] == ["De", "alliantie", "is"]
    assert words[0].start == 1.0 and abs(words[4].end - 4.0) < 1e-6
    assert all(a.end <= b.start + 1e-6 for a, b in zip(words, words[1:], strict=False))
    assert all(w.probability == 0.0 for w in words)


def test_import_srt(tmp_path: Path) -> None:
    path = tmp_path / "t.srt"
    path.write_text(
        "1\n00:00:01,000 --> 00:00:03,000\nHet <i>waterschap</i>\nRivierenland.\n\n"
        "2\n00:00:03,500 --> 00:00:05,000\nTwee.\n",
        encoding="utf-8",
    )
    t = parse_transcript_file(path)
    assert [s.text for s in t.segments] == ["Het waterschap Rivierenland.", "Twee."]
    assert t.segments[1].start == 3.5


def test_import_podcast_json_phrases_and_words(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_text(
        json.dumps(
            {
                "version": "1.0.0",
                "segments": [
                    {"speaker": "Anne", "startTime": 0.5, "endTime": 3.0, "body": "Eén team."},
                    {"startTime": 3.2, "endTime": 3.5, "body": "Dat"},
                    {"startTime": 3.5, "endTime": 3.9, "body": "werkte"},
                    {"startTime": 3.9, "endTime": 4.4, "body": "goed."},
                ],
            }
        ),
        encoding="utf-8",
    )
    t = parse_transcript_file(path)
    assert [s.text for s in t.segments] == ["Eén team.", "Dat werkte goed."]
    assert t.segments[1].speaker == "Anne"  # the speaker carries on until it changes
    assert [w.text for w in t.segments[1].words] == ["Dat", "werkte", "goed."]
    assert t.segments[1].words[1].start == 3.5  # word-level segments keep their timings


@pytest.mark.parametrize(
    ("name", "content", "line", "fragment"),
    [
        ("a.vtt", "00:00:01.000 --> 00:00:02.000\nHallo\n", 1, "WEBVTT"),
        (
            "a.vtt",
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHallo\n\n00:00:0x --> 1\nDag\n",
            6,
            "tijdcode",
        ),
        (
            "a.vtt",
            "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHallo\n00:00:03.000 --> 00:00:04.000\n",
            5,
            "lege regel",
        ),
        ("a.vtt", "WEBVTT\n\nHallo zonder tijd\n", 3, "geen tijdcode"),
        ("a.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:02.000\nTerug in de tijd\n", 3, "vóór"),
        (
            "a.srt",
            "1\n00:00:01,000 --> 00:00:02,000\nHallo\n\nx\n00:00:03,000 --> 00:00:04,000\n",
            5,
            "volgnummer",
        ),
        (
            "a.srt",
            "1\n00:00:01,000 --> 00:00:02,000\nHallo\n\n2\n00:00:03 --> 00:00:04,000\nDag\n",
            6,
            "tijdcode",
        ),
        (
            "a.json",
            '{\n "version": "1.0.0",\n "segments": [\n  {"startTime": 1, "endTime": 2 "body": "x"}\n ]\n}',
            4,
            "JSON",
        ),
        (
            "a.json",
            '{\n "version": "1.0.0",\n "segments": [\n  {"startTime": 1, "endTime": 2, "body": "a"},\n\n  {"startTime": 3, "endTime": 4}\n ]\n}',
            6,
            "body",
        ),
        (
            "a.json",
            '{"segments": [\n{"startTime": "1", "endTime": 2, "body": "a"}]}',
            2,
            "getallen",
        ),
        ("a.json", '{"version": "1.0.0"}', 1, "Podcasting"),
    ],
)
def test_malformed_transcripts_name_the_line(
    tmp_path: Path, name: str, content: str, line: int, fragment: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(TranscriptError) as info:
        flows.check_transcript_file(path)
    message = str(info.value)
    assert f"regel {line}:" in message, message
    assert fragment in message
    assert "\n" not in message


def test_unknown_format_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "t.docx"
    path.write_bytes(b"PK\x03\x04 binary")
    with pytest.raises(TranscriptError, match="onbekend transcriptformaat"):
        parse_transcript_file(path)
    with pytest.raises(TranscriptError, match="bestaat niet"):
        parse_transcript_file(tmp_path / "weg.vtt")


def test_estimate_words_spreads_over_cue() -> None:
    words = estimate_words("een twee drie", 2.0, 5.0)
    assert [w.text for w in words] == ["een", "twee", "drie"]
    assert words[0].start == 2.0 and abs(words[-1].end - 5.0) < 1e-6
    assert estimate_words("   ", 0, 1) == ()


def test_after_ingest_imports_and_keeps_human_edits(ws: Workspace, tmp_path: Path) -> None:
    make_episode(ws, speakers=("Anne Bakker",))
    vtt = tmp_path / "t.vtt"
    vtt.write_text(VTT, encoding="utf-8")
    lines = process_lines(flows.process(ws, "lezing", transcript_file=vtt))
    assert lines[0].startswith("Transcript geïmporteerd: 2 segmenten")
    # then tagging runs on it (pipeline.tag, written by the tagging stage)
    assert any(line.startswith("Getagd:") for line in lines[1:]), lines
    t = load_transcript(ws, "lezing")
    assert t is not None and t.engine == "import"
    assert t.segments[0].speaker == "Anne Bakker"
    with open_catalogue(ws) as cat:
        assert cat.stages("lezing")["transcribe"]["status"] == "done"
    # the same file again: nothing to do
    assert import_transcript(ws, "lezing", vtt).status == "cached"
    # a producer corrects the VTT; importing another file does not overwrite it ...
    out = ws.transcript_path("lezing", "vtt")
    out.write_text(out.read_text(encoding="utf-8").replace("blijft", "blijft altijd"))
    other = tmp_path / "ander.srt"
    other.write_text("1\n00:00:01,000 --> 00:00:02,000\nAnders.\n", encoding="utf-8")
    with pytest.raises(TranscriptError, match="met de hand bewerkt.*--force"):
        import_transcript(ws, "lezing", other)
    assert "blijft altijd" in out.read_text(encoding="utf-8")
    # ... unless forced
    import_transcript(ws, "lezing", other, force=True)
    assert load_transcript(ws, "lezing").text == "Anders."


def test_after_ingest_without_transcription_does_nothing(ws: Workspace) -> None:
    make_episode(ws)
    result = flows.process(ws, "lezing", transcribe_audio=False)
    assert result.transcript is None and result.tags is None
    assert process_lines(result) == []
    assert load_transcript(ws, "lezing") is None


# --- WER ------------------------------------------------------------------------------------------


def test_normalise_dutch() -> None:
    assert normalise("Eén team, risico's; Heuff-terrein!") == [
        "een",
        "team",
        "risicos",
        "heuff",
        "terrein",
    ]
    assert normalise("In 2025 kwam 25% op de 3e dag") == [
        "in",
        "tweeduizendvijfentwintig",
        "kwam",
        "vijfentwintig",
        "procent",
        "op",
        "de",
        "derde",
        "dag",
    ]
    assert normalise("1.500 mensen, 3,5 km") == [
        "duizendvijfhonderd",
        "mensen",
        "drie",
        "komma",
        "vijf",
        "km",
    ]
    assert number_words(0) == "nul" and number_words(99) == "negenennegentig"
    assert number_words(1_000_001) == "eenmiljoeneen"


def test_wer() -> None:
    assert word_error_rate("De kat zit op de mat.", "de kat zit op de mat").wer == 0.0
    r = word_error_rate("de kat zit op de mat", "de kat zat op mat nu")
    assert (r.errors, r.reference_words, r.wer) == (3, 6, 0.5)
    assert word_error_rate("", "").wer == 0.0
    assert edit_distance(list("kitten"), list("sitting")) == 3
    assert edit_distance([], ["a"]) == 1


# --- a person's transcript -------------------------------------------------------------------


def test_web_app_correction_is_saved_as_a_human_edit(ws: Workspace) -> None:
    from conftest import loaded_transcript_form

    from pipeline.core.errors import ProtectedTranscriptError
    from pipeline.service.webapp.editing import save_transcript
    from pipeline.transcribe.store import (
        human_source,
        protected_reason,
        read_transcript_json,
        save_corrected_transcript,
    )

    make_episode(ws)
    write_transcript(ws, "lezing", sample_transcript())
    assert human_source(read_transcript_json(ws, "lezing")) is None
    assert protected_reason(ws, "lezing") is None
    form = {
        **loaded_transcript_form(ws, "lezing"),
        "seg_0": "Welkom bij de podcast over Gorinchem.",
    }
    message = save_transcript(ws, "lezing", form)
    assert message.startswith("1 zin(nen) verbeterd")
    data = read_transcript_json(ws, "lezing")
    assert data["options"]["human_edited"] is True and data["engine"] == "faster-whisper"
    assert human_source(data) == "edited"
    assert edited_files(ws, "lezing") == []  # every format agrees with the JSON
    reason = protected_reason(ws, "lezing")
    assert reason is not None and "met de hand verbeterd" in reason
    assert "over Gorinchem." in ws.transcript_path("lezing", "vtt").read_text(encoding="utf-8")
    # a new import does not replace the correction without --force
    srt = ws.root / "ander.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:02,000\nAnders.\n", encoding="utf-8")
    with pytest.raises(ProtectedTranscriptError, match="met de hand verbeterd.*--force"):
        import_transcript(ws, "lezing", srt)
    assert load_transcript(ws, "lezing").segments[0].text.endswith("over Gorinchem.")
    # the API itself: an imported transcript that is corrected is an edit, not an import
    import_transcript(ws, "lezing", srt, force=True)
    assert human_source(read_transcript_json(ws, "lezing")) == "import"
    save_corrected_transcript(ws, "lezing", load_transcript(ws, "lezing"))
    assert human_source(read_transcript_json(ws, "lezing")) == "edited"


def test_a_new_import_replaces_an_untouched_import(ws: Workspace, tmp_path: Path) -> None:
    make_episode(ws)
    first, second = tmp_path / "a.srt", tmp_path / "b.srt"
    first.write_text("1\n00:00:01,000 --> 00:00:02,000\nEerste.\n", encoding="utf-8")
    second.write_text("1\n00:00:01,000 --> 00:00:02,000\nTweede.\n", encoding="utf-8")
    import_transcript(ws, "lezing", first)
    assert import_transcript(ws, "lezing", second).status == "imported"
    assert load_transcript(ws, "lezing").text == "Tweede."
