"""Soundbites: the choice (pipeline/tagging/soundbites.py), the producer's corrections in
episode.toml, the feed's ``podcast:soundbite`` read back by the client libraries, and the
producer app's form. The highlights playing on the site: tests/test_browser.py.

podcastparser 0.6.11 has no handler for ``podcast:soundbite``; an app built on it adds one to
its ``MAPPING`` table, as :func:`_soundbite_parser` does here. feedparser 6.0.x keeps the
attributes of the last element of an unknown namespace only (and drops its text).
"""

from __future__ import annotations

import io
import re
import tomllib
from dataclasses import replace
from pathlib import Path

import feedparser
import podcastparser
import pytest
from feed_sample import BASE_URL, VLINDERS, make_sample_workspace, sample_fragments
from site_sample import make_sample_workspace as make_site_workspace
from starlette.testclient import TestClient
from test_webapp import P, login, make_app

from pipeline.core.episodes import load_episode, save_episode
from pipeline.core.errors import InputError
from pipeline.core.models import Fragment, Tag
from pipeline.feed import publish
from pipeline.feed.check import check_feeds
from pipeline.feed.podcast_ext import PODCAST_NS
from pipeline.tagging import select_soundbites
from pipeline.tagging.soundbites import parse_soundbite_overrides, span_of

TITLES = {"een-team": "Eén team", "bestuurlijk-lef": "Bestuurlijk lef", "aanleiding": "Aanleiding"}


def _f(index: int, start: float, end: float, *tags: tuple[str, float]) -> Fragment:
    return Fragment(index, start, end, f"Zin {index}.", tuple(Tag(i, s) for i, s in tags))


FRAGMENTS = (
    _f(0, 0.0, 20.0, ("een-team", 0.6)),
    _f(1, 20.3, 45.0, ("een-team", 0.9), ("bestuurlijk-lef", 0.5)),
    _f(2, 45.0, 52.0, ("bestuurlijk-lef", 0.8)),  # 7 s: joined with the next fragment
    _f(3, 52.0, 70.0),
    _f(4, 70.0, 140.0, ("aanleiding", 2.0)),  # one sentence of 70 s: never a soundbite
)


# --- the choice -----------------------------------------------------------------------------
def test_each_ingredient_gets_its_strongest_fragment_within_15_to_60_seconds() -> None:
    chosen = select_soundbites(FRAGMENTS, {}, TITLES)
    assert chosen.problems == ()
    got = [(s.ingredient, s.title, s.start, s.end, s.source) for s in chosen.soundbites]
    assert got == [
        ("een-team", "Eén team", 20.3, 45.0, "auto"),
        ("bestuurlijk-lef", "Bestuurlijk lef", 45.0, 70.0, "auto"),  # 7 s + the next 18 s
    ]
    for sb in chosen.soundbites:
        assert 15 <= sb.duration <= 60


def test_short_fragments_join_their_neighbours_and_long_ones_are_passed_over() -> None:
    frags = [_f(0, 0.0, 30.0), _f(1, 30.0, 38.0), _f(2, 38.0, 100.0)]
    assert span_of(frags, 1) == (0, 1)  # the next is too long: the one before it
    assert span_of(frags, 2) is None  # 62 s
    assert span_of([_f(0, 0.0, 5.0)], 0) is None  # the whole episode is shorter than 15 s


def test_ingredients_get_fragments_of_their_own_while_there_are_any() -> None:
    frags = (
        _f(0, 0.0, 20.0, ("een-team", 0.9), ("bestuurlijk-lef", 0.9)),
        _f(1, 20.0, 40.0, ("bestuurlijk-lef", 0.4)),
    )
    got = {s.ingredient: s.start for s in select_soundbites(frags, {}, TITLES).soundbites}
    assert got == {"een-team": 0.0, "bestuurlijk-lef": 20.0}  # een-team has one fragment only
    # now bestuurlijk-lef has only the first fragment: een-team moves to its second
    frags = (frags[0], replace(frags[1], tags=(Tag("een-team", 0.3),)))
    got = {s.ingredient: s.start for s in select_soundbites(frags, {}, TITLES).soundbites}
    assert got == {"bestuurlijk-lef": 0.0, "een-team": 20.0}


def test_the_producer_picks_another_fragment_or_drops_one() -> None:
    overrides = {
        "soundbite_overrides": [
            {"ingredient": "een-team", "at": "0:10"},
            {"ingredient": "bestuurlijk-lef", "drop": True},
        ]
    }
    chosen = select_soundbites(FRAGMENTS, overrides, TITLES)
    assert [(s.ingredient, s.start, s.end, s.source) for s in chosen.soundbites] == [
        ("een-team", 0.0, 20.0, "manual")
    ]


def test_corrections_that_cannot_be_applied_are_reported_and_the_choice_stands() -> None:
    overrides = {
        "soundbite_overrides": [
            {"ingredient": "een-team", "at": "9:00"},  # past the end
            {"ingredient": "aanleiding", "at": 100},  # a 70 s fragment
            {"ingredient": "onbekend", "at": 10},
        ]
    }
    chosen = select_soundbites(FRAGMENTS, overrides, TITLES)
    assert len(chosen.problems) == 3
    assert "geen fragment op 9:00" in chosen.problems[0]
    assert "past niet in 15 tot 60 seconden" in chosen.problems[1]
    assert "onbekend ingrediënt" in chosen.problems[2]
    assert [s.ingredient for s in chosen.soundbites] == ["een-team", "bestuurlijk-lef"]
    bad = select_soundbites(FRAGMENTS, {"soundbite_overrides": "x"}, TITLES)
    assert bad.problems and len(bad.soundbites) == 2


@pytest.mark.parametrize(
    "table, message",
    [
        ({"at": 10}, "'ingredient' moet"),
        ({"ingredient": "een-team"}, "geef 'at'"),
        ({"ingredient": "een-team", "at": 10, "drop": True}, "geef 'at'"),
        ({"ingredient": "een-team", "drop": "ja"}, "'drop' moet true of false"),
        ({"ingredient": "een-team", "at": "tien"}, "ongeldige tijd"),
    ],
)
def test_bad_corrections_are_one_clear_line(table: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_soundbite_overrides({"soundbite_overrides": [table]})


# --- the feed -------------------------------------------------------------------------------
class _Soundbite(podcastparser.Target):
    """What an app on podcastparser adds for ``podcast:soundbite``."""

    WANT_TEXT = True

    def start(self, handler, attrs):
        if not handler.get_episode_attr("soundbites"):
            handler.set_episode_attr("soundbites", [])
        bite = {"start": float(attrs["startTime"]), "duration": float(attrs["duration"])}
        handler.get_episode_attr("soundbites").append(bite)

    def end(self, handler, text):
        handler.get_episode_attr("soundbites")[-1]["title"] = text


def _soundbite_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(podcastparser.Namespace.NAMESPACES, PODCAST_NS, "podcast")
    monkeypatch.setitem(
        podcastparser.MAPPING, "rss/channel/item/podcast:soundbite", _Soundbite("soundbites")
    )


def test_soundbites_read_back_by_the_client_libraries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = make_sample_workspace(tmp_path / "ws")
    publish(ws, fragments=sample_fragments, vlinders=VLINDERS)
    data = (ws.feeds_dir / "podcast.xml").read_bytes()
    _soundbite_parser(monkeypatch)
    feed = podcastparser.parse(f"{BASE_URL}/feeds/podcast.xml", io.BytesIO(data))
    eps = {e["link"].rstrip("/").rsplit("/", 1)[1]: e for e in feed["episodes"]}
    assert eps["ja-durven-zeggen"]["soundbites"] == [
        {"start": 0.0, "duration": 20.0, "title": "Een aanleiding"},
        {"start": 20.0, "duration": 25.0, "title": "Bestuurlijk lef"},
    ]
    assert "soundbites" not in eps["een-team-zonder-wij-zij"]  # 2 s fragments: none fits
    entry = next(e for e in feedparser.parse(data).entries if "ja-durven" in e.link)
    assert entry.podcast_soundbite == {"starttime": "20", "duration": "25"}  # the last one
    # the same items in the vlinder feed
    vlinder = (ws.feeds_dir / "ja-durven-zeggen.xml").read_bytes()
    assert vlinder.count(b"<podcast:soundbite ") == 2
    assert check_feeds(ws, allow_http=False) == []


def test_a_correction_in_episode_toml_survives_rebuilds_and_is_checked(tmp_path: Path) -> None:
    ws = make_sample_workspace(tmp_path / "ws")
    slug = "ja-durven-zeggen"
    ep = load_episode(ws, slug)
    tables = [{"ingredient": "aanleiding", "drop": True}]
    save_episode(ws, replace(ep, overrides={**ep.overrides, "soundbite_overrides": tables}))
    for _ in range(2):
        report = publish(ws, fragments=sample_fragments, vlinders=VLINDERS)
        data = (ws.feeds_dir / "podcast.xml").read_text("utf-8")
        assert "Een aanleiding</podcast:soundbite>" not in data
        assert "Bestuurlijk lef</podcast:soundbite>" in data
    assert report.warnings == ()
    assert tomllib.loads(ws.episode_file(slug).read_text("utf-8"))["soundbite_overrides"] == tables
    # a correction that points nowhere: the feed is still published, with a warning
    ep = load_episode(ws, slug)
    bad = [{"ingredient": "aanleiding", "at": "59:00"}]
    save_episode(ws, replace(ep, overrides={**ep.overrides, "soundbite_overrides": bad}))
    report = publish(ws, fragments=sample_fragments, vlinders=VLINDERS)
    assert any("geen fragment op 59:00" in w for w in report.warnings)
    assert "Een aanleiding</podcast:soundbite>" in (ws.feeds_dir / "podcast.xml").read_text()


def test_check_finds_bad_soundbites(tmp_path: Path) -> None:
    ws = make_sample_workspace(tmp_path / "ws")
    publish(ws, fragments=sample_fragments, vlinders=VLINDERS)
    path = ws.feeds_dir / "podcast.xml"
    text = path.read_text("utf-8")
    text = text.replace('startTime="20" duration="25"', 'startTime="40" duration="25"')
    path.write_text(text.replace('startTime="0"', 'startTime="-1"'), "utf-8")
    problems = check_feeds(ws, allow_http=True)
    assert any("soundbite 1 heeft geen geldige startTime" in p for p in problems)
    assert any("soundbite 2 loopt voorbij het einde" in p for p in problems)


# --- the producer app -----------------------------------------------------------------------
def test_producer_form_picks_drops_and_refuses_a_bad_time(tmp_path: Path) -> None:
    ws = make_site_workspace(tmp_path / "ws")
    slug = "een-team-zonder-wij-zij"
    url = f"{P}/afleveringen/{slug}"
    with TestClient(make_app(ws)) as client:
        csrf = login(client, ws)
        page = client.get(url)
        assert page.status_code == 200 and 'id="hoogtepunten"' in page.text
        assert 'name="ingredient_1" value="bestuurlijk-lef"' in page.text
        rows = {  # alphabetical by title, as on the page
            1: "bestuurlijk-lef",
            2: "een-team",
            3: "risico-en-winst-delen",
            4: "sociale-binding",
        }

        def loaded(html: str) -> dict[str, str]:
            """The form's state as a browser sends it: what each row was loaded with and the
            option selected in each row's list."""
            fields = dict(re.findall(r'name="(was_\d+)" value="([^"]*)"', html))
            for name, options in re.findall(
                r'<select name="(choice_\d+)"[^>]*>(.*?)</select>', html, re.S
            ):
                chosen = re.search(r'<option value="([^"]*)" selected>', options)
                fields[name] = chosen.group(1) if chosen else "auto"
            return fields

        form = {
            "csrf": csrf,
            **{f"ingredient_{n}": i for n, i in rows.items()},
            **loaded(page.text),
        }
        r = client.post(
            f"{url}/hoogtepunten",
            data={**form, "choice_1": "drop", "choice_2": "at:27", "at_4": "1:05"},
        )
        assert "De hoogtepunten zijn opgeslagen" in r.text
        tables = load_episode(ws, slug).overrides["soundbite_overrides"]
        assert tables == [
            {"ingredient": "bestuurlijk-lef", "drop": True},
            {"ingredient": "een-team", "at": "0:27"},
            {"ingredient": "sociale-binding", "at": "1:05"},
        ]
        assert "0:27–1:02 (gekozen)" in r.text  # 13 s: joined with the next fragment
        form = {**form, **loaded(r.text)}
        before = ws.episode_file(slug).read_bytes()
        r = client.post(f"{url}/hoogtepunten", data={**form, "at_3": "9:00"})
        assert "Hoogtepunt &#39;Risico en winst delen&#39;: geen fragment op 9:00." in r.text
        r = client.post(f"{url}/hoogtepunten", data={**form, "at_3": "morgen"})
        assert "ongeldige tijd" in r.text
        assert ws.episode_file(slug).read_bytes() == before  # nothing written
        # two tabs: what the other tab changed meanwhile is kept; the same row is a conflict
        stale = dict(form)
        r = client.post(f"{url}/hoogtepunten", data={**form, "choice_3": "drop"})
        assert "De hoogtepunten zijn opgeslagen" in r.text
        r = client.post(f"{url}/hoogtepunten", data={**stale, "choice_3": "at:40"})
        assert r.status_code == 409 and "intussen door iemand anders" in r.text
        r = client.post(f"{url}/hoogtepunten", data={**stale, "choice_2": "auto"})
        print("DBG", re.findall(r"intussen[^<]*|Hoogtepunt[^<]*", r.text), stale)
        assert "De hoogtepunten zijn opgeslagen" in r.text
        tables = load_episode(ws, slug).overrides["soundbite_overrides"]
        assert {"ingredient": "risico-en-winst-delen", "drop": True} in tables  # kept
        assert not any(t["ingredient"] == "een-team" for t in tables)
        # a form without what it was loaded with (an old tab) is never applied blindly
        r = client.post(f"{url}/hoogtepunten", data={"csrf": csrf, "ingredient_1": "een-team"})
        assert r.status_code == 409
        page = client.get(url)
        form = {
            "csrf": csrf,
            **{f"ingredient_{n}": i for n, i in rows.items()},
            **loaded(page.text),
        }
        r = client.post(
            f"{url}/hoogtepunten",
            data={**form, **{f"choice_{n}": "auto" for n in rows}},
        )  # all automatic again
        assert "soundbite_overrides" not in load_episode(ws, slug).overrides
