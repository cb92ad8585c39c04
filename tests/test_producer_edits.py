"""Two producers never lose each other's work (issue 14): every edit form carries the version
it was loaded from; a save applies only what that form changed, merges with what others saved
meanwhile where that is safe, and answers 409 (nothing saved) where it is not.

A real episode (transcript written by the transcript store, chapters and fragments by the real
tag stage), the real app; the parallel test runs a real uvicorn server and eight clients.
"""

from __future__ import annotations

import datetime as dt
import threading
import tomllib
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from test_webapp import LiveServer, P, login, make_app

from pipeline import flows
from pipeline.core.episodes import load_episode, save_episode
from pipeline.core.models import Episode, Segment, Transcript
from pipeline.core.workspace import Workspace
from pipeline.tagging.store import load_fragments
from pipeline.transcribe.store import load_transcript, write_transcript

SLUG = "samen-aan-de-dijk"
SENTENCES = [
    "Welkom bij deze lezing over de dijkversterking.",
    "We begonnen met een gesprek aan de keukentafel.",
    "Het waterschap en de aannemer werkten als één team.",
    "Elke vrijdag stond er een frietkar bij de bouwkeet.",
    "De risico's werden eerlijk gedeeld in één pot.",
    "De dijkgraaf nam een moedig besluit.",
    "Kennis deelden we op symposia en in leergroepen.",
    "Zo bleef de kennis niet in een la liggen.",
    "Bewoners werden vroeg betrokken bij de plannen.",
    "Dank jullie wel voor het luisteren.",
]


class Forms(HTMLParser):
    """The fields of each form on a page, as a browser would post them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: dict[str, list[tuple[str, str]]] = {}
        self.current: list[tuple[str, str]] | None = None
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.current = self.forms.setdefault(a.get("action", ""), [])
        elif self.current is None:
            return
        elif tag == "input" and a.get("name"):
            if a.get("type") == "checkbox" and "checked" not in a:
                return
            self.current.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select = a.get("name")
            self.current.append((self.select or "", ""))
        elif tag == "option" and self.select and "selected" in a:
            self.current[-1] = (self.select, a.get("value", ""))
        elif tag == "textarea":
            self.textarea = a.get("name")
            self.current.append((self.textarea or "", ""))

    def handle_data(self, data: str) -> None:
        if self.current is not None and self.textarea:
            name, value = self.current[-1]
            self.current[-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_of(html: str, part: str) -> dict[str, Any]:
    parser = Forms()
    parser.feed(html)
    data: dict[str, Any] = {}
    for name, value in parser.forms[f"{P}/afleveringen/{SLUG}/{part}"]:
        if name in data:
            data[name] = [*([data[name]] if isinstance(data[name], str) else data[name]), value]
        else:
            data[name] = value
    return data


@pytest.fixture
def episode(ws: Workspace) -> Workspace:
    """An episode with ten transcript segments, tagged by the real tag stage."""
    save_episode(
        ws,
        Episode(
            slug=SLUG,
            title="Samen aan de dijk",
            date=dt.date(2025, 3, 14),
            guid="urn:uuid:00000000-0000-4000-8000-000000000001",
            speakers=("Anna de Vries",),
            description="Over samenwerken.",
            duration=100.0,
        ),
    )
    segments = tuple(Segment(n, n * 10.0, n * 10.0 + 9.5, s) for n, s in enumerate(SENTENCES))
    write_transcript(ws, SLUG, Transcript("nl", segments, engine="import", duration=100.0))
    flows.tag(ws, SLUG, force=True)
    return ws


def page_of(client: Any) -> str:
    r = client.get(f"{P}/afleveringen/{SLUG}")
    assert r.status_code == 200, r.text[:300]
    return str(r.text)


def post(client: Any, part: str, data: dict[str, Any]) -> Any:
    return client.post(f"{P}/afleveringen/{SLUG}/{part}", data=data, follow_redirects=True)


def texts(ws: Workspace) -> list[str]:
    transcript = load_transcript(ws, SLUG)
    assert transcript is not None
    return [s.text.strip() for s in transcript.segments]


# --- the transcript ------------------------------------------------------------------------------
@pytest.mark.slow
def test_eight_parallel_edits_of_eight_segments_all_survive(episode: Workspace) -> None:
    ws = episode
    results: dict[int, httpx.Response] = {}
    with LiveServer(make_app(ws)) as server:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            login(http, ws)
            cookies = http.cookies
            loaded = form_of(page_of(http), "transcript")  # eight tabs of the same page
        start = threading.Barrier(8)

        def edit(n: int) -> None:
            data = dict(loaded)
            data[f"seg_{n}"] = f"Correctie {n}: {SENTENCES[n]}"
            with httpx.Client(base_url=server.url, cookies=cookies, timeout=120) as c:
                start.wait()
                results[n] = post(c, "transcript", data)

        threads = [threading.Thread(target=edit, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert all(results[n].status_code == 200 for n in range(8)), {
        n: r.status_code for n, r in results.items()
    }
    assert all("1 zin(nen) verbeterd" in results[n].text for n in range(8))
    final = texts(ws)
    assert final[:8] == [f"Correctie {n}: {SENTENCES[n]}" for n in range(8)]
    assert final[8:] == SENTENCES[8:]
    # the tags were made from the last transcript (the retag runs under the lock)
    _, fragments = load_fragments(ws, SLUG)  # type: ignore[misc]
    assert "Correctie 7" in " ".join(f.text for f in fragments)


def test_a_conflicting_edit_of_the_same_segment_gets_409(episode: Workspace) -> None:
    ws = episode
    with TestClient(make_app(ws)) as client:
        login(client, ws)
        first = form_of(page_of(client), "transcript")
        second = dict(first)
        first["seg_2"] = "Het waterschap en de aannemer werkten als één echt team."
        assert "1 zin(nen) verbeterd" in post(client, "transcript", first).text
        second["seg_2"] = "Waterschap en aannemer: één team."
        r = post(client, "transcript", second)
        assert r.status_code == 409
        assert "intussen door iemand anders gewijzigd (zin 3 (0:20))" in r.text
        assert "niets opgeslagen" in r.text
        assert texts(ws)[2] == "Het waterschap en de aannemer werkten als één echt team."
        # the 409 page is a fresh form: saving from it works
        again = form_of(r.text, "transcript")
        again["seg_2"] = "Waterschap en aannemer: één team."
        assert "1 zin(nen) verbeterd" in post(client, "transcript", again).text
        # the same change made twice is no conflict
        third = form_of(page_of(client), "transcript")
        fourth = dict(third)
        third["seg_9"] = fourth["seg_9"] = "Dank voor het luisteren."
        post(client, "transcript", third)
        assert post(client, "transcript", fourth).status_code == 200
        # a form without a version (an old tab) is never applied blindly
        stale = {k: v for k, v in fourth.items() if k != "version"}
        stale["seg_0"] = "Oud formulier."
        r = post(client, "transcript", stale)
        assert r.status_code == 409 and "verouderd" in r.text
    assert texts(ws)[0] == SENTENCES[0]


# --- metadata, chapters and tags ---------------------------------------------------------------
def test_metadata_edits_merge_per_field(episode: Workspace) -> None:
    ws = episode
    with TestClient(make_app(ws)) as client:
        login(client, ws)
        one = form_of(page_of(client), "gegevens")
        two, three = dict(one), dict(one)
        one["title"] = "Samen sterker aan de dijk"
        assert "De gegevens zijn opgeslagen" in post(client, "gegevens", one).text
        two["description"] = "Over samenwerken,\r\nen over vertrouwen."
        r = post(client, "gegevens", two)
        assert r.status_code == 200 and "Samengevoegd" in r.text
        ep = load_episode(ws, SLUG)
        assert ep.title == "Samen sterker aan de dijk"  # not put back by the older form
        assert ep.description == "Over samenwerken,\nen over vertrouwen."
        three["title"] = "Een andere titel"
        r = post(client, "gegevens", three)
        assert r.status_code == 409 and "titel" in r.text
    assert load_episode(ws, SLUG).title == "Samen sterker aan de dijk"


def test_chapter_and_tag_edits_merge_or_conflict(episode: Workspace) -> None:
    ws = episode
    chapters, fragments = load_fragments(ws, SLUG)  # type: ignore[misc]
    assert len(fragments) >= 2
    with TestClient(make_app(ws)) as client:
        login(client, ws)
        html = page_of(client)
        ch_one, tags_one = form_of(html, "hoofdstukken"), form_of(html, "tags")
        ch_two, tags_two = dict(ch_one), dict(tags_one)

        ch_one["title_1"] = "Het begin"
        assert "1 hoofdstuk(ken) aangepast" in post(client, "hoofdstukken", ch_one).text
        ch_two["title_1"] = "De start"
        r = post(client, "hoofdstukken", ch_two)
        assert r.status_code == 409 and "hoofdstuk 1" in r.text
        assert load_fragments(ws, SLUG)[0][0].title == "Het begin"  # type: ignore[index]

        tags_one["add_1"] = "bestuurlijk-lef"
        assert "tag(s) aangepast" in post(client, "tags", tags_one).text
        tags_two["add_2"] = "kennis-actief-delen"  # another fragment: merged
        r = post(client, "tags", tags_two)
        assert r.status_code == 200 and "Samengevoegd" in r.text, r.text[-2000:]
        data = tomllib.loads(ws.episode_file(SLUG).read_text(encoding="utf-8"))
        added = sorted(a for e in data["tag_overrides"] for a in e.get("add", []))
        assert added == ["bestuurlijk-lef", "kennis-actief-delen"]
        other = next(  # an ingredient the first fragment does not have
            i
            for i in ("een-team", "sociale-binding", "risico-en-winst-delen")
            if i not in {t.ingredient for t in fragments[0].tags}
        )
        tags_two["add_1"] = other  # the first fragment changed meanwhile: conflict
        r = post(client, "tags", tags_two)
        assert r.status_code == 409 and "fragment 1" in r.text
