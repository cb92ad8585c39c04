"""The static site: pages checked with selectors (XPath), escaping, links, incremental builds,
golden pages, the search shards, and the server (HTTP Range, watch)."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest
from PIL import Image
from site_sample import (
    BASE_URL,
    GOLDEN_DIR,
    GOLDEN_PAGES,
    INTERVIEW,
    make_sample_workspace,
)
from starlette.testclient import TestClient

from pipeline.core.episodes import load_episode, save_episode
from pipeline.core.models import Episode
from pipeline.core.timefmt import clock, seconds_value
from pipeline.core.workspace import Workspace, atomic_write_bytes
from pipeline.service.messages import site_lines
from pipeline.service.server import Watcher, create_app, snapshot
from pipeline.site import build, pagefind, writer
from pipeline.site import records as records_mod
from pipeline.site.inputs import collect
from pipeline.site.pagefind import assign_shards
from pipeline.site.pages import plan

TALK_PAGE = "afleveringen/een-team-zonder-wij-zij/index.html"
SKIP = ("pagefind", "transcripts")


@pytest.fixture
def sample(tmp_path: Path) -> Workspace:
    ws = make_sample_workspace(tmp_path / "ws")
    build(ws, base_url=BASE_URL)
    return ws


def doc(ws: Workspace, rel: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((ws.site_dir / rel).read_bytes())


def site_pages(ws: Workspace) -> list:
    return plan(collect(ws, base_url=BASE_URL))


def manifest(ws: Workspace) -> dict:
    return json.loads((ws.state_dir / writer.MANIFEST).read_text())


def test_time_formats() -> None:
    assert clock(0) == "0:00"
    assert clock(754.9) == "12:34"
    assert clock(3723) == "1:02:03"
    assert seconds_value(754.0) == "754"
    assert seconds_value(754.25) == "754.2" or seconds_value(754.25) == "754.3"
    assert seconds_value(-1) == "0"


def test_every_page_is_dutch_accessible_and_links_resolve(sample: Workspace) -> None:
    pages = sorted(sample.site_dir.rglob("*.html"))
    # the site's pages (not Pagefind's, nor the HTML transcripts)
    pages = [p for p in pages if p.relative_to(sample.site_dir).parts[0] not in SKIP]
    assert len(pages) >= 20
    for path in pages:
        rel = path.relative_to(sample.site_dir).as_posix()
        d = lxml.html.fromstring(path.read_bytes())
        assert d.get("lang") == "nl", rel
        # every page has a meta description, and the tags for a shared link's card
        assert d.xpath("//meta[@name='description']/@content")[0].strip(), rel
        assert d.xpath("//meta[@property='og:title']/@content")[0].strip(), rel
        assert d.xpath("//meta[@property='og:url']/@content") == [
            f"{BASE_URL}/{rel.removesuffix('index.html')}"
        ], rel
        assert d.xpath("//meta[@name='twitter:card']/@content") == ["summary"], rel
        assert d.xpath("//a[@class='skiplink']/@href") == ["#inhoud"], rel
        assert d.xpath("//main[@id='inhoud']"), rel
        assert d.xpath("//nav[@aria-label='Hoofdmenu']"), rel
        assert d.xpath("//meta[@name='viewport']"), rel
        assert len(d.xpath("//h1")) == 1, rel
        for attr in ("href", "src"):
            for link in d.xpath(f"//*[@{attr}]/@{attr}"):
                if "://" in link or link.startswith("#") or ":" in link.split("/")[0]:
                    continue
                target = urlsplit(link).path
                resolved = (path.parent / unquote(target)).resolve()
                if target.endswith("/") or target == "":
                    resolved = resolved / "index.html"
                assert resolved.exists(), f"{rel}: {link}"
        ids = d.xpath("//@id")
        assert len(ids) == len(set(ids)), f"{rel}: duplicate ids"
        for labelled in d.xpath("//*[@aria-labelledby]/@aria-labelledby"):
            assert labelled in ids, f"{rel}: aria-labelledby {labelled}"


def test_episode_page(sample: Workspace) -> None:
    d = doc(sample, TALK_PAGE)
    audio = d.xpath("//audio[@id='audio']")[0]
    assert audio.get("src") == "../../episodes/een-team-zonder-wij-zij/een-team-zonder-wij-zij.mp3"
    assert audio.get("controls") is not None
    assert d.xpath("//p[@class='sprekers']/a/text()") == ["Anna de Vries", "Kees Jansen"]
    assert "één team werden" in d.xpath("string(//section[@aria-labelledby='samenvatting'])")
    # chapters with timestamps
    chapters = d.xpath("//nav[@aria-labelledby='hoofdstukken']//li")
    assert [c.xpath("string(a[@class='tijd'])") for c in chapters] == ["0:00", "0:40"]
    assert "Samen de risico's dragen" in chapters[1].text_content()
    # every fragment: a heading with id f<index> and a timestamp that plays from there
    heading = d.xpath("//h4[@id='f2']")[0]
    link = heading.xpath("a[@class='tijd']")[0]
    # ... and plays that fragment only: #t=START,END (the form Podlove and Podigee use)
    assert link.get("href") == "#t=27,40" and link.get("data-start") == "27"
    assert link.get("data-end") == "40"
    share = heading.getparent().xpath(".//button[@data-deel]")[0]
    assert share.get("data-deel") == "#t=27,40" and "Deel dit fragment" in share.text_content()
    assert "Sociale binding" in heading.text_content()
    assert heading.getparent().get("data-start") == "27"
    assert "frietkar" in heading.getparent().text_content()
    assert len(d.xpath("//div[@class='transcript-tekst']//h4[starts-with(@id, 'f')]")) == 5
    assert d.xpath("//button[@id='deel-vanaf-hier']")  # share the player's moment
    # fragments grouped by chapter
    assert d.xpath("//section[@aria-labelledby='h2']//h4/@id") == ["f3", "f4"]
    # ingredient timeline: a bar with a mark per fragment, and a text alternative
    row = d.xpath("//li[@data-ingredient='een-team']")[0]
    marks = row.xpath(".//div[@class='tijdlijn' and @aria-hidden='true']/a[@class='markering']")
    assert [m.get("href") for m in marks] == ["#f1", "#f2"]
    assert "left: 17.5%" in marks[0].get("style")
    assert row.xpath(".//p[@class='tijdlijn-tijden']/a/@href") == ["#t=14,27", "#t=27,40"]
    # downloads
    assert d.xpath("//p[@class='downloads']/a/@href") == [
        f"../../transcripts/een-team-zonder-wij-zij.{ext}" for ext in ("vtt", "srt", "txt", "json")
    ]
    # the search index is built from records (test_search_records_are_fragments), not the page
    assert not d.xpath("//*[@data-pagefind-filter or @data-pagefind-body or @data-pagefind-meta]")
    # the audio's captions: the WebVTT transcript
    track = audio.xpath("track")[0]
    assert (track.get("kind"), track.get("srclang"), track.get("default")) == (
        "captions",
        "nl",
        "",
    )
    assert track.get("src") == "../../transcripts/een-team-zonder-wij-zij.vtt"
    # a shared link shows the episode with its player
    assert d.xpath("//meta[@property='og:type']/@content") == ["article"]
    assert d.xpath("//meta[@property='og:title']/@content") == ["Eén team, zonder wij-zij"]
    assert d.xpath("//meta[@property='og:audio']/@content") == [
        f"{BASE_URL}/episodes/een-team-zonder-wij-zij/een-team-zonder-wij-zij.mp3"
    ]
    assert d.xpath("//meta[@property='og:audio:type']/@content") == ["audio/mpeg"]
    description = d.xpath("//meta[@name='description']/@content")
    assert description == d.xpath("//meta[@property='og:description']/@content")
    assert description[0].startswith("Hoe opdrachtgever en opdrachtnemer")


def test_pages_without_a_description_get_one(sample: Workspace) -> None:
    """An episode, ingredient or vlinder without a description of its own, and the lists."""
    save_episode(sample, replace(load_episode(sample, "dijk-en-dialoog"), description=""))
    build(sample, base_url=BASE_URL)

    def description(rel: str) -> str:
        return doc(sample, rel).xpath("string(//meta[@name='description']/@content)")

    assert description("afleveringen/dijk-en-dialoog/index.html") == (
        "Een lezing met Kees Jansen in Het klompje goud, 20 januari 2025: beluister het, "
        "met het transcript."
    )
    assert description("afleveringen/index.html").startswith("Alle 3 afleveringen van ")
    assert description("sprekers/anna-de-vries/index.html") == (
        "De afleveringen met Anna de Vries in Het klompje goud, over onder meer Eén team, "
        "Sociale binding, Bestuurlijk lef."
    )
    for rel in ("sprekers/index.html", "zoeken/index.html", "vlinders/index.html"):
        assert "Het klompje goud" in description(rel), rel


def test_ingredients_overview_page(sample: Workspace) -> None:
    """``/ingredienten/`` answers: every ingredient, A to Z, with its vlinder."""
    d = doc(sample, "ingredienten/index.html")
    assert d.xpath("string(//h1)") == "Ingrediënten"
    names = d.xpath("//ul[@class='ingredienten-lijst']/li/a/text()")
    assert len(names) == len(list((sample.site_dir / "ingredienten").glob("*/index.html")))
    assert names == sorted(names, key=str.casefold) and "Sociale binding" in names
    item = d.xpath("//li[a='Sociale binding']")[0]
    assert "(2 fragmenten)" in item.text_content()
    assert "Vertrouwen winnen met de alliantie" in item.text_content()
    assert "ingredienten/" in doc(sample, "vlinders/index.html").xpath("//main//a/@href")[0]
    client = TestClient(create_app(sample))
    assert client.get("/ingredienten/").status_code == 200


def test_favicon_and_headers_for_static_hosts(sample: Workspace) -> None:
    icon = sample.site_dir / "favicon.ico"
    with Image.open(icon) as img:
        assert img.format == "ICO" and {(16, 16), (32, 32)} <= img.info["sizes"]
    assert doc(sample, TALK_PAGE).xpath("//link[@rel='icon']/@href") == ["../../favicon.ico"]
    client = TestClient(create_app(sample))
    assert client.get("/favicon.ico").status_code == 200
    headers = (sample.site_dir / "_headers").read_text()
    assert "/feeds/chapters/*\n  Content-Type: application/json+chapters" in headers
    assert "/transcripts/*\n  Access-Control-Allow-Origin: *" in headers
    before = {p: p.stat().st_mtime_ns for p in (icon, sample.site_dir / "_headers")}
    build(sample, base_url=BASE_URL)
    assert {p: p.stat().st_mtime_ns for p in before} == before  # written once


def test_home_page_shares_the_cover(tmp_path: Path) -> None:
    from pipeline.flows import build as build_all

    ws = make_sample_workspace(tmp_path / "ws")
    build_all(ws, base_url=BASE_URL)
    d = doc(ws, "index.html")
    assert d.xpath("//meta[@property='og:type']/@content") == ["website"]
    assert d.xpath("//meta[@property='og:title']/@content") == ["Het klompje goud"]
    cover = f"{BASE_URL}/feeds/cover.png"
    assert d.xpath("//meta[@property='og:image']/@content") == [cover]
    assert d.xpath("//meta[@name='twitter:image']/@content") == [cover]
    assert (ws.site_dir / "feeds" / "cover.png").exists()
    episode = doc(ws, TALK_PAGE)
    assert episode.xpath("//meta[@property='og:image']/@content") == [cover]


def test_user_text_is_escaped(sample: Workspace) -> None:
    raw = (sample.site_dir / "afleveringen/dijk-en-dialoog/index.html").read_text()
    assert "<script>alert" not in raw
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in raw
    d = doc(sample, "afleveringen/dijk-en-dialoog/index.html")
    assert d.xpath("string(//h1)") == "Dijk & dialoog <script>alert('titel')</script>"
    assert not d.xpath("//main//script") and not d.xpath("//main//b")
    for rel in ("index.html", "afleveringen/index.html", "sprekers/kees-jansen/index.html"):
        assert "<script>alert" not in (sample.site_dir / rel).read_text()


def test_search_terms_add_dictionary_forms_and_compound_parts() -> None:
    terms = pagefind.search_terms("En het sporttoernooi en drie symposia, met de frietkar.").split()
    assert {"sport", "toernooi", "symposium", "friet", "kar"} <= set(terms)
    # words Pagefind finds by its own stemming, and stopwords, are left out
    assert not {"sporttoernooi", "symposia", "het", "en", "de"} & set(terms)
    assert pagefind.search_terms("") == ""


def test_search_records_are_fragments(sample: Workspace) -> None:
    """One search record per fragment: its link plays the fragment, its filters are its own
    (the speaker who speaks in it, its ingredients), and the extra index words are in it."""
    content = next(
        p.content
        for p in site_pages(sample)
        if getattr(p.content, "card", None) and p.content.card.slug == "symposia-en-leergroepen"
    )
    records = records_mod.episode_records(content)
    assert [r.url for r in records] == [
        "/afleveringen/symposia-en-leergroepen/#t=0,30",
        "/afleveringen/symposia-en-leergroepen/#t=30,60",
    ]
    first, second = (dict(r.filters) for r in records)
    assert first["spreker"] == ("Piet Bakker",) and second["spreker"] == ("Anna de Vries",)
    assert first["ingrediënt"] == ("Kennis actief delen",)
    assert second["ingrediënt"] == ("Sociale binding",)
    assert second["aflevering"] == ("Symposia en leergroepen",)
    assert "toernooi" in records[1].content.split("⟦")[1].split()
    assert "symposium" in records[0].content.split("⟦")[1].split()
    assert records[0].title == "Symposia en leergroepen · 0:00"
    assert dict(records[1].meta)["sprekers"] == "Anna de Vries"
    # a talk without found turns: its speakers are the episode's
    talk = next(
        p.content
        for p in site_pages(sample)
        if getattr(p.content, "card", None) and p.content.card.slug == "een-team-zonder-wij-zij"
    )
    assert dict(records_mod.episode_records(talk)[0].filters)["spreker"] == (
        "Anna de Vries",
        "Kees Jansen",
    )


def test_episode_without_fragments_shows_the_transcript(sample: Workspace) -> None:
    d = doc(sample, "afleveringen/dijk-en-dialoog/index.html")
    assert "nog niet in fragmenten verdeeld" in d.text_content()
    blocks = d.xpath("//div[@class='fragment']")
    assert [b.get("data-start") for b in blocks] == ["0", "70"]  # one block per minute
    assert d.xpath("//h4[@id='s2']/a/@href") == ["#t=70,76"]
    assert not d.xpath("//section[@aria-labelledby='ingredienten']")


def test_ingredient_vlinder_and_speaker_pages(sample: Workspace) -> None:
    d = doc(sample, "ingredienten/sociale-binding/index.html")
    assert d.xpath("string(//h1)") == "Sociale binding"
    hits = d.xpath("//li[@class='treffer']")
    assert len(hits) == 2  # one in the talk, one in the interview
    plays = [h.xpath("string(.//a[@class='speel']/@href)") for h in hits]
    assert sorted(plays) == [
        "../../afleveringen/een-team-zonder-wij-zij/#t=27,40",
        "../../afleveringen/symposia-en-leergroepen/#t=30,60",
    ]
    assert any("sporttoernooi" in h.text_content() for h in hits)
    assert d.xpath("//p[@class='broodkruimel']/a/@href") == ["../../vlinders/vertrouwen-winnen/"]

    v = doc(sample, "vlinders/vertrouwen-winnen/index.html")
    assert "Eén team" in v.xpath("//section[@aria-labelledby='ingredienten']//a/text()")
    assert len(v.xpath("//li[@class='treffer']")) == 4  # f1, f2, f3 of the talk + the interview

    s = doc(sample, "sprekers/anna-de-vries/index.html")
    assert s.xpath("string(//h1)") == "Anna de Vries"
    assert len(s.xpath("//article[@class='kaart']")) == 2
    assert "Sociale binding (2)" in s.xpath("string(//section[@aria-labelledby='onderwerpen'])")


def test_home_page(sample: Workspace) -> None:
    d = doc(sample, "index.html")
    titles = d.xpath("//section[@aria-labelledby='nieuw']//h3/a/text()")
    assert titles[0] == "Symposia en leergroepen"  # newest first
    assert len(titles) == 3
    assert d.xpath("//form[@role='search']/@action") == ["zoeken/"]
    assert d.xpath("//label[@for='zoekterm']")
    vlinders = d.xpath("//section[@aria-labelledby='vlinders']//h3/a/text()")
    assert "Vertrouwen winnen met de alliantie" in vlinders
    apps = d.xpath("//section[@id='abonneren']//a/@href")
    feed = f"{BASE_URL}/feeds/podcast.xml"
    assert "podcast://podcast.example.org/feeds/podcast.xml" in apps
    assert "antennapod-subscribe://podcast.example.org/feeds/podcast.xml" in apps
    assert any(a.startswith("overcast://") for a in apps)
    assert any(a.startswith("pktc://subscribe/") for a in apps)
    assert feed in d.xpath("string(//p[@class='feed-url'])")


def test_feeds_and_vlinder_feeds_are_linked(tmp_path: Path) -> None:
    from pipeline.flows import build

    ws = make_sample_workspace(tmp_path / "ws")
    build(ws, base_url=BASE_URL)
    assert (ws.site_dir / "feeds/podcast.xml").exists()
    d = doc(ws, "index.html")
    links = d.xpath("//section[@id='abonneren']//a/@href")
    assert "feeds/podcast.xml" in links
    vlinder_feeds = [p.name for p in ws.feeds_dir.glob("*.xml") if p.name != "podcast.xml"]
    for name in vlinder_feeds:
        assert f"feeds/{name}" in links
        assert (ws.site_dir / "feeds" / name).exists()
    assert d.xpath("//link[@rel='alternate']/@href") == ["feeds/podcast.xml"]


def test_a_feed_rewritten_within_the_same_second_reaches_the_site(tmp_path: Path) -> None:
    """Same size, a modification time in the same second: still a different file."""
    from pipeline.flows import build as build_all

    ws = make_sample_workspace(tmp_path / "ws")
    build_all(ws, base_url=BASE_URL)
    feed, mirrored = ws.feeds_dir / "podcast.xml", ws.site_dir / "feeds" / "podcast.xml"
    assert os.path.samefile(feed, mirrored)  # a hard link, not a copy
    st = feed.stat()
    data = feed.read_bytes().replace(b"podcast.example.org", b"podcast.example.net")
    atomic_write_bytes(feed, data)  # as the feed stage writes: a new file
    os.utime(feed, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    build(ws, base_url=BASE_URL)
    assert mirrored.read_bytes() == data


def test_audio_is_hard_linked_and_transcripts_copied(sample: Workspace) -> None:
    src = sample.episode_dir("een-team-zonder-wij-zij") / "een-team-zonder-wij-zij.mp3"
    dst = sample.site_dir / "episodes/een-team-zonder-wij-zij/een-team-zonder-wij-zij.mp3"
    assert os.stat(src).st_ino == os.stat(dst).st_ino
    for ext in ("vtt", "srt", "txt", "json"):
        assert (sample.site_dir / f"transcripts/een-team-zonder-wij-zij.{ext}").exists()
    assert not (sample.site_dir / "transcripts/een-team-zonder-wij-zij.tags.json").exists()


def test_search_index(sample: Workspace) -> None:
    m = manifest(sample)
    assert len(m["shards"]) == 1
    bundle = sample.site_dir / "pagefind" / pagefind.shard_id(m["shards"][0])
    entry = json.loads((bundle / "pagefind-entry.json").read_text())
    assert list(entry["languages"]) == ["nl"]
    # one record per fragment (5 + 2) or transcript block of an untagged episode (2)
    assert entry["languages"]["nl"]["page_count"] == 9
    d = doc(sample, "zoeken/index.html")
    box = d.xpath("//div[@id='zoeken']")[0]
    assert box.get("data-bundles") == f"pagefind/{bundle.name}/"
    assert d.xpath("//script/@src")[-2:] == [
        f"../pagefind/{bundle.name}/pagefind-ui.js",
        "../static/zoeken.js",
    ]
    assert d.xpath("//noscript")


def test_no_change_rebuilds_nothing(sample: Workspace) -> None:
    before = {p: p.stat().st_mtime_ns for p in sample.site_dir.rglob("*") if p.is_file()}
    lines = site_lines(build(sample, base_url=BASE_URL))
    assert "0 bijgewerkt" in lines[0]
    assert "0 opnieuw geïndexeerd" in lines[1]
    after = {p: p.stat().st_mtime_ns for p in sample.site_dir.rglob("*") if p.is_file()}
    assert before == after


def test_adding_one_episode_rerenders_what_it_touches(sample: Workspace) -> None:
    slug = "nieuw-gesprek"
    audio = sample.episode_dir(slug) / f"{slug}.mp3"
    audio.parent.mkdir(parents=True)
    shutil.copyfile(sample.episode_dir(INTERVIEW[0]) / f"{INTERVIEW[0]}.mp3", audio)
    save_episode(
        sample,
        Episode(
            slug=slug,
            title="Nieuw gesprek",
            date=load_episode(sample, INTERVIEW[0]).date,
            guid="urn:uuid:new",
            speakers=("Nieuwe Spreker",),
            duration=80.0,
            audio_file=audio.name,
            created="2025-06-01T00:00:00+00:00",
        ),
    )
    old = manifest(sample)
    build(sample, base_url=BASE_URL)
    new = manifest(sample)
    changed = {p for p in new["pages"] if new["pages"][p] != old["pages"].get(p)}
    assert f"afleveringen/{slug}/index.html" in changed
    assert "sprekers/nieuwe-spreker/index.html" in changed
    assert "index.html" in changed and "afleveringen/index.html" in changed
    assert TALK_PAGE not in changed
    assert "ingredienten/sociale-binding/index.html" not in changed
    assert len(changed) <= 6
    assert (sample.site_dir / f"episodes/{slug}/{slug}.mp3").exists()


def test_removed_episode_disappears(sample: Workspace) -> None:
    shutil.rmtree(sample.episode_dir(INTERVIEW[0]))
    build(sample, base_url=BASE_URL)
    assert not (sample.site_dir / f"afleveringen/{INTERVIEW[0]}").exists()
    assert not (sample.site_dir / f"episodes/{INTERVIEW[0]}").exists()
    assert not (sample.site_dir / "sprekers/piet-bakker").exists()
    assert not (sample.site_dir / f"transcripts/{INTERVIEW[0]}.vtt").exists()


def test_template_change_rerenders_everything(
    sample: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "SITE_VERSION", "test")
    lines = site_lines(build(sample, base_url=BASE_URL))
    assert " 0 ongewijzigd" in lines[0]


def test_assign_shards_base_and_delta() -> None:
    slugs = [f"e{i}" for i in range(5)]
    base = assign_shards([], slugs, size=3)
    assert base == [slugs]  # the first build: one base shard
    grown = assign_shards(base, [*slugs, "e5"], size=3)
    assert grown == [slugs, ["e5"]]  # a new episode goes to the delta
    grown = assign_shards(grown, [*slugs, "e5", "e6"], size=3)
    assert grown == [slugs, ["e5", "e6"]]
    merged = assign_shards(grown, [*slugs, "e5", "e6", "e7"], size=3)
    assert merged == [[*slugs, "e5", "e6", "e7"]]  # a full delta is merged into the base
    shrunk = assign_shards(grown, ["e0", "e2", "e3", "e4", "e5", "e6"], size=3)
    assert shrunk == [["e0", "e2", "e3", "e4"], ["e5", "e6"]]


def test_adding_an_episode_reindexes_only_the_delta(sample: Workspace) -> None:
    assert len(manifest(sample)["shards"]) == 1
    slug = "nieuw-gesprek"
    audio = sample.episode_dir(slug) / f"{slug}.mp3"
    audio.parent.mkdir(parents=True)
    shutil.copyfile(sample.episode_dir(INTERVIEW[0]) / f"{INTERVIEW[0]}.mp3", audio)
    save_episode(
        sample,
        Episode(
            slug=slug,
            title="Nieuw gesprek over de frietkar",
            date=load_episode(sample, INTERVIEW[0]).date,
            guid="urn:uuid:new",
            duration=80.0,
            audio_file=audio.name,
            created="2025-06-01T00:00:00+00:00",
        ),
    )
    lines = site_lines(build(sample, base_url=BASE_URL))
    assert "1 opnieuw geïndexeerd" in lines[1]
    shards = manifest(sample)["shards"]
    assert shards[1] == [slug] and len(shards[0]) == 3
    d = doc(sample, "zoeken/index.html")
    bundles = d.xpath("//div[@id='zoeken']/@data-bundles")[0].split()
    assert len(bundles) == 2 and all(
        (sample.site_dir / b / "pagefind-entry.json").exists() for b in bundles
    )
    # a change to an episode in the delta re-indexes the delta only
    for ext in ("json", "tags.json"):
        shutil.copyfile(
            sample.transcript_path(INTERVIEW[0], ext), sample.transcript_path(slug, ext)
        )
    lines = site_lines(build(sample, base_url=BASE_URL))
    assert "1 opnieuw geïndexeerd" in lines[1]
    # nothing changed: nothing indexed again (the records are not even made)
    lines = site_lines(build(sample, base_url=BASE_URL))
    assert "0 opnieuw geïndexeerd" in lines[1]


def test_golden_pages(sample: Workspace) -> None:
    """Compare with ``tests/golden/site`` (regenerate: ``python tests/site_sample.py --regen-golden``)."""
    missing = [rel for rel in GOLDEN_PAGES if not (GOLDEN_DIR / rel).exists()]
    if missing:
        pytest.fail(f"golden pages missing: {missing}; run tests/site_sample.py --regen-golden")
    for rel in GOLDEN_PAGES:
        assert (sample.site_dir / rel).read_text() == (GOLDEN_DIR / rel).read_text(), rel


# --- the server ---------------------------------------------------------------------------------


def test_server_answers_range_requests(sample: Workspace) -> None:
    client = TestClient(create_app(sample))
    path = "/episodes/een-team-zonder-wij-zij/een-team-zonder-wij-zij.mp3"
    data = (sample.site_dir / path.lstrip("/")).read_bytes()
    full = client.get(path)
    assert full.status_code == 200 and full.content == data
    assert full.headers["accept-ranges"] == "bytes"
    part = client.get(path, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206
    assert part.content == data[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    tail = client.get(path, headers={"Range": "bytes=-100"})
    assert tail.status_code == 206 and tail.content == data[-100:]
    bad = client.get(path, headers={"Range": f"bytes={len(data) + 10}-"})
    assert bad.status_code == 416


def test_server_pages_and_404(sample: Workspace) -> None:
    client = TestClient(create_app(sample))
    home = client.get("/")
    assert home.status_code == 200 and '<html lang="nl">' in home.text
    assert client.get("/afleveringen/een-team-zonder-wij-zij/").status_code == 200
    vtt = client.get("/transcripts/een-team-zonder-wij-zij.vtt")
    assert vtt.headers["content-type"].startswith("text/vtt")
    missing = client.get("/bestaat-niet/")
    assert missing.status_code == 404 and "bestaat niet" in missing.text


def test_watcher_rebuilds_on_change(sample: Workspace) -> None:
    calls: list[float] = []
    done = threading.Event()

    def rebuild() -> list[str]:
        calls.append(time.monotonic())
        done.set()
        return ["gebouwd"]

    lines: list[str] = []
    watcher = Watcher(sample, rebuild, interval=0.05, report=lines.append)
    watcher.start()
    try:
        time.sleep(0.2)
        assert not calls
        path = sample.taxonomy_path
        path.write_text(path.read_text() + "\n# gewijzigd\n")
        assert done.wait(10)
    finally:
        watcher.stop()
        watcher.join(5)
    assert len(calls) == 1 and lines == ["gebouwd"]


def test_snapshot_watches_the_inputs(sample: Workspace) -> None:
    stamps = snapshot(sample)
    assert str(sample.episode_file("een-team-zonder-wij-zij")) in stamps
    assert str(sample.transcript_path("een-team-zonder-wij-zij", "vtt")) in stamps
    assert not any("/site/" in p for p in stamps)


def test_serve_cli_help(runner) -> None:
    from pipeline.cli import cli

    result = runner.invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--host", "--watch", "--no-build"):
        assert option in result.output


def test_server_compresses_text_but_not_audio(sample: Workspace) -> None:
    client = TestClient(create_app(sample))
    page = client.get("/afleveringen/een-team-zonder-wij-zij/", headers={"Accept-Encoding": "gzip"})
    assert page.headers.get("content-encoding") == "gzip" and "<html" in page.text
    path = "/episodes/een-team-zonder-wij-zij/een-team-zonder-wij-zij.mp3"
    audio = client.get(path, headers={"Accept-Encoding": "gzip", "Range": "bytes=0-9"})
    assert audio.status_code == 206 and "content-encoding" not in audio.headers


def test_public_transcript_follows_the_transcript(sample: Workspace) -> None:
    """The site's transcript JSON is made again only when the transcript changed (a no-op
    rebuild reads none), and then it is."""
    slug = INTERVIEW[0]
    public = sample.site_dir / "transcripts" / f"{slug}.json"
    assert "drie symposia" in public.read_text("utf-8")
    source = sample.transcript_path(slug, "json")
    text = source.read_text("utf-8")
    build(sample, base_url=BASE_URL)  # nothing changed
    assert "drie symposia" in public.read_text("utf-8")
    source.write_text(text.replace("drie symposia", "vier symposia"), "utf-8")
    build(sample, base_url=BASE_URL)
    assert "vier symposia" in public.read_text("utf-8")
    assert '"options"' not in public.read_text("utf-8")
