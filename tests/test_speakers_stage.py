"""Speakers in every output: `vlinder add` of a real two-voice dialogue, the producer's
corrections, bad input, and the pure corrections."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.catalogue import open_catalogue
from pipeline.cli import cli
from pipeline.core.errors import InputError
from pipeline.core.models import Segment, Transcript, Word
from pipeline.core.workspace import Workspace
from pipeline.evaluation.speakers import parse_segments_json, read_spans, score
from pipeline.speakers.overrides import apply_speaker_overrides, parse_speaker_overrides
from pipeline.transcribe.formats.readers import parse_vtt
from pipeline.transcribe.formats.writers import to_podcast_json, to_text, to_vtt
from pipeline.transcribe.store import load_transcript, transcript_data, transcript_from_data


def run(runner: CliRunner, ws: Workspace, *args: str):
    return runner.invoke(cli, ["-w", str(ws.root), *args])


def _seg(i: int, start: float, end: float, text: str, speaker: str | None) -> Segment:
    words = tuple(
        Word(round(start + k * 0.4, 3), round(start + k * 0.4 + 0.3, 3), w, 0.9, speaker)
        for k, w in enumerate(text.split())
    )
    return Segment(i, start, end, text, words, speaker)


SEGMENTS = [
    _seg(0, 0.0, 2.0, "Hoe begon het?", "Anna"),
    _seg(1, 2.5, 5.0, "Met een frietkar.", "Bram"),
    _seg(2, 5.0, 7.0, "Elke vrijdag.", "Bram"),
    _seg(3, 7.5, 9.0, "Mooi zo.", "Anna"),
]


# --- corrections (pure) ---------------------------------------------------------------------
def test_rename_swap_and_reassign_a_turn() -> None:
    raw = {
        "speaker_overrides": [
            {"rename": "Bram", "to": "Bram de Vries"},
            {"swap": ["Anna", "Bram de Vries"]},
            {"at": "0:06", "speaker": "Cees"},
        ]
    }
    corrections = parse_speaker_overrides(raw)
    out = apply_speaker_overrides(SEGMENTS, corrections)
    # renamed, then swapped; the turn at 0:06 (Bram's two segments) reassigned to Cees
    assert [s.speaker for s in out] == ["Bram de Vries", "Cees", "Cees", "Bram de Vries"]
    assert {w.speaker for w in out[1].words} == {"Cees"}  # the words follow their segment
    assert apply_speaker_overrides(SEGMENTS, []) == SEGMENTS


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"speaker_overrides": [{"rename": "A"}]}, "'to' moet een naam"),
        ({"speaker_overrides": [{"swap": ["A"]}]}, "twee namen"),
        ({"speaker_overrides": [{"at": "lang", "speaker": "A"}]}, "ongeldige tijd"),
        ({"speaker_overrides": [{"rename": "A", "to": "<b>B</b>"}]}, "< of >"),
        ({"speaker_overrides": [{"iets": 1}]}, "geef 'rename'"),
        ({"speaker_overrides": {"rename": "A"}}, "lijst van tabellen"),
    ],
)
def test_bad_corrections_get_one_clear_line(raw: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_speaker_overrides(raw, "episode.toml")


# --- every output format carries the names --------------------------------------------------
def test_every_format_carries_the_speakers() -> None:
    transcript = Transcript(language="nl", segments=tuple(SEGMENTS), duration=9.0)
    vtt = to_vtt(transcript)
    assert "<v Anna>Hoe begon het?" in vtt and "<v Bram>Met een frietkar." in vtt
    assert [s.speaker for s in parse_vtt(vtt)] == ["Anna", "Bram", "Bram", "Anna"]
    text = to_text(transcript)
    assert text.startswith("Anna: Hoe begon het?")
    assert "\n\nBram: Met een frietkar." in text and "\n\nAnna: Mooi zo." in text
    podcast = json.loads(to_podcast_json(transcript))
    assert [s["speaker"] for s in podcast["segments"]] == ["Anna", "Bram", "Bram", "Anna"]
    data = json.loads(json.dumps(transcript_data(transcript)))
    assert data["segments"][1]["words"][0]["speaker"] == "Bram"  # per word too
    assert transcript_from_data(data).segments == transcript.segments


# --- bad input at `vlinder add` ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speakers", "0"], "tussen 1 en 10"),
        (["--speakers", "3", "--speaker", "Anna", "--speaker", "Bram"], "past niet bij"),
        (["--speaker", "<b>Anna</b>", "--speaker", "Bram"], "< of >"),
        (["--speaker", "Anna", "--speaker", "anna"], "één keer"),
    ],
)
def test_bad_speaker_options_one_line_nothing_written(
    runner: CliRunner, ws: Workspace, speech_wav: Path, args: list[str], message: str
) -> None:
    result = run(runner, ws, "add", str(speech_wav), "--no-transcribe", *args)
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not any(ws.episodes_dir.iterdir())


# --- a real dialogue through `vlinder add` ----------------------------------------------------
@pytest.fixture(scope="module")
def added(
    dialogue: Path, fw_model: object, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Workspace, str, str]:
    """The dialogue added as an interview with two names (real Whisper, real diarization)."""
    from pipeline.flows import init

    ws = init(tmp_path_factory.mktemp("ws"))
    names = [json.loads(line)["speaker"] for line in (dialogue / "dialogue.jsonl").open()]
    first, second = names[0], next(n for n in names if n != names[0])
    result = CliRunner().invoke(
        cli,
        ["-w", str(ws.root), "add", str(dialogue / "dialogue.wav"), "--title", "Gesprek"]
        + ["--kind", "interview", "--speaker", first.title(), "--speaker", second.title()],
    )
    assert result.exit_code == 0, result.output
    return ws, result.stdout, "gesprek"


@pytest.mark.slow
def test_add_finds_who_speaks_when(added: tuple[Workspace, str, str], dialogue: Path) -> None:
    ws, out, slug = added
    assert "Sprekers: 2 (opgegeven)" in out
    transcript = load_transcript(ws, slug)
    assert transcript is not None
    assert all(s.speaker for s in transcript.segments)
    assert all(w.speaker == s.speaker for s in transcript.segments for w in s.words)
    hyp = parse_segments_json(ws.transcript_path(slug, "podcast.json").read_text("utf-8"))
    truth = read_spans(dialogue / "dialogue.rttm")
    result = score(truth, hyp)
    assert result.accuracy > 0.9, result  # the speech each name gets is that person's
    assert result.mapping == {h: h.lower() for h in result.mapping}  # first heard, first name
    srt = ws.transcript_path(slug, "srt").read_text("utf-8")
    assert any(f"{name}:" in srt for name in result.mapping)
    with open_catalogue(ws) as cat:
        assert cat.stages(slug)["diarize"]["status"] == "done"


@pytest.mark.slow
def test_search_by_speaker_finds_their_fragments(added: tuple[Workspace, str, str]) -> None:
    ws, _, slug = added
    runner = CliRunner()
    fragments = json.loads(ws.transcript_path(slug, "tags.json").read_text("utf-8"))["fragments"]
    names = {t["speaker"] for f in fragments for t in f.get("turns", [])}
    assert len(names) == 2
    for name in names:
        found = run(runner, ws, "search", "--speaker", name, "--limit", "100", "--json")
        assert found.exit_code == 0, found.output
        hits = json.loads(found.stdout)["hits"]
        theirs = [f for f in fragments if name in {t["speaker"] for t in f.get("turns", [])}]
        assert len(hits) == len(theirs) < len(fragments) or len(theirs) == len(fragments)
        assert all(name in h["speakers"] for h in hits)


@pytest.mark.slow
def test_corrections_survive_a_rerun(added: tuple[Workspace, str, str]) -> None:
    ws, _, slug = added
    runner = CliRunner()
    before = load_transcript(ws, slug)
    assert before is not None
    first = before.segments[0].speaker
    toml = ws.episode_file(slug)
    toml.write_text(
        toml.read_text("utf-8")
        + f'\n[[speaker_overrides]]\nrename = "{first}"\nto = "Dijkgraaf Jansen"\n',
        encoding="utf-8",
    )
    assert run(runner, ws, "diarize", slug).exit_code == 0
    renamed = load_transcript(ws, slug)
    assert renamed is not None and renamed.segments[0].speaker == "Dijkgraaf Jansen"
    assert first not in {s.speaker for s in renamed.segments}
    # transcribing again (a new transcript) and the stages after it keep the correction
    assert run(runner, ws, "transcribe", slug, "--force").exit_code == 0
    assert run(runner, ws, "diarize", slug).exit_code == 0
    again = load_transcript(ws, slug)
    assert again is not None and again.segments[0].speaker == "Dijkgraaf Jansen"
    assert "<v Dijkgraaf Jansen>" in ws.transcript_path(slug, "vtt").read_text("utf-8")
    found = run(runner, ws, "search", "--speaker", "Dijkgraaf", "--json")
    assert json.loads(found.stdout)["hits"]


@pytest.mark.slow
def test_the_site_shows_who_says_what(added: tuple[Workspace, str, str]) -> None:
    ws, _, slug = added
    from pipeline.flows import build

    build(ws)
    html = (ws.site_dir / "afleveringen" / slug / "index.html").read_text("utf-8")
    transcript = load_transcript(ws, slug)
    assert transcript is not None
    names = {s.speaker for s in transcript.segments}
    for name in names:  # every turn is a paragraph that starts with its speaker's name
        assert 'data-start="' in html and f">{name}</a>" in html
    turns = html.count('<p class="beurt">')
    changes = 1 + sum(
        1
        for a, b in zip(transcript.segments, transcript.segments[1:], strict=False)
        if a.speaker != b.speaker
    )
    assert turns >= changes  # at least one paragraph per turn (more where fragments cut one)


@pytest.mark.slow
def test_producer_corrects_speakers_in_the_web_app(added: tuple[Workspace, str, str]) -> None:
    """Rename, swap and reassign in the producer app: stored as [[speaker_overrides]], applied
    to the transcript and its fragments, listed on the page and undone from there."""
    from starlette.testclient import TestClient
    from test_webapp import P, login, make_app

    ws, _, slug = added
    transcript = load_transcript(ws, slug)
    assert transcript is not None
    names = list(dict.fromkeys(s.speaker for s in transcript.segments if s.speaker))
    assert len(names) == 2
    url = f"{P}/afleveringen/{slug}/sprekers"

    def speakers() -> list[str | None]:
        t = load_transcript(ws, slug)
        assert t is not None
        return [s.speaker for s in t.segments]

    before = speakers()
    with TestClient(make_app(ws)) as client:
        csrf = login(client, ws)
        page = client.get(f"{P}/afleveringen/{slug}")
        assert page.status_code == 200 and 'id="sprekers"' in page.text
        assert all(f"<td>{n}</td>" in page.text for n in names)
        # rename the second speaker for the whole episode
        r = client.post(
            url, data={"csrf": csrf, "actie": "hernoem", "van": names[1], "naar": "Bram Web"}
        )
        assert r.status_code in (200, 303), r.text
        assert speakers() == [("Bram Web" if s == names[1] else s) for s in before]
        tags = json.loads(ws.transcript_path(slug, "tags.json").read_text("utf-8"))
        assert "Bram Web" in {t["speaker"] for f in tags["fragments"] for t in f["turns"]}
        assert "Bram Web" in ws.episode_file(slug).read_text("utf-8")  # survives re-runs
        # one turn to the other speaker: only that turn changes
        first_turn_end = next(i for i, s in enumerate(before) if s != before[0])
        renamed = speakers()
        r = client.post(
            url, data={"csrf": csrf, "actie": "beurt", "op": "0:00", "spreker": "Bram Web"}
        )
        now = speakers()
        assert now[:first_turn_end] == ["Bram Web"] * first_turn_end
        assert now[first_turn_end:] == renamed[first_turn_end:]
        # a bad time: one clear line, nothing written
        toml = ws.episode_file(slug).read_text("utf-8")
        r = client.post(
            url,
            data={"csrf": csrf, "actie": "beurt", "op": "later", "spreker": "X"},
            follow_redirects=True,
        )
        assert "later" in r.text and ws.episode_file(slug).read_text("utf-8") == toml
        # the page lists both corrections; undoing them restores the speakers
        page = client.get(f"{P}/afleveringen/{slug}")
        assert page.text.count('name="actie" value="herstel"') >= 2
        import re

        # undoing by a stale position is refused (409), nothing undone
        r = client.post(url, data={"csrf": csrf, "actie": "herstel", "nr": "1", "wat": "oud"})
        assert r.status_code == 409
        for _ in range(2):
            undo = re.findall(
                r'name="nr" value="(\d+)"><input type="hidden" name="wat" value="([^"]*)"',
                page.text,
            )
            nr, wat = undo[-1]
            client.post(
                url,
                data={"csrf": csrf, "actie": "herstel", "nr": nr, "wat": html.unescape(wat)},
            )
            page = client.get(f"{P}/afleveringen/{slug}")
        assert speakers() == before
