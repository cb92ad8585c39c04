"""The site in a real headless browser: Debian chromium driven by Playwright.

Search a word, see the fragment, click it and land on the episode page with the audio at the
fragment's start; filter by ingredient; open a ``#t=`` link; the ingredient timeline; the page
on a phone. Never runs ``playwright install``: it uses /usr/bin/chromium.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from site_sample import BASE_URL, make_mp3, make_sample_workspace, serve_in_thread

from pipeline.service.server import create_app
from pipeline.site import build as build_site

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TALK = "/afleveringen/een-team-zonder-wij-zij/"


@pytest.fixture(scope="session")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample site (with a real 80 s MP3) served by ``create_app`` on a free port."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    tmp = tmp_path_factory.mktemp("browser")
    ws = make_sample_workspace(tmp / "ws", mp3=make_mp3(tmp / "toon.mp3"))
    build_site(ws, base_url=BASE_URL)
    with serve_in_thread(create_app(ws)) as url:
        yield url


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)  # a busy machine: wait longer for states, never for time
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    # Leaving the search page while Pagefind still fetches results aborts those fetches.
    errors = [e for e in errors if "abort" not in e.lower() and "failed to fetch" not in e.lower()]
    assert not errors, errors


def _wait_time(page, seconds: float) -> float:
    page.wait_for_function(
        f"() => {{ const a = document.getElementById('audio');"
        f" return a && a.readyState >= 1 && Math.abs(a.currentTime - {seconds}) < 1; }}",
        timeout=15000,
    )
    return float(page.evaluate("document.getElementById('audio').currentTime"))


def _search(page, site_url: str, word: str) -> None:
    page.goto(f"{site_url}/zoeken/")
    box = page.locator(".pagefind-ui__search-input")
    box.wait_for(timeout=15000)
    _type(page, word)


def _type(page, word: str) -> None:
    page.locator(".pagefind-ui__search-input").fill(word)
    # Pagefind UI shows placeholder results (". . .") until each result's data has loaded.
    page.locator(".pagefind-ui__result .pagefind-ui__result-link").first.wait_for(timeout=15000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.pagefind-ui__result')]"
        ".every(r => r.querySelector('.pagefind-ui__result-link'))",
        timeout=15000,
    )


def test_search_finds_the_fragment_and_plays_it(page, site_url: str) -> None:
    _search(page, site_url, "frietkar")
    results = page.locator(".pagefind-ui__result")
    assert "Eén team, zonder wij-zij" in results.first.inner_text()
    fragment = page.locator(".pagefind-ui__result-nested a[href*='#f2']")
    assert fragment.count() >= 1
    assert "frietkar" in page.locator(".pagefind-ui__result-nested").first.inner_text().lower()
    fragment.first.click()
    page.wait_for_url(f"**{TALK}#f2")
    assert abs(_wait_time(page, 27) - 27) < 1
    assert page.locator(".fragment.speelt h4#f2").count() == 1


def test_search_with_dutch_word_forms(page, site_url: str) -> None:
    _search(page, site_url, "gesprek")  # the text says "gesprekken" (Dutch stemming)
    assert "Eén team, zonder wij-zij" in page.locator(".pagefind-ui__result").first.inner_text()
    assert page.locator(".pagefind-ui__result-nested a[href*='#f2']").count() >= 1


def _filter_group(page, word: str, group: str):
    """The filter group ``group`` once Pagefind's filters have loaded.

    Pagefind UI takes its list of filters from a search's result. When the first search
    finishes before Pagefind has loaded all its filter data (a busy machine), that list lacks
    some filters (here "ingrediënt" and "aflevering") until the next search: the old flake.
    So: search again until the group is there."""
    block = page.locator(".pagefind-ui__filter-block").filter(
        has=page.locator(".pagefind-ui__filter-name", has_text=group)
    )
    for _ in range(20):
        if block.count():
            return block
        page.locator(".pagefind-ui__search-input").fill("")
        page.wait_for_function("!document.querySelector('.pagefind-ui__result')")
        _type(page, word)
    raise AssertionError(f"Pagefind never showed the filter {group!r}")


def _tick_filter(page, word: str, group: str, value: str) -> None:
    """Tick one of Pagefind's filters, after a search for ``word``, once its values are there."""
    block = _filter_group(page, word, group)
    label = block.locator("label.pagefind-ui__filter-label", has_text=value)
    label.wait_for(state="attached")
    if not block.evaluate("details => details.open"):
        block.locator(".pagefind-ui__filter-name").click()
    label.click()
    block.locator("input.pagefind-ui__filter-checkbox:checked").wait_for(state="attached")


def test_filter_by_ingredient(page, site_url: str) -> None:
    _search(page, site_url, "vrijdag")  # in the talk and in the interview
    page.wait_for_function("document.querySelectorAll('.pagefind-ui__result').length === 2")
    _tick_filter(page, "vrijdag", "ingrediënt", "Kennis actief delen")
    page.wait_for_function("document.querySelectorAll('.pagefind-ui__result').length === 1")
    assert "Symposia en leergroepen" in page.locator(".pagefind-ui__result").first.inner_text()


def test_time_link_opens_the_page_at_that_moment(page, site_url: str) -> None:
    page.goto(f"{site_url}{TALK}#t=62")
    assert abs(_wait_time(page, 62) - 62) < 1
    playing = page.evaluate("!document.getElementById('audio').paused")
    button = page.locator("#speel-vanaf")
    assert playing or (button.is_visible() and "1:02" in button.inner_text())


def test_clicking_a_timestamp_plays_from_there(page, site_url: str) -> None:
    page.goto(f"{site_url}{TALK}")
    page.locator("h4#f3 a.tijd").click()
    assert abs(_wait_time(page, 40) - 40) < 1
    assert page.url.endswith("#t=40")


def test_ingredient_page_links_play_from_the_fragment(page, site_url: str) -> None:
    page.goto(f"{site_url}/ingredienten/bestuurlijk-lef/")
    page.locator("a.speel").first.click()
    page.wait_for_url(f"**{TALK}#t=62")
    assert abs(_wait_time(page, 62) - 62) < 1


def test_ingredient_timeline_is_present(page, site_url: str) -> None:
    page.goto(f"{site_url}{TALK}")
    rows = page.locator(".tijdlijn-rij")
    assert rows.count() == 4
    mark = page.locator(".tijdlijn-rij[data-ingredient='een-team'] .markering")
    assert mark.count() == 2 and mark.first.is_visible()
    box = mark.first.bounding_box()
    bar = page.locator(".tijdlijn-rij[data-ingredient='een-team'] .tijdlijn").bounding_box()
    assert box and bar and box["x"] > bar["x"] and box["width"] > 0


def test_keyboard_skip_link(page, site_url: str) -> None:
    page.goto(f"{site_url}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skiplink"
    assert page.locator(".skiplink").is_visible()


def test_phone_layout_has_no_horizontal_scroll(browser, site_url: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    pg = context.new_page()
    try:
        for path in ("/", TALK, "/ingredienten/sociale-binding/", "/zoeken/"):
            pg.goto(f"{site_url}{path}")
            width = pg.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path}: {width}px wide"
    finally:
        context.close()


def test_first_search_download_is_small(browser, site_url: str) -> None:
    context = browser.new_context()
    pg = context.new_page()
    sizes: list[int] = []
    pg.on("requestfinished", lambda req: sizes.append(req.sizes()["responseBodySize"]))
    try:
        _search(pg, site_url, "dijkgraaf")
        pg.wait_for_load_state("networkidle")
        assert sum(sizes) <= 500_000, sum(sizes)
    finally:
        context.close()


def _nested_text(page) -> list[str]:
    return page.locator(".pagefind-ui__result-nested").all_inner_texts()


def test_search_finds_compound_parts(page, site_url: str) -> None:
    _search(page, site_url, "toernooi")  # the text says "sporttoernooi"
    assert "Symposia en leergroepen" in page.locator(".pagefind-ui__result").first.inner_text()
    assert page.locator(".pagefind-ui__result-nested a[href*='#f1']").count() >= 1
    texts = _nested_text(page)
    # the extra index words stay out of the excerpt: it shows the transcript only
    assert any("sporttoernooi" in t for t in texts), texts
    assert not any("⟦" in t or "⟧" in t for t in texts), texts


def test_search_finds_irregular_plurals(page, site_url: str) -> None:
    _search(page, site_url, "symposium")  # the text says "symposia"
    results = page.locator(".pagefind-ui__result")
    page.locator(".pagefind-ui__result-nested a[href*='#f0']").first.wait_for(timeout=15000)
    assert "Symposia en leergroepen" in results.first.inner_text()
    texts = _nested_text(page)
    assert any("drie symposia georganiseerd" in t for t in texts), texts
    assert not any("⟦" in t or "⟧" in t for t in texts), texts
