"""End to end: the real ``vlinder`` CLI on the bundled sample recordings in a fresh workspace.

Two clips come with their exact transcript (``--transcript samples/<name>.vtt``), the shortest
clip is transcribed by the real Whisper engine (bundled model, loaded once). Then list, build,
check, search, the feed read back with feedparser, the site pages, a duplicate add, an
incremental rebuild, and removing an episode and rebuilding.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner, Result

from pipeline.catalogue import STAGES
from pipeline.cli import cli
from pipeline.core.workspace import Workspace

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
BASE_URL = "https://podcast.example.org"


def _duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


def _clips() -> list[dict[str, Any]]:
    return tomllib.loads((SAMPLES / "samples.toml").read_text("utf-8"))["clips"]


def vlinder(runner: CliRunner, ws: Workspace, *args: str) -> Result:
    return runner.invoke(cli, ["-w", str(ws.root), *(str(a) for a in args)])


def add_args(clip: dict[str, Any], *, transcript: bool) -> list[str]:
    args = [str(SAMPLES / clip["file"]), "--title", clip["title"], "--date", clip["date"]]
    for speaker in clip["speakers"]:
        args += ["--speaker", speaker]
    args += ["--event", clip["event"], "--kind", clip["kind"]]
    args += ["--description", clip["description"]]
    if transcript:
        args += ["--transcript", str(SAMPLES / clip["transcript"])]
    return args


def list_rows(result: Result) -> dict[str, list[str]]:
    """``vlinder list`` as {slug: [stage statuses in STAGES order]}."""
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["slug", "datum", "titel", "duur"]
    rows = {}
    for line in lines[1:]:
        cells = line.split()
        rows[cells[0]] = cells[-len(STAGES) :]
    return rows


def feed_urls(feed: Any) -> list[str]:
    """Every URL of an episode in a parsed feed that must be served from the site."""
    urls = []
    for entry in feed.entries:
        urls += [e.href for e in entry.enclosures]
        urls.append(entry.link)
    return urls


def site_file(ws: Workspace, url: str) -> Path:
    assert url.startswith(BASE_URL + "/"), url
    path = ws.root / "site" / url[len(BASE_URL) + 1 :]
    return path / "index.html" if url.endswith("/") else path


def search_json(runner: CliRunner, ws: Workspace, *args: str) -> dict[str, Any]:
    result = vlinder(runner, ws, "search", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_samples_end_to_end(runner: CliRunner, ws: Workspace, models_dir: Path) -> None:
    clips = {c["name"]: c for c in _clips()}
    shortest = min(clips.values(), key=lambda c: _duration(SAMPLES / c["file"]))
    with_vtt = [c for c in clips.values() if c is not shortest and c["kind"] == "talk"][:2]
    assert len(with_vtt) == 2

    # --- add: two clips with their exact transcript, the shortest with real Whisper ----------
    slugs: dict[str, str] = {}
    for clip in with_vtt:
        result = vlinder(runner, ws, "add", *add_args(clip, transcript=True))
        assert result.exit_code == 0, result.output
        slugs[clip["name"]] = result.stdout.splitlines()[0]
        assert "Transcript geïmporteerd" in result.stdout
        assert "Getagd" in result.stdout
    result = vlinder(runner, ws, "add", *add_args(shortest, transcript=False))
    assert result.exit_code == 0, result.output
    whisper_slug = result.stdout.splitlines()[0]
    slugs[shortest["name"]] = whisper_slug
    assert "Getranscribeerd" in result.stdout
    data = json.loads((ws.root / "transcripts" / f"{whisper_slug}.json").read_text("utf-8"))
    assert data["engine"] == "faster-whisper" and data["language"] == "nl"
    assert data["segments"] and " ".join(s["text"] for s in data["segments"]).strip()

    # --- list: every stage up to tag done, nothing published yet -----------------------------
    result = vlinder(runner, ws, "list")
    assert result.exit_code == 0, result.output
    rows = list_rows(result)
    assert set(rows) == set(slugs.values())
    for slug, statuses in rows.items():
        for stage, status in zip(STAGES, statuses, strict=True):
            if stage != "publish":
                assert status == "✓", (slug, stage, statuses)

    # --- build and check -----------------------------------------------------------------------
    result = vlinder(runner, ws, "build", "--base-url", BASE_URL)
    assert result.exit_code == 0, result.output
    result = vlinder(runner, ws, "check")
    assert result.exit_code == 0, result.output
    assert "in orde" in result.stdout
    rows = list_rows(vlinder(runner, ws, "list"))
    assert all(statuses == ["✓"] * len(STAGES) for statuses in rows.values()), rows

    # --- the feed, read back by a podcast client library ---------------------------------------
    main_feed = ws.root / "feeds" / "podcast.xml"
    feed = feedparser.parse(main_feed.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.language == "nl"
    titles = {e.title for e in feed.entries}
    assert titles == {c["title"] for c in clips.values() if c["name"] in slugs}
    for entry in feed.entries:
        (enclosure,) = entry.enclosures
        assert enclosure.type == "audio/mpeg"
        served = site_file(ws, enclosure.href)
        assert served.is_file(), enclosure.href
        assert int(enclosure.length) == served.stat().st_size
    for url in feed_urls(feed):
        assert site_file(ws, url).is_file(), url

    # --- the site: one page per episode with its title and transcript --------------------------
    site = ws.root / "site"
    assert (site / "index.html").is_file()
    for name, slug in slugs.items():
        page = (site / "afleveringen" / slug / "index.html").read_text("utf-8")
        assert clips[name]["title"].split(":")[0] in page
        assert (site / "transcripts" / f"{slug}.vtt").is_file()
    klompje = (site / "afleveringen" / slugs["klompje-goud"] / "index.html").read_text("utf-8")
    assert "klompje goud in een la" in klompje

    # --- search: another word form finds the right episode and moment --------------------------
    # samples/klompje-goud.vtt, 00:00:15.042: "Die samenwerkingsvorm heeft een grote meerwaarde"
    found = search_json(runner, ws, "samenwerkingsvormen")
    top = found["hits"][0]
    assert top["episode"] == slugs["klompje-goud"], found["hits"]
    assert top["start"] <= 15.1 and top["end"] >= 15.0
    # 00:00:20.607: "Maar die waarde krijg je pas als je het actief uitdraagt."
    found = search_json(runner, ws, "uitgedragen")
    top = found["hits"][0]
    assert top["episode"] == slugs["klompje-goud"], found["hits"]
    assert top["start"] <= 20.7 and top["end"] >= 20.6

    ingredient = "kennis-actief-delen"
    found = search_json(runner, ws, "--ingredient", ingredient)
    assert found["hits"]
    assert all(ingredient in h["ingredients"] for h in found["hits"])
    assert slugs["klompje-goud"] in {h["episode"] for h in found["hits"]}
    result = vlinder(runner, ws, "search", "--ingredient", ingredient)
    assert result.exit_code == 0, result.output
    assert f"[{slugs['klompje-goud']} @ " in result.stdout

    # --- the same recording again: a duplicate, nothing changes --------------------------------
    episodes_before = sorted(p.name for p in (ws.root / "episodes").iterdir())
    result = vlinder(runner, ws, "add", str(SAMPLES / shortest["file"]))
    assert result.exit_code == 3, result.output
    assert f"'{whisper_slug}'" in result.output
    assert sorted(p.name for p in (ws.root / "episodes").iterdir()) == episodes_before

    # --- a second build changes nothing --------------------------------------------------------
    feed_before = main_feed.read_bytes()
    result = vlinder(runner, ws, "build", "--base-url", BASE_URL)
    assert result.exit_code == 0, result.output
    assert " 0 bestand(en) bijgewerkt" in result.stdout
    assert " 0 bijgewerkt" in result.stdout
    assert main_feed.read_bytes() == feed_before

    # --- remove an episode, rebuild: gone from feed, site and search ---------------------------
    gone = slugs["klompje-goud"]
    result = vlinder(runner, ws, "remove", gone, "--yes")
    assert result.exit_code == 0, result.output
    result = vlinder(runner, ws, "build", "--base-url", BASE_URL)
    assert result.exit_code == 0, result.output
    assert vlinder(runner, ws, "check").exit_code == 0
    feed = feedparser.parse(main_feed.read_bytes())
    assert not feed.bozo, feed.bozo_exception
    assert len(feed.entries) == len(slugs) - 1
    assert clips["klompje-goud"]["title"] not in {e.title for e in feed.entries}
    for xml in (ws.root / "feeds").glob("*.xml"):
        assert gone not in xml.read_text("utf-8"), xml.name
    assert not (site / "afleveringen" / gone).exists()
    assert not (site / "episodes" / gone).exists()
    assert not list((site / "transcripts").glob(f"{gone}.*"))
    for page in site.rglob("*.html"):
        assert f"/{gone}/" not in page.read_text("utf-8"), page
    found = search_json(runner, ws, "samenwerkingsvormen")
    assert gone not in {h["episode"] for h in found["hits"]}
    rows = list_rows(vlinder(runner, ws, "list"))
    assert set(rows) == set(slugs.values()) - {gone}
