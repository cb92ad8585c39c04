"""Tagging: the pure tagger, overrides, the stage with its cache key, the eval commands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pipeline.catalogue import open_catalogue
from pipeline.cli import cli
from pipeline.core.episodes import save_episode, update_episode
from pipeline.core.errors import InputError, NotFoundError
from pipeline.core.models import Episode, Fragment, Segment, Tag, Transcript
from pipeline.core.taxonomy import load_taxonomy
from pipeline.evaluation.tagging import evaluate_tagging, read_tagging_jsonl
from pipeline.flows import tag
from pipeline.tagging.lexicon import sum_tags, tag_fragments, tag_text
from pipeline.tagging.overrides import Overrides, apply_overrides, parse_overrides
from pipeline.tagging.store import load_fragments
from pipeline.transcribe.store import write_transcript

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "eval" / "tagging-dev.jsonl"
EXTRA = Path(__file__).parent / "data" / "tagging-extra.jsonl"
EXTRA2 = Path(__file__).parent / "data" / "tagging-extra2.jsonl"
OFFTOPIC = [
    Path(__file__).parent / "data" / n for n in ("offtopic-extra.jsonl", "distractors.jsonl")
]


@pytest.fixture(scope="module")
def tax():
    return load_taxonomy()


def ids(tags):
    return [t.ingredient for t in tags]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Elke vrijdag stond er een frietkar, en in juni was er een voetbaltoernooi.",
            ["sociale-binding"],
        ),
        (
            "We hebben de risico's gedeeld: winst en verlies droegen we samen.",
            ["risico-en-winst-delen"],
        ),
        ("Het was echt één team, er was geen wij-zij meer.", ["een-team"]),
        ("De bestuurders toonden lef en zeiden: we gaan het gewoon doen.", ["bestuurlijk-lef"]),
        ("De kruinhoogte gaat omhoog en aan de binnenkant komt een steunberm van klei.", []),
        ("Goedemorgen allemaal, de koffie staat achterin en om half een is er lunch.", []),
    ],
)
def test_tag_text(tax, text, expected):
    assert ids(tag_text(text, tax)) == expected


def test_tags_carry_score_and_evidence(tax):
    (tag,) = tag_text("Onze leergroepen kwamen elke maand bij elkaar.", tax)
    assert tag.ingredient == "leren-tijdens-project"
    assert tag.score == 0.5 and tag.evidence == ("leergroep*",) and tag.source == "auto"
    (strong,) = tag_text("Symposia, podcasts en publicaties: zo deelden we onze kennis.", tax)
    assert strong.ingredient == "kennis-actief-delen" and strong.score > 0.9
    assert "symposia" in strong.evidence


def test_diacritics_and_compounds(tax):
    assert ids(tag_text("Eén mond naar de omgeving", tax)) == ["met-een-mond"]
    assert ids(tag_text("Het jaarlijkse sporttoernooi", tax)) == ["sociale-binding"]


def test_tag_fragments_keeps_manual_tags(tax):
    manual = Tag("aanleiding", 1.0, ("handmatig toegevoegd",), "manual")
    frags = [
        Fragment(0, 0, 20, "Er stond een frietkar.", (manual,)),
        Fragment(1, 20, 40, "De dijk."),
    ]
    out = tag_fragments(frags, tax)
    assert ids(out[0].tags) == ["aanleiding", "sociale-binding"]
    assert out[1].tags == ()


def test_sum_tags():
    a = (Tag("x", 0.5, ("p",)), Tag("y", 0.75))
    b = (Tag("x", 0.75, ("q",)),)
    assert sum_tags([a, b]) == (Tag("x", 1.25, ("p", "q")), Tag("y", 0.75))


@pytest.mark.parametrize(
    "text",
    [
        # generic words that are phrases only in another sense: hints now, one alone never tags
        "De omgevingsvergunning is gepubliceerd in de Staatscourant.",
        "Het ontwerpbesluit ligt zes weken ter inzage op het gemeentehuis.",
        "Een dijkversterking bestaat uit een verkenning, een planuitwerking en de realisatie.",
        "In principe is de weg vanaf maandag weer open.",
        "In het kader van de nieuwe wet moeten we een omgevingsplan maken.",
        "Het conflict in de planning tussen de twee aannemers is opgelost.",
        # a single word next to housekeeping or small talk (a strict context)
        "Na afloop is er een borrel in de foyer, iedereen is welkom.",
        "Je hebt wel lef om in deze kou zonder jas naar buiten te gaan.",
        # words already counted do not count again ("kennen" inside "elkaar kennen")
        "We kennen elkaar nog niet, dus ik stel me even voor.",
    ],
)
def test_generic_words_do_not_tag(tax, text):
    assert ids(tag_text(text, tax)) == []


def test_one_word_next_to_engineering_still_tags(tax):
    """Engineering and planning are not strict: a talk on a dike project mixes them in."""
    text = "Na de oplevering van elk deelgebied hielden we een barbecue op de dijk."
    assert ids(tag_text(text, tax)) == ["sociale-binding"]


def test_strict_context_must_be_boolean():
    from pipeline.core.errors import TaxonomyError
    from pipeline.core.taxonomy import parse_taxonomy

    base = (
        '[[vlinders]]\nid = "v"\ntitle = "V"\n[[ingredients]]\nid = "i"\nvlinder = "v"\n'
        'title = "I"\nphrases = ["a"]\n[[contexts]]\nid = "c"\ntitle = "C"\nphrases = ["b"]\n'
    )
    assert parse_taxonomy(base + "strict = true\n").contexts[0].strict
    with pytest.raises(TaxonomyError, match="'strict' moet true of false"):
        parse_taxonomy(base + 'strict = "ja"\n')


def test_off_topic_lines_stay_untagged(tax):
    """Our own off-topic sets (engineering, permits, procurement, weather, traffic,
    housekeeping, small talk with trap words): at most 2% of the lines get a tag."""
    items = [it for path in OFFTOPIC for it in read_tagging_jsonl(path.read_text().splitlines())]
    assert len(items) > 500 and not any(it.gold for it in items)
    tagged = [it.id for it in items if tag_text(it.text, tax)]
    assert len(tagged) / len(items) <= 0.02, tagged


def test_dev_and_extra_sets_meet_targets(tax):
    for path in (DEV, EXTRA, EXTRA2):
        if not path.exists():
            continue
        result = evaluate_tagging(read_tagging_jsonl(path.read_text().splitlines()), tax)
        assert result["micro"]["f1"] >= 0.80 and result["micro"]["precision"] >= 0.80, path


def test_bad_eval_line_is_named():
    with pytest.raises(InputError, match="regel 2"):
        read_tagging_jsonl(['{"text": "a", "ingredients": []}', "{kapot"], "x.jsonl")


# --- overrides --------------------------------------------------------------------------------
def test_parse_overrides_validates(tax):
    ov = parse_overrides(
        {
            "chapter_overrides": [{"chapter": 2, "title": "Nieuw", "start": "1:05"}],
            "tag_overrides": [
                {"at": 30, "add": ["aanleiding"]},
                {"chapter": 1, "remove": ["een-team"]},
            ],
        },
        tax,
    )
    assert ov.renames == {1: ("Nieuw", None)} and ov.moves == {1: 65.0}
    assert ov.fragment_tags == ((30.0, ("aanleiding",), ()),)
    assert ov.chapter_tags == ((0, (), ("een-team",)),)
    with pytest.raises(InputError, match="onbekend ingrediënt 'moed'"):
        parse_overrides({"tag_overrides": [{"at": 1, "add": ["moed"]}]}, tax)
    with pytest.raises(InputError, match="ongeldige tijd"):
        parse_overrides({"tag_overrides": [{"at": "gisteren", "add": []}]}, tax)
    with pytest.raises(InputError, match="hoofdstuknummer"):
        parse_overrides({"chapter_overrides": [{"chapter": 0, "title": "x"}]}, tax)


def test_apply_overrides():
    from pipeline.core.models import Chapter

    chapters = [Chapter(0, 0, 40, "A"), Chapter(1, 40, 80, "B")]
    frags = [
        Fragment(0, 0, 40, "a", (Tag("een-team", 0.5),), 0),
        Fragment(1, 40, 80, "b", (Tag("een-team", 0.5), Tag("aanleiding", 0.75)), 1),
    ]
    ov = Overrides(
        {1: ("Hernoemd", "Kort.")},
        {},
        ((10.0, ("bestuurlijk-lef",), ("een-team",)),),
        ((1, ("sociale-binding",), ("een-team",)),),
    )
    chs, fs = apply_overrides(chapters, frags, ov)
    assert ids(fs[0].tags) == ["bestuurlijk-lef"] and fs[0].tags[0].source == "manual"
    assert ids(fs[1].tags) == ["aanleiding"]
    assert chs[1].title == "Hernoemd" and chs[1].summary == "Kort."
    assert ids(chs[0].tags) == ["bestuurlijk-lef"]
    assert sorted(ids(chs[1].tags)) == ["aanleiding", "sociale-binding"]


# --- the stage --------------------------------------------------------------------------------
TALK = [
    "Goedemorgen allemaal en welkom op dit symposium over de dijkversterking.",
    "Opdrachtgever en opdrachtnemer vormden vanaf het begin één team, zonder wij-zij.",
    "We zaten samen onder één dak op het projectkantoor.",
    "Elke vrijdag stond er een frietkar en er was een jaarlijks sporttoernooi.",
    "De kruinhoogte van de dijk gaat een halve meter omhoog.",
    "Aan de binnenkant komt een steunberm van klei.",
    "Het asfalt op de kruin wordt in het voorjaar aangebracht.",
    "Uit de sonderingen bleek dat de ondergrond zettingsgevoelig is.",
]


def _episode(ws, slug="lezing") -> None:
    ep = Episode(slug=slug, title="Lezing", date=dt.date(2025, 3, 14), guid="urn:x:1")
    save_episode(ws, ep)
    segs = tuple(Segment(i, i * 12.0, (i + 1) * 12.0, t) for i, t in enumerate(TALK))
    write_transcript(ws, slug, Transcript("nl", segs, duration=96.0))


def test_tag_episode_writes_file_and_catalogue(ws):
    _episode(ws)
    result = tag(ws, "lezing")
    chapters, fragments = list(result.chapters), list(result.fragments)
    assert len(chapters) == 2 and fragments
    assert any("een-team" in ids(f.tags) for f in fragments)
    assert "een-team" in ids(chapters[0].tags) and chapters[1].tags == ()
    data = json.loads(ws.transcript_path("lezing", "tags.json").read_text())
    assert data["cache_key"].count(":") == 3 and data["episode_tags"]
    assert load_fragments(ws, "lezing") == (chapters, fragments)
    with open_catalogue(ws) as cat:
        assert cat.stages("lezing")["tag"]["key"] == data["cache_key"]
        rows = cat.query(
            "SELECT ingredient FROM fragment_tags JOIN fragments ON fragments.id = fragment_id"
        )
        assert "een-team" in {r[0] for r in rows}
        assert len(cat.query("SELECT * FROM chapters WHERE slug = 'lezing'")) == 2


def test_unchanged_episode_is_not_retagged_but_taxonomy_change_is(ws):
    _episode(ws)
    tag(ws, "lezing")
    path = ws.transcript_path("lezing", "tags.json")
    key = json.loads(path.read_text())["cache_key"]
    path.write_text(path.read_text().replace('"method"', '"method_note": 1, "method"'))
    tag(ws, "lezing")
    assert '"method_note"' in path.read_text()  # cached: file untouched
    text = ws.taxonomy_path.read_text().replace('"frietkar*",', '"frietkar*", "kroket*",')
    ws.taxonomy_path.write_text(text)
    tag(ws, "lezing")
    new = json.loads(path.read_text())
    assert new["cache_key"] != key and "method_note" not in new
    assert new["cache_key"].split(":")[0] == key.split(":")[0]  # same transcript


def test_method_change_retags_every_episode_and_nothing_else(ws, monkeypatch):
    """The method version is part of the cache key: after a method change every episode is
    re-tagged once; without a change nothing is."""
    from pipeline.tagging import semantic

    slugs = ("een", "twee")
    for slug in slugs:
        _episode(ws, slug)
    keys = {s: tag(ws, s).key for s in slugs}
    assert all(semantic.method_version() in k for k in keys.values())
    assert all(tag(ws, s).cached for s in slugs)  # nothing changed: nothing re-tagged
    monkeypatch.setattr(semantic, "METHOD_VERSION", "semantic-test")
    after = {s: tag(ws, s) for s in slugs}
    assert not any(r.cached for r in after.values())  # every episode re-tagged
    for s in slugs:
        assert "semantic-test" in after[s].key and after[s].key != keys[s]
        data = json.loads(ws.transcript_path(s, "tags.json").read_text())
        assert data["cache_key"] == after[s].key and data["method"].startswith("semantic-test")
    assert all(tag(ws, s).cached for s in slugs)  # and then nothing again


def test_overrides_survive_a_rerun(ws):
    _episode(ws)
    tag(ws, "lezing")
    update_episode(
        ws,
        "lezing",
        overrides={
            "chapter_overrides": [{"chapter": 1, "title": "Eén team"}],
            "tag_overrides": [
                {"at": "0:05", "add": ["bestuurlijk-lef"]},
                {"at": 50, "remove": ["een-team"]},
            ],
        },
    )
    for force in (False, True):
        result = tag(ws, "lezing", force=force)
        chapters, fragments = list(result.chapters), list(result.fragments)
        assert chapters[0].title == "Eén team"
        assert "bestuurlijk-lef" in ids(fragments[0].tags)
        assert "bestuurlijk-lef" in ids(chapters[0].tags)
    assert load_fragments(ws, "lezing")[0][0].title == "Eén team"


def test_missing_transcript_and_episode(ws):
    save_episode(ws, Episode(slug="leeg", title="Leeg", date=dt.date(2025, 1, 1), guid="g"))
    with pytest.raises(NotFoundError, match="nog geen transcript"):
        tag(ws, "leeg")
    with pytest.raises(NotFoundError):
        tag(ws, "bestaat-niet")
    assert load_fragments(ws, "leeg") is None


# --- CLI --------------------------------------------------------------------------------------
def test_cli_tag(ws, runner):
    _episode(ws)
    result = runner.invoke(cli, ["-w", str(ws.root), "tag", "lezing"])
    assert result.exit_code == 0, result.output
    assert "2 hoofdstukken" in result.output
    result = runner.invoke(cli, ["-w", str(ws.root), "tag", "--all", "--force"])
    assert result.exit_code == 0 and "lezing:" in result.output
    result = runner.invoke(cli, ["-w", str(ws.root), "tag", "onbekend"])
    assert result.exit_code == 1 and "bestaat niet" in result.output
    assert "Traceback" not in result.output


def test_cli_eval_tagging(ws, runner, tmp_path):
    f = tmp_path / "t.jsonl"
    f.write_text(
        '{"id": "a", "text": "Er stond elke week een frietkar.", "ingredients": ["sociale-binding"]}\n'
        '{"id": "b", "text": "De steunberm is van klei.", "ingredients": []}\n'
        '{"id": "c", "text": "We hadden elkaar nodig.", "ingredients": ["aanleiding"]}\n'
    )
    result = runner.invoke(cli, ["-w", str(ws.root), "eval", "tagging", str(f)])
    assert result.exit_code == 0, result.output
    assert "micro" in result.output and "sociale-binding" in result.output
    assert "methode semantic-1+lexical-3+use-m3-" in result.output
    assert "off-topic: 0 van 1 items kregen een ingrediënt" in result.output
    result = runner.invoke(cli, ["-w", str(ws.root), "eval", "tagging", str(f), "--json"])
    data = json.loads(result.output)
    assert data["micro"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    assert data["method"].startswith("semantic-1") and data["offtopic"]["items"] == 1
    result = runner.invoke(cli, ["-w", str(ws.root), "eval", "tagging", str(f), "--folds", "3"])
    assert result.exit_code == 0 and "kruisvalidatie in 3 delen" in result.output, result.output
    result = runner.invoke(cli, ["-w", str(ws.root), "eval", "tagging", str(f), "--folds", "9"])
    assert result.exit_code == 1 and "--folds moet tussen 2 en 3" in result.output
    assert data["predictions"][0]["predicted"][0]["ingredient"] == "sociale-binding"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{niet json\n")
    result = runner.invoke(cli, ["-w", str(ws.root), "eval", "tagging", str(bad)])
    assert result.exit_code == 1 and "regel 1" in result.output


def test_cli_eval_segmentation(ws, runner, tmp_path):
    from test_segment import DIKE, TEAM

    segs = [
        {"start": i * 12.0, "end": (i + 1) * 12.0, "text": t, "topic": "a" if i < 4 else "b"}
        for i, t in enumerate(TEAM + DIKE)
    ]
    f = tmp_path / "s.jsonl"
    f.write_text(json.dumps({"id": "talk", "segments": segs}) + "\n")
    result = runner.invoke(cli, ["-w", str(ws.root), "eval", "segmentation", str(f)])
    assert result.exit_code == 0, result.output
    assert "Pk          0.000" in result.output and "WindowDiff" in result.output
    result = runner.invoke(cli, ["-w", str(ws.root), "eval", "segmentation", str(f), "--json"])
    assert json.loads(result.output)["talks"][0]["predicted_chapters"] == 2
