"""Feed details apps use: season and episode numbers (``[podcast] seasons``), ``podcast:locked``,
the WebSub hub (``[podcast] websub_hub``, against a local stub hub over HTTP), and no feed for
a vlinder without episodes (on the site neither). Numbers read back with podcastparser and
feedparser; feedparser keeps an element's text only when it has no attributes, so it reads
``podcast:episode`` but not ``podcast:season name="..."``."""

from __future__ import annotations

import datetime as dt
import io
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import podcastparser
import pytest
from feed_sample import BASE_URL, FRAGMENTS, VLINDERS, make_sample_workspace, sample_fragments
from lxml import etree

from pipeline.cli import cli
from pipeline.core.episodes import load_episode, save_episode
from pipeline.core.errors import WorkspaceError
from pipeline.core.models import Episode, Fragment, Tag
from pipeline.core.workspace import Workspace
from pipeline.feed import notify_hub, publish
from pipeline.feed.numbers import EpisodeNumber, number_episodes
from pipeline.feed.podcast_ext import PODCAST_NS
from pipeline.tagging.store import write_tags_file

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": PODCAST_NS,
    "atom": "http://www.w3.org/2005/Atom",
}


def _settings(ws: Workspace, **values: str | bool) -> Workspace:
    """Set keys of [podcast] in vlinder.toml (init writes every key)."""
    text = ws.settings_path.read_text("utf-8")
    for key, value in values.items():
        old = next(line for line in text.splitlines() if line.startswith(f"{key} = "))
        new = f"{key} = {str(value).lower()}" if isinstance(value, bool) else f'{key} = "{value}"'
        text = text.replace(old, new)
    ws.settings_path.write_text(text, "utf-8")
    return Workspace(ws.root)


def _ep(slug: str, date: str, event: str = "", kind: str = "full", **kw: int) -> Episode:
    return Episode(
        slug=slug,
        title=slug,
        date=dt.date.fromisoformat(date),
        guid=slug,
        event=event,
        episode_type=kind,
        **kw,  # type: ignore[arg-type]
    )


# --- numbers --------------------------------------------------------------------------------
EPISODES = [
    _ep("c", "2025-03-01", "Symposium 2025"),
    _ep("a", "2024-05-01", "Symposium 2024"),
    _ep("b", "2024-06-01", "Symposium 2024"),
    _ep("bonus", "2024-07-01", "Symposium 2024", kind="bonus"),
    _ep("d", "2025-04-01"),
]


def test_seasons_by_year() -> None:
    got = number_episodes(EPISODES, "year")
    assert got["a"] == EpisodeNumber(2024, "2024", 1)
    assert got["b"] == EpisodeNumber(2024, "2024", 2)
    assert got["bonus"] == EpisodeNumber(2024, "2024", None)  # bonus: no number
    assert got["c"] == EpisodeNumber(2025, "2025", 1)
    assert got["d"] == EpisodeNumber(2025, "2025", 2)


def test_seasons_by_event_and_none_and_episode_toml_wins() -> None:
    got = number_episodes(EPISODES, "event")
    assert got["a"] == EpisodeNumber(1, "Symposium 2024", 1)
    assert got["b"] == EpisodeNumber(1, "Symposium 2024", 2)
    assert got["c"] == EpisodeNumber(2, "Symposium 2025", 1)
    assert got["d"] == EpisodeNumber(None, "", 1)  # no event: no season, numbered apart
    assert set(number_episodes(EPISODES, "none").values()) == {EpisodeNumber()}
    manual = [*EPISODES, _ep("e", "2025-05-01", season=7, episode_number=3)]
    assert number_episodes(manual, "year")["e"] == EpisodeNumber(7, "", 3)
    assert number_episodes(manual, "none")["e"] == EpisodeNumber(7, "", 3)


def test_a_bad_seasons_setting_is_one_clear_line(tmp_path: Path) -> None:
    ws = make_sample_workspace(tmp_path / "ws")
    with pytest.raises(WorkspaceError, match=r"\[podcast\] seasons moet year, event of none"):
        _ = _settings(ws, seasons="maand").settings
    with pytest.raises(WorkspaceError, match=r"websub_hub moet een http\(s\)-URL zijn"):
        _ = _settings(ws, seasons="year", websub_hub="hub.example.org").settings


def test_numbers_and_locked_read_back_by_the_client_libraries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _settings(make_sample_workspace(tmp_path / "ws"), seasons="event", locked=False)
    publish(ws, fragments=sample_fragments, vlinders=VLINDERS)
    data = (ws.feeds_dir / "podcast.xml").read_bytes()
    monkeypatch.setitem(podcastparser.Namespace.NAMESPACES, PODCAST_NS, "podcast")
    feed = podcastparser.parse(f"{BASE_URL}/feeds/podcast.xml", io.BytesIO(data))
    assert feed["import_prohibited"] is False  # podcast:locked no
    eps = {e["link"].rstrip("/").rsplit("/", 1)[1]: e for e in feed["episodes"]}
    # the sample's two numbered episodes keep their episode.toml numbers; the bonus episode
    # has no event, so no season, and no number
    assert (eps["ja-durven-zeggen"]["season"], eps["ja-durven-zeggen"]["number"]) == (1, 1)
    assert eps["bonus-frietkar"].get("season", 0) == 0 and eps["bonus-frietkar"]["type"] == "bonus"
    entries = {e.link.rstrip("/").rsplit("/", 1)[1]: e for e in feedparser.parse(data).entries}
    assert entries["een-team-zonder-wij-zij"].itunes_season == "1"
    assert entries["een-team-zonder-wij-zij"].itunes_episode == "2"
    assert entries["een-team-zonder-wij-zij"].podcast_episode == "2"
    root = etree.fromstring(data)
    assert root.findtext("channel/podcast:locked", namespaces=NS) == "no"


def test_automatic_numbers_in_the_feed(tmp_path: Path) -> None:
    ws = _settings(make_sample_workspace(tmp_path / "ws"), seasons="event")
    for slug in ("een-team-zonder-wij-zij", "ja-durven-zeggen"):  # drop the manual numbers
        ep = load_episode(ws, slug)
        save_episode(ws, Episode(**{**ep.__dict__, "season": None, "episode_number": None}))
    publish(ws, fragments=sample_fragments, vlinders=VLINDERS)
    root = etree.fromstring((ws.feeds_dir / "podcast.xml").read_bytes())
    got = {
        item.findtext("link").rstrip("/").rsplit("/", 1)[1]: (
            item.findtext("itunes:season", namespaces=NS),
            item.findtext("itunes:episode", namespaces=NS),
            item.find("podcast:season", NS).get("name"),
            item.findtext("podcast:episode", namespaces=NS),
        )
        for item in root.iter("item")
        if item.find("podcast:season", NS) is not None
    }
    assert got == {  # "Symposium" (1 February) came before the other (14 March)
        "ja-durven-zeggen": ("1", "1", "Symposium", "1"),
        "een-team-zonder-wij-zij": ("2", "1", "Symposium Dijkversterking 2025", "1"),
    }
    assert root.find("channel/podcast:locked", NS).get("owner") == "podcast@example.org"


# --- WebSub ---------------------------------------------------------------------------------
class _Hub(BaseHTTPRequestHandler):
    pings: list[dict[str, list[str]]] = []
    answer = 204

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode("ascii")
        type(self).pings.append(parse_qs(body))
        self.send_response(type(self).answer)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def hub() -> Iterator[tuple[str, type[_Hub]]]:
    handler = type("Hub", (_Hub,), {"pings": [], "answer": 204})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hub", handler
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tagged(ws: Workspace) -> Workspace:
    for slug, (chapters, fragments) in FRAGMENTS.items():
        write_tags_file(ws, slug, "sample", chapters, fragments)
    return ws


def test_publishing_notifies_the_hub_of_the_changed_feeds(runner, tmp_path: Path, hub) -> None:
    url, handler = hub
    ws = _tagged(_settings(make_sample_workspace(tmp_path / "ws"), websub_hub=url))
    result = runner.invoke(cli, ["-w", str(ws.root), "build"])
    assert result.exit_code == 0, result.output
    feeds = sorted(f"{BASE_URL}/feeds/{p.name}" for p in ws.feeds_dir.glob("*.xml"))
    assert sorted(p["hub.url"][0] for p in handler.pings) == feeds
    assert all(p["hub.mode"] == ["publish"] for p in handler.pings)
    assert f"WebSub-hub {url} gemeld: {len(feeds)} feed(s) bijgewerkt" in result.output
    for path in ws.feeds_dir.glob("*.xml"):
        link = etree.parse(str(path)).find("channel/atom:link[@rel='hub']", NS)
        assert link is not None and link.get("href") == url
    # nothing changed: no news for the hub
    handler.pings.clear()
    result = runner.invoke(cli, ["-w", str(ws.root), "build"])
    assert result.exit_code == 0 and handler.pings == [] and "WebSub" not in result.output


def test_a_hub_that_cannot_be_reached_does_not_stop_publishing(runner, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/hub"
    ws = _settings(make_sample_workspace(tmp_path / "ws"), websub_hub=url)
    result = runner.invoke(cli, ["-w", str(ws.root), "build"])
    assert result.exit_code == 0, result.output
    assert (ws.feeds_dir / "podcast.xml").is_file() and (ws.root / "site/index.html").is_file()
    lines = [line for line in result.output.splitlines() if "WebSub" in line]
    assert len(lines) == 1
    assert lines[0].startswith(f"let op: WebSub-hub {url} niet bereikbaar (")
    assert "de feeds zijn wel gepubliceerd" in lines[0]


def test_a_hub_that_refuses_is_reported_with_its_status(hub) -> None:
    url, handler = hub
    handler.answer = 500
    notice = notify_hub(url, ["https://x.example.org/feeds/podcast.xml", "https://x/2.xml"])
    assert (notice.ok, notice.status) == (False, 500)
    assert len(handler.pings) == 1  # stops at the first failure


# --- empty vlinder feeds --------------------------------------------------------------------
def test_a_vlinder_without_episodes_has_no_feed_and_is_not_offered(runner, tmp_path: Path) -> None:
    ws = _tagged(make_sample_workspace(tmp_path / "ws"))
    ws.taxonomy_path.write_text(
        (Path(__file__).resolve().parent.parent / "taxonomy.toml").read_text("utf-8"), "utf-8"
    )
    result = runner.invoke(cli, ["-w", str(ws.root), "build"])
    assert result.exit_code == 0, result.output
    written = {p.name for p in ws.feeds_dir.glob("*.xml")}
    assert written == {"podcast.xml", "vertrouwen-winnen.xml", "ja-durven-zeggen.xml"}
    home = (ws.root / "site/index.html").read_text("utf-8")
    assert 'href="feeds/vertrouwen-winnen.xml"' in home
    assert "feeds/klompje-goud.xml" not in home
    # its first episode brings the feed (and the link) back
    write_tags_file(
        ws,
        "bonus-frietkar",
        "sample",
        (),
        (Fragment(0, 0.0, 3.0, "Kennis.", (Tag("kennis-actief-delen", 1.0),), 0),),
    )
    result = runner.invoke(cli, ["-w", str(ws.root), "build"])
    assert result.exit_code == 0, result.output
    assert (ws.feeds_dir / "klompje-goud.xml").is_file()
    assert 'href="feeds/klompje-goud.xml"' in (ws.root / "site/index.html").read_text("utf-8")
