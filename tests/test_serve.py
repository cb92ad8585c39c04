"""``vlinder serve``: feeds whose URLs answer where they are served, and the headers players in
a browser need (CORS, the chapters' media type)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from lxml import etree
from site_sample import BASE_URL, free_port, make_sample_workspace
from starlette.testclient import TestClient

from pipeline import flows
from pipeline.core.baseurl import base_url, is_local, running_server, served_url, serving
from pipeline.core.errors import WorkspaceError
from pipeline.core.workspace import Workspace, atomic_write_text
from pipeline.service.server import create_app, hosting

ATOM = "{http://www.w3.org/2005/Atom}"
TALK = "een-team-zonder-wij-zij"
VLINDER = Path(sys.executable).with_name("vlinder")


def _local(ws: Workspace, url: str = "http://localhost:8000") -> Workspace:
    """The sample workspace with a local base URL (as ``vlinder init`` makes it)."""
    text = ws.settings_path.read_text(encoding="utf-8")
    atomic_write_text(
        ws.settings_path, text.replace(f'base_url = "{BASE_URL}"', f'base_url = "{url}"')
    )
    return Workspace(ws.root)


def _feed_urls(ws: Workspace, rel: str = "feeds/podcast.xml") -> list[str]:
    root = etree.fromstring((ws.root / rel).read_bytes())
    urls = [root.find(f"channel/{ATOM}link[@rel='self']").get("href")]
    urls += [el.get("url") for el in root.iter("enclosure", "{*}transcript", "{*}chapters")]
    return urls


@pytest.fixture
def sample(tmp_path: Path) -> Workspace:
    return make_sample_workspace(tmp_path / "ws")


def test_addresses() -> None:
    assert served_url("127.0.0.1", 8744) == "http://localhost:8744"
    assert served_url("0.0.0.0", 80) == "http://localhost:80"
    assert served_url("192.168.1.20", 8000) == "http://192.168.1.20:8000"
    assert served_url("fe80::1", 8000) == "http://[fe80::1]:8000"
    for url in ("http://localhost:8000", "http://127.0.0.1:9000/podcast", "http://[::1]:8000"):
        assert is_local(url), url
    for url in ("https://podcast.example.org", "http://192.168.1.20:8000"):
        assert not is_local(url), url


def test_a_build_while_serving_publishes_under_the_servers_address(sample: Workspace) -> None:
    """Every build while the server runs (its own, the watcher's, the producer's, a job's: all
    call flows.build) uses the port it really answers on; afterwards the setting is back."""
    ws = _local(sample)
    with hosting(ws, "127.0.0.1", 8744) as url:
        assert url == "http://localhost:8744"
        assert running_server(ws) == url
        flows.build(Workspace(ws.root))  # a fresh workspace, as a job or another process has
        urls = _feed_urls(ws) + _feed_urls(ws, "feeds/vertrouwen-winnen.xml")
        assert len(urls) > 10
        assert all(u.startswith("http://localhost:8744/") for u in urls), urls
        home = (ws.site_dir / "index.html").read_text(encoding="utf-8")
        assert "http://localhost:8744/feeds/podcast.xml" in home  # the subscribe buttons
        assert "localhost:8000" not in home
        # --base-url still wins
        assert base_url(ws, "https://cdn.example.net") == "https://cdn.example.net"
    assert running_server(ws) is None
    assert not (ws.state_dir / "serve.json").exists()
    assert base_url(ws) == "http://localhost:8000"


def test_a_public_base_url_is_never_replaced(sample: Workspace) -> None:
    with hosting(sample, "127.0.0.1", 8744) as url:
        assert url == "http://localhost:8744"
        assert running_server(sample) is None  # nothing recorded
        flows.build(sample)
    assert all(u.startswith(f"{BASE_URL}/") for u in _feed_urls(sample))


def test_a_stale_record_is_ignored_and_a_second_server_refused(sample: Workspace) -> None:
    ws = _local(sample)
    ws.state_dir.mkdir(parents=True, exist_ok=True)
    (ws.state_dir / "serve.json").write_text(json.dumps({"url": "http://localhost:9999"}))
    assert running_server(ws) is None  # a killed server: nobody holds the lock
    assert base_url(ws) == "http://localhost:8000"
    with serving(ws, "http://localhost:8744"):
        refused = pytest.raises(WorkspaceError, match="draait al .*http://localhost:8744")
        with refused, serving(ws, "http://localhost:8745"):
            pass  # pragma: no cover
        assert base_url(ws) == "http://localhost:8744"


def test_cors_and_the_chapters_media_type(sample: Workspace) -> None:
    """Players in a browser fetch feeds, transcripts, chapters and audio from another site."""
    flows.build(sample)
    client = TestClient(create_app(sample))
    origin = {"Origin": "https://speler.example.net"}
    for path in (
        "/feeds/podcast.xml",
        f"/feeds/chapters/{TALK}.json",
        f"/transcripts/{TALK}.vtt",
        f"/transcripts/{TALK}.html",
        f"/transcripts/{TALK}.podcast.json",
        f"/episodes/{TALK}/{TALK}.mp3",
        f"/feeds/audio/vertrouwen-winnen/{TALK}.mp3",
    ):
        response = client.get(path, headers=origin)
        assert response.status_code == 200, path
        assert response.headers["access-control-allow-origin"] == "*", path
    chapters = client.get(f"/feeds/chapters/{TALK}.json")
    assert chapters.headers["content-type"] == "application/json+chapters"
    assert json.loads(chapters.content)["version"] == "1.2.0"
    html = client.get(f"/transcripts/{TALK}.html")
    assert html.headers["content-type"].startswith("text/html")
    assert '<time datetime="PT0S">0:00</time>\n<p>Welkom allemaal.' in html.text
    ranged = client.get(f"/episodes/{TALK}/{TALK}.mp3", headers={**origin, "Range": "bytes=0-9"})
    assert ranged.status_code == 206
    assert "content-range" in ranged.headers["access-control-expose-headers"].lower()
    # the site's pages and the producer area are not shared with other sites
    assert "access-control-allow-origin" not in client.get("/").headers


def _wait_for(check, proc: subprocess.Popen, what: str, timeout: float = 180.0):
    """Poll ``check()`` until it returns a value (the server answers, a rebuild is there)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"vlinder serve stopped ({proc.returncode}): {proc.stdout.read()}")
        try:
            found = check()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s")


@pytest.mark.slow
def test_serve_on_another_port_serves_feeds_that_answer_there(sample: Workspace) -> None:
    """``vlinder serve --port N --watch``: the feeds, the subscribe buttons and a rebuild by the
    watcher all point at port N, and every URL in the feeds answers there."""
    ws = _local(sample)
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [str(VLINDER), "-w", str(ws.root), "serve", "--port", str(port), "--watch"]
        + ["--no-producer"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    local = f"http://localhost:{port}"
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

            def feed() -> bytes | None:
                response = client.get("/feeds/podcast.xml")
                return response.content if response.status_code == 200 else None

            root = etree.fromstring(_wait_for(feed, proc, "the server answering"))
            assert root.find(f"channel/{ATOM}link[@rel='self']").get("href") == (
                f"{local}/feeds/podcast.xml"
            )
            urls = _feed_urls(ws) + _feed_urls(ws, "feeds/vertrouwen-winnen.xml")
            assert all(u.startswith(f"{local}/") for u in urls), urls
            for url in urls:  # every enclosure, transcript, chapters file answers
                assert client.head(url.removeprefix(local)).status_code == 200, url
            assert f"{local}/feeds/podcast.xml" in client.get("/").text
            # `vlinder build` in another process while the server runs: the same address
            subprocess.run([str(VLINDER), "-w", str(ws.root), "build"], check=True, env=env)
            assert all(u.startswith(f"{local}/") for u in _feed_urls(ws))
            # a rebuild by the watcher keeps the address too
            episode = ws.episode_file(TALK)
            text = episode.read_text(encoding="utf-8")
            episode.write_text(text.replace("Eén team, zonder wij-zij", "Eén team, opnieuw"))
            _wait_for(lambda: b"opnieuw" in (feed() or b""), proc, "the rebuild")
            assert all(u.startswith(f"{local}/") for u in _feed_urls(ws))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
    assert not (ws.state_dir / "serve.json").exists()
    assert base_url(ws) == "http://localhost:8000"
