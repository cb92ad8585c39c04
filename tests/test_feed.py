"""The feed stage: feeds parsed back with podcastparser and feedparser, XPath on the XML, the
golden feed, ID3 chapters, `vlinder check` on injected problems, and the CLI.

Known quirks of the client libraries (asserted below, so a fix upstream shows up here):

* podcastparser 0.6.11 only knows the ``podcast:`` namespace under its old GitHub URI; under the
  spec's current ``https://podcastindex.org/namespace/1.0`` it ignores persons, transcripts and
  chapters. The spec says clients must treat both URIs as identical, so the tests register the
  current URI with podcastparser (``Namespace.NAMESPACES``) to see what a fixed version sees.
  It also keeps only the *last* ``podcast:transcript`` of an item.
* feedparser 6.0.x maps ``itunes:explicit`` only from ``yes``/``clean``: Apple's ``true``/``false``
  come out as ``None`` (kurtmckee/feedparser#524, fixed by #567 after 6.0.14). For unknown
  namespaces it keeps the attributes of the last element only and drops element text.

Golden files: ``tests/golden/``, regenerated only with ``.venv/bin/python -m tests.regen_golden``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import io
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import feedparser
import podcastparser
import pytest
from feed_sample import (
    BASE_URL,
    FRAGMENTS,
    GOLDEN_DIR,
    VLINDERS,
    make_sample_workspace,
    sample_fragments,
    silent_mp3,
)
from lxml import etree
from mutagen.id3 import ID3
from mutagen.mp3 import MP3
from PIL import Image

from pipeline.cli import cli
from pipeline.core.baseurl import normalise_base_url
from pipeline.core.episodes import load_episode, save_episode, update_episode
from pipeline.core.errors import FeedError, InputError
from pipeline.core.models import Chapter, Episode
from pipeline.core.timefmt import clock
from pipeline.core.workspace import Workspace
from pipeline.feed import publish
from pipeline.feed.chapters import read_id3_chapters, write_id3_chapters
from pipeline.feed.check import check_feeds
from pipeline.feed.podcast_ext import PODCAST_NS, podcast_guid
from pipeline.feed.render import vlinder_feed_title
from pipeline.feed.urls import vlinder_item_guid

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": PODCAST_NS,
    "atom": "http://www.w3.org/2005/Atom",
}
MAIN = "feeds/podcast.xml"
SLUG = "een-team-zonder-wij-zij"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The sample workspace, built once for the read-only tests of this module."""
    ws = make_sample_workspace(tmp_path_factory.mktemp("feed") / "ws")
    publish(ws, fragments=sample_fragments, vlinders=VLINDERS)
    return ws


@pytest.fixture
def sample(tmp_path: Path) -> Workspace:
    """A fresh sample workspace, not yet built (for tests that change it)."""
    return make_sample_workspace(tmp_path / "ws")


def _build(ws: Workspace, **kwargs: object):
    return publish(ws, fragments=sample_fragments, vlinders=VLINDERS, **kwargs)


def _xml(ws: Workspace, rel: str = MAIN) -> etree._Element:
    return etree.fromstring((ws.root / rel).read_bytes())


def _item(root: etree._Element, slug: str) -> etree._Element:
    items = root.xpath(f"channel/item[contains(link, '/afleveringen/{slug}/')]")
    assert len(items) == 1
    return items[0]


# podcast:guid -------------------------------------------------------------------------


def test_podcast_guid_follows_the_spec() -> None:
    # The example from the podcast:guid spec.
    assert podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml") == (
        "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    )
    # Scheme and trailing slashes do not matter.
    assert podcast_guid("http://mp3s.nashownotes.com/pc20rss.xml/") == podcast_guid(
        "https://mp3s.nashownotes.com/pc20rss.xml"
    )
    ns = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
    assert podcast_guid(f"{BASE_URL}/feeds/podcast.xml") == str(
        uuid.uuid5(ns, "podcast.example.org/feeds/podcast.xml")
    )


# XPath on the XML -----------------------------------------------------------------------


def test_channel_has_apple_and_podcast_namespace_tags(built: Workspace) -> None:
    ch = _xml(built).find("channel")
    assert ch.findtext("title") == "Het klompje goud"
    assert ch.findtext("link") == f"{BASE_URL}/"
    assert ch.findtext("language") == "nl"
    assert ch.findtext("description").startswith("Lezingen en interviews")
    assert ch.find("atom:link[@rel='self']", NS).get("href") == f"{BASE_URL}/feeds/podcast.xml"
    assert ch.findtext("itunes:explicit", namespaces=NS) == "false"
    assert ch.findtext("itunes:author", namespaces=NS)
    assert ch.findtext("itunes:owner/itunes:email", namespaces=NS) == "podcast@example.org"
    assert ch.findtext("itunes:owner/itunes:name", namespaces=NS) == "Waterschap Rivierenland"
    cat = ch.find("itunes:category", NS)
    assert cat.get("text") == "Government"
    assert cat.find("itunes:category", NS).get("text") == "Local"
    assert ch.find("itunes:image", NS).get("href") == f"{BASE_URL}/feeds/cover.png"
    assert ch.findtext("podcast:guid", namespaces=NS) == podcast_guid(
        f"{BASE_URL}/feeds/podcast.xml"
    )
    locked = ch.find("podcast:locked", NS)
    assert (locked.text, locked.get("owner")) == ("yes", "podcast@example.org")
    assert ch.findtext("podcast:medium", namespaces=NS) == "podcast"
    # Newest first; lastBuildDate is the newest episode's date (stable between builds).
    links = [i.findtext("link") for i in ch.findall("item")]
    assert [link.rstrip("/").rsplit("/", 1)[1] for link in links] == [
        SLUG,
        "ja-durven-zeggen",
        "bonus-frietkar",
    ]
    assert ch.findtext("lastBuildDate") == "Fri, 14 Mar 2025 12:00:00 +0100"


def test_item_tags(built: Workspace) -> None:
    item = _item(_xml(built), SLUG)
    ep = load_episode(built, SLUG)
    guid = item.find("guid")
    assert (guid.text, guid.get("isPermaLink")) == (ep.guid, "false")
    enc = item.find("enclosure")
    audio = built.episode_dir(SLUG) / ep.audio_file
    assert enc.get("url") == f"{BASE_URL}/episodes/{SLUG}/{SLUG}.mp3"
    assert enc.get("type") == "audio/mpeg"
    assert int(enc.get("length")) == audio.stat().st_size  # after the ID3 chapters went in
    assert item.findtext("link") == f"{BASE_URL}/afleveringen/{SLUG}/"
    assert email.utils.parsedate_to_datetime(item.findtext("pubDate")).date() == dt.date(
        2025, 3, 14
    )
    assert item.findtext("itunes:duration", namespaces=NS) == "6"
    # The numbers written in episode.toml win over [podcast] seasons = "year".
    assert item.findtext("itunes:season", namespaces=NS) == "1"
    assert item.findtext("itunes:episode", namespaces=NS) == "2"
    assert item.findtext("podcast:season", namespaces=NS) == "1"
    assert item.find("podcast:season", NS).get("name") is None
    assert item.findtext("podcast:episode", namespaces=NS) == "2"
    assert item.findtext("itunes:episodeType", namespaces=NS) == "full"
    assert item.findtext("itunes:explicit", namespaces=NS) == "false"
    # An interview: the first speaker hosts, the others are guests.
    people = [(p.text, p.get("role"), p.get("group")) for p in item.findall("podcast:person", NS)]
    assert people == [
        ("Anna de Vries", "host", "cast"),
        ("Bram 'Dijk' Jansen", "guest", "cast"),
    ]
    transcripts = [
        (t.get("type"), t.get("url"), t.get("language"), t.get("rel"))
        for t in item.findall("podcast:transcript", NS)
    ]
    assert transcripts == [
        ("text/html", f"{BASE_URL}/transcripts/{SLUG}.html", "nl", None),
        ("application/json", f"{BASE_URL}/transcripts/{SLUG}.podcast.json", "nl", None),
        ("application/x-subrip", f"{BASE_URL}/transcripts/{SLUG}.srt", "nl", "captions"),
        ("text/vtt", f"{BASE_URL}/transcripts/{SLUG}.vtt", "nl", "captions"),
    ]
    chapters = item.find("podcast:chapters", NS)
    assert chapters.get("url") == f"{BASE_URL}/feeds/chapters/{SLUG}.json"
    assert chapters.get("type") == "application/json+chapters"
    # The description: HTML in CDATA, with the chapters as timestamps (one per line), the
    # ingredients, the page.
    assert b"<description><![CDATA[<p>Een interview" in (built.root / MAIN).read_bytes()
    desc = item.findtext("description")
    assert "00:00 Welkom &amp; introductie<br>00:02 Eén team" in desc
    assert "Ingrediënten: Eén team, Risico en winst delen" in desc
    assert f'href="{BASE_URL}/afleveringen/{SLUG}/"' in desc


def test_talk_speakers_are_guests_and_bare_episode_is_minimal(built: Workspace) -> None:
    root = _xml(built)
    talk = _item(root, "ja-durven-zeggen")
    assert [(p.text, p.get("role")) for p in talk.findall("podcast:person", NS)] == [
        ("Carla Bos", "guest")
    ]
    bonus = _item(root, "bonus-frietkar")
    assert bonus.findtext("itunes:episodeType", namespaces=NS) == "bonus"
    assert bonus.findtext("itunes:explicit", namespaces=NS) == "true"
    # [podcast] seasons = "year": a bonus episode gets the season, but no episode number.
    assert bonus.findtext("itunes:season", namespaces=NS) == "2025"
    assert bonus.find("itunes:episode", NS) is None
    assert bonus.find("podcast:chapters", NS) is None
    assert bonus.findall("podcast:transcript", NS) == []
    assert bonus.findall("podcast:person", NS) == []
    assert not (built.feeds_dir / "chapters" / "bonus-frietkar.json").exists()


def test_vlinder_feeds_hold_the_episodes_with_their_ingredients(built: Workspace) -> None:
    def slugs(rel: str) -> list[str]:
        root = _xml(built, rel)
        return [i.findtext("link").rstrip("/").rsplit("/", 1)[1] for i in root.iter("item")]

    assert slugs("feeds/vertrouwen-winnen.xml") == [SLUG]
    assert slugs("feeds/ja-durven-zeggen.xml") == ["ja-durven-zeggen"]
    # A vlinder without episodes has no feed: Apple and Podcast Index reject empty feeds.
    assert not (built.root / "feeds/klompje-goud.xml").exists()
    ch = _xml(built, "feeds/vertrouwen-winnen.xml").find("channel")
    assert ch.findtext("title") == "Het klompje goud: Vertrouwen winnen"
    self_url = f"{BASE_URL}/feeds/vertrouwen-winnen.xml"
    assert ch.find("atom:link[@rel='self']", NS).get("href") == self_url
    assert ch.findtext("podcast:guid", namespaces=NS) == podcast_guid(self_url)
    assert ch.findtext("link") == f"{BASE_URL}/vlinders/vertrouwen-winnen/"


def test_an_episode_has_its_own_guid_and_enclosure_url_in_every_show(built: Workspace) -> None:
    """Apple ignores an enclosure URL it has seen in another show: a vlinder feed gives each
    episode a guid and an audio URL of its own (a hard link), stable between builds; the main
    feed keeps the episode's own guid and URL (existing subscribers)."""
    ep = load_episode(built, SLUG)
    main = _item(_xml(built), SLUG)
    assert main.findtext("guid") == ep.guid
    assert main.find("enclosure").get("url") == f"{BASE_URL}/episodes/{SLUG}/{SLUG}.mp3"
    item = _item(_xml(built, "feeds/vertrouwen-winnen.xml"), SLUG)
    guid = item.find("guid")
    assert guid.text == vlinder_item_guid(ep.guid, "vertrouwen-winnen") != ep.guid
    assert guid.text == "urn:uuid:" + str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"vlinder:vertrouwen-winnen/{ep.guid}")
    )
    assert guid.get("isPermaLink") == "false"
    enc = item.find("enclosure")
    assert enc.get("url") == f"{BASE_URL}/feeds/audio/vertrouwen-winnen/{SLUG}.mp3"
    linked = built.feeds_dir / "audio" / "vertrouwen-winnen" / f"{SLUG}.mp3"
    audio = built.episode_dir(SLUG) / f"{SLUG}.mp3"
    assert linked.samefile(audio)  # a hard link, not a second copy
    assert int(enc.get("length")) == audio.stat().st_size
    other = _item(_xml(built, "feeds/ja-durven-zeggen.xml"), "ja-durven-zeggen")
    assert other.findtext("guid") == vlinder_item_guid(
        load_episode(built, "ja-durven-zeggen").guid, "ja-durven-zeggen"
    )
    # the rest of the item is the main feed's
    assert item.findtext("title") == main.findtext("title")
    assert item.findtext("description") == main.findtext("description")
    assert check_feeds(built, allow_http=True) == []


def test_vlinder_feed_titles_do_not_repeat_the_podcast_title() -> None:
    assert vlinder_feed_title("Het klompje goud", "Vertrouwen winnen") == (
        "Het klompje goud: Vertrouwen winnen"
    )
    title = "Het klompje goud – de alliantie als samenwerkingsvorm"
    assert vlinder_feed_title("Het klompje goud", title) == title
    assert vlinder_feed_title("Het klompje goud", "het klompje goud") == "het klompje goud"


def test_copyright_line(built: Workspace, sample: Workspace) -> None:
    ch = _xml(built).find("channel")
    assert ch.findtext("copyright") == "© 2025 Waterschap Rivierenland"
    assert _xml(built, "feeds/vertrouwen-winnen.xml").findtext("channel/copyright") == (
        "© 2025 Waterschap Rivierenland"
    )
    update_episode(sample, "bonus-frietkar", date=dt.date(2023, 5, 1))
    _build(sample)
    assert _xml(sample).findtext("channel/copyright") == "© 2023–2025 Waterschap Rivierenland"
    text = sample.settings_path.read_text("utf-8")
    sample.settings_path.write_text(
        text.replace('copyright = ""', 'copyright = "CC BY 4.0 Waterschap Rivierenland"'),
        "utf-8",
    )
    _build(Workspace(sample.root))
    assert _xml(sample).findtext("channel/copyright") == "CC BY 4.0 Waterschap Rivierenland"


def test_check_finds_an_episode_shared_between_shows(built: Workspace, tmp_path: Path) -> None:
    """A vlinder feed as Vlinder built it before: the main feed's guid and enclosure URL."""
    ws = Workspace(tmp_path / "ws")
    shutil.copytree(built.root, ws.root, symlinks=True)
    rel = "feeds/vertrouwen-winnen.xml"
    ep = load_episode(ws, SLUG)
    data = (ws.root / rel).read_text("utf-8")
    data = data.replace(vlinder_item_guid(ep.guid, "vertrouwen-winnen"), ep.guid)
    data = data.replace("feeds/audio/vertrouwen-winnen/", f"episodes/{SLUG}/")
    (ws.root / rel).write_text(data, "utf-8")
    problems = check_feeds(ws, allow_http=True)
    assert len(problems) == 2, problems
    assert all(p.startswith(rel) and "staat ook in feeds/podcast.xml" in p for p in problems)
    assert any(ep.guid in p for p in problems)
    assert any(f"{BASE_URL}/episodes/{SLUG}/{SLUG}.mp3" in p for p in problems)


def test_chapters_json_v1_2(built: Workspace) -> None:
    doc = json.loads((built.feeds_dir / "chapters" / f"{SLUG}.json").read_text("utf-8"))
    assert doc["version"] == "1.2.0"
    assert [c["startTime"] for c in doc["chapters"]] == [0.0, 2.0, 4.0]
    assert doc["chapters"][1]["title"] == 'Eén team, geen <wij> en "zij"'
    assert doc["chapters"][2]["url"] == f"{BASE_URL}/afleveringen/{SLUG}/#t=4"
    assert all(c.get("toc", True) for c in doc["chapters"])


# Client libraries ---------------------------------------------------------------------------


def _podcastparser(ws: Workspace, rel: str = MAIN) -> dict:
    data = (ws.root / rel).read_bytes()
    return podcastparser.parse(f"{BASE_URL}/{rel}", io.BytesIO(data))


def test_podcastparser_sees_the_feed(built: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    # Quirk: without this, podcastparser 0.6.11 ignores every podcast: tag (see module doc).
    monkeypatch.setitem(podcastparser.Namespace.NAMESPACES, PODCAST_NS, "podcast")
    feed = _podcastparser(built)
    assert feed["title"] == "Het klompje goud"
    assert feed["link"] == f"{BASE_URL}/"
    assert feed["language"] == "nl"
    assert feed["explicit"] is False  # podcastparser reads Apple's true/false
    assert feed["import_prohibited"] is True  # podcast:locked
    assert feed["cover_url"] == f"{BASE_URL}/feeds/cover.png"
    assert feed["itunes_owner"] == {
        "name": "Waterschap Rivierenland",
        "email": "podcast@example.org",
    }
    assert feed["itunes_categories"] == [["Government", "Local"]]
    episodes = {e["link"]: e for e in feed["episodes"]}
    ep = episodes[f"{BASE_URL}/afleveringen/{SLUG}/"]
    audio = built.episode_dir(SLUG) / f"{SLUG}.mp3"
    assert ep["title"] == 'Eén team: geen <wij> & "zij" 🦋'
    assert ep["guid"] == "urn:uuid:7a1c0f4e-0b5e-4d8a-9a37-0d3b3c2f9e01"
    assert ep["enclosures"] == [
        {
            "url": f"{BASE_URL}/episodes/{SLUG}/{SLUG}.mp3",
            "file_size": audio.stat().st_size,
            "mime_type": "audio/mpeg",
        }
    ]
    assert ep["total_time"] == 6
    assert ep["explicit"] is False
    assert (ep["season"], ep["number"], ep["type"]) == (1, 2, "full")
    assert ep["chapters_json_url"] == f"{BASE_URL}/feeds/chapters/{SLUG}.json"
    # Only the last transcript survives in podcastparser: we list VTT last on purpose.
    assert ep["transcript_url"] == f"{BASE_URL}/transcripts/{SLUG}.vtt"
    assert [(p["name"], p["role"]) for p in ep["persons"]] == [
        ("Anna de Vries", "host"),
        ("Bram 'Dijk' Jansen", "guest"),
    ]
    assert '00:02 Eén team, geen <wij> en "zij"' in ep["description"]
    bonus = episodes[f"{BASE_URL}/afleveringen/bonus-frietkar/"]
    assert bonus["explicit"] is True
    assert bonus["type"] == "bonus"


def test_podcastparser_quirk_current_namespace_uri_unknown(built: Workspace) -> None:
    ep = _podcastparser(built)["episodes"][0]
    if "chapters_json_url" in ep:  # pragma: no cover - a podcastparser that knows the URI
        pytest.skip("podcastparser now knows https://podcastindex.org/namespace/1.0")
    assert "transcript_url" not in ep and "persons" not in ep


def test_feedparser_sees_the_feed(built: Workspace) -> None:
    d = feedparser.parse((built.root / MAIN).read_bytes())
    assert not d.bozo
    assert d.feed.title == "Het klompje goud"
    assert d.feed.language == "nl"
    # Quirk (feedparser#524): true/false come out as None before the fix, as bool after.
    assert d.feed.get("itunes_explicit") in (None, False)
    assert d.namespaces["podcast"] == PODCAST_NS
    assert d.feed.podcast_guid == podcast_guid(f"{BASE_URL}/feeds/podcast.xml")
    e = d.entries[0]
    audio = built.episode_dir(SLUG) / f"{SLUG}.mp3"
    assert e.title == 'Eén team: geen <wij> & "zij" 🦋'
    assert e.id == "urn:uuid:7a1c0f4e-0b5e-4d8a-9a37-0d3b3c2f9e01"
    assert e.guidislink is False
    assert e.itunes_duration == "6"
    assert e.get("itunes_explicit") in (None, False)
    enclosure = [link for link in e.links if link.rel == "enclosure"]
    assert enclosure == [
        {
            "href": f"{BASE_URL}/episodes/{SLUG}/{SLUG}.mp3",
            "length": str(audio.stat().st_size),
            "rel": "enclosure",
            "type": "audio/mpeg",
        }
    ]
    assert e.podcast_chapters["url"] == f"{BASE_URL}/feeds/chapters/{SLUG}.json"
    # Only the last element of an unknown namespace survives: VTT, listed last on purpose.
    assert e.podcast_transcript["url"] == f"{BASE_URL}/transcripts/{SLUG}.vtt"
    assert e.published_parsed[:3] == (2025, 3, 14)
    bonus = d.entries[2]
    assert bonus.get("itunes_explicit") in (None, True)


def test_awkward_characters_stay_well_formed(sample: Workspace) -> None:
    title = "A < B & C > D \"quoted\" 'single' ]]> 🦋 \u00e9\u0301"
    update_episode(
        sample, "bonus-frietkar", title=title, description="<script>alert('x')</script> & co ]]>"
    )
    _build(sample)
    data = (sample.root / MAIN).read_bytes()
    root = etree.fromstring(data)  # well-formed
    item = _item(root, "bonus-frietkar")
    assert item.findtext("title") == title
    assert "&lt;script&gt;" in item.findtext("description")  # escaped HTML, not markup
    assert "<script>" not in item.findtext("description")
    assert "co ]]&gt;" in item.findtext("description")  # cannot end the CDATA section
    assert feedparser.parse(data).bozo is False
    titles = [e["title"] for e in podcastparser.parse("x", io.BytesIO(data))["episodes"]]
    assert title in titles


# Golden --------------------------------------------------------------------------------------


def test_golden_feed(built: Workspace) -> None:
    """Regenerate on purpose only: ``.venv/bin/python -m tests.regen_golden``."""
    for rel in (MAIN, "feeds/vertrouwen-winnen.xml", f"feeds/chapters/{SLUG}.json"):
        golden = GOLDEN_DIR / Path(rel).name
        assert (built.root / rel).read_text("utf-8") == golden.read_text("utf-8"), (
            f"{rel} differs from {golden}; if intended, run `.venv/bin/python -m tests.regen_golden`"
        )


# Stability and incremental builds ------------------------------------------------------------


def test_guid_unchanged_after_editing_title_and_audio(sample: Workspace) -> None:
    _build(sample)
    before = _item(_xml(sample), SLUG).findtext("guid")
    ep = update_episode(sample, SLUG, title="Een nieuwe titel")
    silent_mp3(sample.episode_dir(SLUG) / ep.audio_file, 4.0)  # new audio, same file name
    update_episode(sample, SLUG, duration=4.0)
    _build(sample)
    item = _item(_xml(sample), SLUG)
    assert item.findtext("title") == "Een nieuwe titel"
    assert item.findtext("guid") == before
    assert item.findtext("itunes:duration", namespaces=NS) == "4"


def test_rebuild_rewrites_nothing(sample: Workspace) -> None:
    first = _build(sample)
    assert MAIN in first.written
    mtimes = {p: p.stat().st_mtime_ns for p in sample.feeds_dir.rglob("*") if p.is_file()}
    audio_mtime = (sample.episode_dir(SLUG) / f"{SLUG}.mp3").stat().st_mtime_ns
    second = _build(sample)
    assert second.written == () and second.id3_updated == ()
    assert second.unchanged == len(first.written)
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    assert (sample.episode_dir(SLUG) / f"{SLUG}.mp3").stat().st_mtime_ns == audio_mtime
    # Editing one episode rewrites the feeds it is in, not the other chapter files.
    update_episode(sample, "ja-durven-zeggen", title="Anders")
    third = _build(sample)
    assert set(third.written) == {
        MAIN,
        "feeds/ja-durven-zeggen.xml",
        "feeds/chapters/ja-durven-zeggen.json",
    }


def test_removed_episode_and_vlinder_leave_no_stale_files(sample: Workspace) -> None:
    _build(sample)
    shutil.rmtree(sample.episode_dir("ja-durven-zeggen"))
    report = publish(sample, fragments=sample_fragments, vlinders=VLINDERS[:2])
    assert set(report.removed) == {
        "feeds/ja-durven-zeggen.xml",
        "feeds/chapters/ja-durven-zeggen.json",
        "feeds/audio/ja-durven-zeggen/ja-durven-zeggen.mp3",
    }
    assert not (sample.feeds_dir / "ja-durven-zeggen.xml").exists()
    assert not (sample.feeds_dir / "audio" / "ja-durven-zeggen").exists()
    assert (sample.feeds_dir / "audio" / "vertrouwen-winnen" / f"{SLUG}.mp3").exists()


def test_base_url_override_and_bad_base_url(sample: Workspace) -> None:
    report = _build(sample, base_url="https://cdn.example.net/podcast/")
    assert report.main_url == "https://cdn.example.net/podcast/feeds/podcast.xml"
    enc = _item(_xml(sample), SLUG).find("enclosure").get("url")
    assert enc.startswith("https://cdn.example.net/podcast/episodes/")
    with pytest.raises(InputError, match="ongeldige basis-URL"):
        normalise_base_url("ftp://example.org")
    with pytest.raises(InputError):
        _build(sample, base_url="podcast.example.org")


def test_episode_without_audio_is_left_out_with_a_warning(sample: Workspace) -> None:
    (sample.episode_dir("bonus-frietkar") / "bonus-frietkar.mp3").unlink()
    report = _build(sample)
    assert any("bonus-frietkar" in w and "geen audiobestand" in w for w in report.warnings)
    assert "bonus-frietkar" not in (sample.root / MAIN).read_text("utf-8")


# ID3 chapters (real MP3 from ffmpeg) ----------------------------------------------------------


def _ffmpeg_mp3(path: Path, seconds: float = 6.0) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-ac", "1", "-b:a", "48k", "-metadata", "title=Toon", str(path)],
        check=True,
    )  # fmt: skip
    return path


def test_id3_chapters_written_and_read_back(tmp_path: Path) -> None:
    mp3 = _ffmpeg_mp3(tmp_path / "toon.mp3")
    chapters = FRAGMENTS[SLUG][0]
    assert write_id3_chapters(mp3, chapters) is True
    tags = ID3(mp3)
    assert tags["TIT2"].text == ["Toon"]  # other tags survive
    toc = tags.getall("CTOC")
    assert len(toc) == 1 and toc[0].child_element_ids == ["chp0", "chp1", "chp2"]
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [(c.start_time, c.end_time, c.sub_frames["TIT2"].text[0]) for c in chaps] == [
        (0, 2000, "Welkom & introductie"),
        (2000, 4000, 'Eén team, geen <wij> en "zij"'),
        (4000, 6000, "Risico's delen"),
    ]
    assert MP3(mp3).info.length == pytest.approx(6.0, abs=0.1)  # still a playable MP3
    # Same chapters again: the file is not touched.
    assert write_id3_chapters(mp3, chapters) is False
    # New chapters replace the old ones; none removes them.
    assert write_id3_chapters(mp3, [Chapter(0, 0.0, 6.0, "Alles")]) is True
    assert [c[3] for c in read_id3_chapters(mp3)] == ["Alles"]
    assert write_id3_chapters(mp3, []) is True
    assert read_id3_chapters(mp3) == []


def test_build_with_ffmpeg_episode_checks_clean(ws: Workspace) -> None:
    mp3 = _ffmpeg_mp3(ws.episode_dir("toon") / "toon.mp3", 5.0)
    save_episode(
        ws,
        Episode(
            slug="toon",
            title="Toon",
            date=dt.date(2025, 5, 1),
            guid="urn:uuid:00000000-0000-4000-8000-000000000001",
            duration=MP3(mp3).info.length,
            audio_file="toon.mp3",
            audio_bytes=mp3.stat().st_size,
        ),
    )
    chapters = (Chapter(0, 0.0, 2.5, "Begin"), Chapter(1, 2.5, 5.0, "Eind"))
    publish(ws, base_url="https://example.org", fragments=lambda w, s: (chapters, ()))
    assert [c[3] for c in read_id3_chapters(mp3)] == ["Begin", "Eind"]
    assert check_feeds(ws) == []
    enc = _item(_xml(ws), "toon").find("enclosure")
    assert int(enc.get("length")) == mp3.stat().st_size


def test_timestamps() -> None:
    assert clock(0, pad=True) == "00:00"
    assert clock(75.9, pad=True) == "01:15"
    assert clock(3675, pad=True) == "1:01:15"


# vlinder check -----------------------------------------------------------------------------


def test_check_passes_on_a_good_build_but_flags_http(built: Workspace, tmp_path: Path) -> None:
    assert check_feeds(built) == []
    demo = make_sample_workspace(tmp_path / "demo", base_url="http://localhost:8000")
    report = _build(demo)  # a localhost demo builds
    assert any("geen https" in w for w in report.warnings)
    problems = check_feeds(demo)
    assert problems and all("http in plaats van https" in p for p in problems)
    assert check_feeds(demo, allow_http=True) == []


def test_check_finds_wrong_length(sample: Workspace) -> None:
    _build(sample)
    path = sample.root / MAIN
    text = path.read_text("utf-8")
    length = re.search(r'length="(\d+)"', text).group(1)
    path.write_text(text.replace(f'length="{length}"', 'length="12345"', 1), "utf-8")
    problems = check_feeds(sample)
    assert len(problems) == 1
    assert "enclosure-lengte 12345 klopt niet" in problems[0]
    assert problems[0].startswith("feeds/podcast.xml: aflevering ")


def test_check_finds_wrong_duration_and_type(sample: Workspace) -> None:
    _build(sample)
    path = sample.root / MAIN
    text = path.read_text("utf-8")
    text = text.replace(
        "<itunes:duration>6</itunes:duration>", "<itunes:duration>60</itunes:duration>"
    )
    text = text.replace('type="audio/mpeg"', 'type="audio/x-m4a"', 1)
    path.write_text(text, "utf-8")
    problems = "\n".join(check_feeds(sample))
    assert "<itunes:duration> 60 s klopt niet" in problems
    assert "enclosure-type 'audio/x-m4a' past niet bij .mp3" in problems


def test_duplicate_guid_fails_the_build_and_is_reported(sample: Workspace) -> None:
    _build(sample)
    before = (sample.root / MAIN).read_bytes()
    guid = load_episode(sample, SLUG).guid
    update_episode(sample, "bonus-frietkar", guid=guid)
    with pytest.raises(FeedError, match="komt dubbel voor"):
        _build(sample)
    assert (sample.root / MAIN).read_bytes() == before  # feeds/ left as it was
    # The same problem in a feed on disk is found by `vlinder check`.
    _build(sample, validate=False)
    problems = check_feeds(sample)
    assert any(f"guid '{guid}' komt dubbel voor" in p for p in problems)


def test_non_square_image_fails(sample: Workspace) -> None:
    Image.new("RGB", (1400, 1500), (0, 0, 0)).save(sample.root / "hoes.png")
    text = sample.settings_path.read_text("utf-8")
    sample.settings_path.write_text(text.replace('image = ""', 'image = "hoes.png"'), "utf-8")
    sample = Workspace(sample.root)  # settings are cached per object
    with pytest.raises(FeedError, match="niet vierkant"):
        _build(sample)
    _build(sample, validate=False)
    assert any("niet vierkant (1400x1500 px)" in p for p in check_feeds(sample))


def test_generated_cover(built: Workspace) -> None:
    with Image.open(built.feeds_dir / "cover.png") as img:
        assert img.format == "PNG"
        assert img.size == (3000, 3000)
        assert img.mode == "RGB"


# CLI ------------------------------------------------------------------------------------------


def test_cli_build_and_check(runner, sample: Workspace) -> None:
    # The default tag and taxonomy loaders: no fragments yet, the bundled vlinders.
    result = runner.invoke(cli, ["-w", str(sample.root), "build"])
    assert result.exit_code == 0, result.output
    assert "hoofdfeed: https://podcast.example.org/feeds/podcast.xml" in result.output
    result = runner.invoke(cli, ["-w", str(sample.root), "check"])
    assert result.exit_code == 0, result.output
    assert "in orde" in result.output

    result = runner.invoke(
        cli, ["-w", str(sample.root), "build", "--base-url", "http://localhost:8000"]
    )
    assert result.exit_code == 0, result.output
    assert "geen https" in result.output
    result = runner.invoke(cli, ["-w", str(sample.root), "check"])
    assert result.exit_code == 1
    lines = [line for line in result.stdout.splitlines() if line]
    assert lines and all("http in plaats van https" in line for line in lines)
    assert runner.invoke(cli, ["-w", str(sample.root), "check", "--allow-http"]).exit_code == 0


def test_cli_build_fails_with_one_line(runner, sample: Workspace) -> None:
    guid = load_episode(sample, SLUG).guid
    update_episode(sample, "bonus-frietkar", guid=guid)
    result = runner.invoke(cli, ["-w", str(sample.root), "build"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.startswith("Error: ongeldige feed: ")
    assert len(result.output.strip().splitlines()) == 1
    result = runner.invoke(cli, ["-w", str(sample.root), "build", "--base-url", "geen-url"])
    assert result.exit_code == 1 and "ongeldige basis-URL" in result.output


def test_cli_check_without_feeds(runner, ws: Workspace) -> None:
    result = runner.invoke(cli, ["-w", str(ws.root), "check"])
    assert result.exit_code == 1
    assert "vlinder build" in result.output


def test_publish_marks_stage(sample: Workspace) -> None:
    from pipeline.catalogue import open_catalogue
    from pipeline.flows import build
    from pipeline.service.messages import build_lines

    lines = build_lines(build(sample, base_url="https://podcast.example.org"))
    assert any(line.startswith("feeds: ") for line in lines)
    with open_catalogue(sample) as cat:
        assert cat.stages(SLUG)["publish"]["status"] == "done"


def test_regen_golden_rewrites_only_the_feed_files(tmp_path: Path) -> None:
    """`python -m tests.regen_golden` owns the golden feed files, not the site's pages."""
    from feed_sample import GOLDEN_DIR
    from regen_golden import regen

    site_page = tmp_path / "site" / "index.html"
    site_page.parent.mkdir()
    site_page.write_text("<html>golden page</html>")
    written = regen(tmp_path)
    assert site_page.read_text() == "<html>golden page</html>"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["site", *(p.name for p in written)]
    )
    for path in written:  # the same as the committed golden files
        assert path.read_bytes() == (GOLDEN_DIR / path.name).read_bytes(), path.name
