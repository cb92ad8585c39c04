"""The producer area in a real headless browser (Debian chromium driven by Playwright).

Log in, upload a short recording, follow the job to the end, see the episode on the public
site and in the feed; correct a tag and a word, publish, see the change.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from test_webapp import LiveServer, make_app

from pipeline.flows import init as init_workspace
from pipeline.service import jobs
from pipeline.service.webapp import auth

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed"),
]


def test_upload_follow_correct_and_publish_in_the_browser(tmp_path: Path, browser) -> None:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    recording = tmp_path / "symposium_opname.wav"
    subprocess.run(
        [
            "espeak-ng",
            "-v",
            "nl",
            "-w",
            str(recording),
            "Welkom bij de podcast. De alliantie werkte als één team aan de dijk.",
        ],
        check=True,
    )
    ws = init_workspace(tmp_path / "ws")
    token, _ = auth.producer_token(ws)
    worker = jobs.InProcessWorker(ws)
    worker.start()
    try:
        with LiveServer(make_app(ws)) as server:
            context = browser.new_context()
            page = context.new_page()
            page.set_default_timeout(30_000)

            # login: a wrong code first, then the right one
            page.goto(f"{server.url}/producent/")
            assert page.url.endswith("/producent/login")
            page.fill("#token", "verkeerd")
            page.click("button[type=submit]")
            assert page.locator("text=Inloggen mislukt.").is_visible()
            page.fill("#token", token)
            page.click("button[type=submit]")
            page.wait_for_selector("#upload")

            # upload with metadata; the page moves on to the job
            page.fill("#title", "Eén team <b>aan de dijk</b>")
            page.fill("#speakers", "Ann Jansen")
            page.fill("#event", "Slotsymposium")
            page.set_input_files("#file", str(recording))
            page.click("#upload button[type=submit]")
            page.wait_for_url("**/producent/taken/*")
            page.wait_for_selector("#job-done:not([hidden])", timeout=240_000)
            assert page.locator("#job-error").is_hidden()
            assert page.locator("#job-state").inner_text() == "Klaar"
            page.click("#job-episode")
            page.wait_for_selector("#gegevens")
            slug = page.url.rstrip("/").rsplit("/", 1)[1]

            # the public site and the feed have it (escaped)
            public = httpx.get(f"{server.url}/afleveringen/{slug}/")
            assert public.status_code == 200
            assert "Eén team &lt;b&gt;aan de dijk&lt;/b&gt;" in public.text
            feed = httpx.get(f"{server.url}/feeds/podcast.xml").text
            assert "Eén team &lt;b&gt;aan de dijk&lt;/b&gt;" in feed

            # correct a tag: untick what was found, add "bestuurlijk-lef"
            for box in page.locator("#fragment-1 input[type=checkbox]").all():
                box.uncheck()
            page.select_option("#add_1", "bestuurlijk-lef")
            page.click("#tags button[type=submit]")
            page.wait_for_selector("text=tag(s) aangepast")
            tags = page.locator("#fragment-1 .tag").all_inner_texts()
            assert len(tags) == 1 and "lef" in tags[0].lower(), tags

            # correct a word in the first segment
            field = page.locator("#seg_0")
            words = field.input_value().split()
            words[0] = "Welkomstwoord"
            field.fill(" ".join(words))
            page.click("#transcript button[type=submit]")
            page.wait_for_selector("text=zin(nen) verbeterd")

            # publish and see the change on the public site
            page.click("button.primary[data-busy]")
            page.wait_for_selector("text=Gepubliceerd")
            public = httpx.get(f"{server.url}/afleveringen/{slug}/").text
            assert "Welkomstwoord" in public
            assert "bestuurlijk-lef" in public or "Bestuurlijk lef" in public
            context.close()
    finally:
        worker.stop(timeout=60)


def test_the_transcript_editor_plays_along(tmp_path: Path, browser) -> None:
    """Clicking a line's time plays from there and highlights the line being played; words
    Whisper was unsure of are marked; saving opens the page at the same line again."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from site_sample import TALK, make_mp3, make_sample_workspace

    from pipeline.core.models import Word
    from pipeline.transcribe.store import load_transcript, write_transcript

    ws = make_sample_workspace(tmp_path / "ws", mp3=make_mp3(tmp_path / "toon.mp3"))
    slug = TALK[0]
    transcript = load_transcript(ws, slug)
    assert transcript is not None
    seg = transcript.segments[2]  # 27-40 s: "Elke vrijdag stond er een frietkar ..."
    words = seg.text.split()
    step = (seg.end - seg.start) / len(words)
    unsure = tuple(
        Word(seg.start + i * step, seg.start + (i + 1) * step, w, 0.2 if w == "frietkar" else 0.9)
        for i, w in enumerate(words)
    )
    segments = list(transcript.segments)
    segments[2] = replace(seg, words=unsure)
    write_transcript(ws, slug, replace(transcript, segments=tuple(segments)))
    token, _ = auth.producer_token(ws)
    with LiveServer(make_app(ws)) as server:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{server.url}/producent/login")
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.goto(f"{server.url}/producent/afleveringen/{slug}")
        # the unsure word is marked, the sure ones are not
        marks = page.locator("#segment-2 mark.onzeker")
        assert marks.all_inner_texts() == ["frietkar"]
        assert page.locator("#segment-1 mark.onzeker").count() == 0
        # clicking the time of a line plays from there, and that line is highlighted
        page.click("#segment-3 button.speel")
        page.wait_for_function(
            "() => { const a = document.getElementById('editor-audio');"
            " return a.readyState >= 1 && Math.abs(a.currentTime - 40) < 1.5; }"
        )
        page.locator("#segment-3.speelt").wait_for()
        assert page.locator(".segment.speelt").count() == 1
        # saving keeps the place: the page opens at the line that was being corrected
        page.fill("#seg_3", "We deelden de pot, ging het mis dan voelden we het allebei.")
        page.click("#transcript button[type=submit]")
        page.wait_for_url("**#segment-3")
        page.locator("#segment-3.speelt").wait_for()  # the line is marked as the place
        assert page.locator("#segment-3").is_visible()
        page.wait_for_function(
            "() => { const a = document.getElementById('editor-audio');"
            " return a.readyState >= 1 && Math.abs(a.currentTime - 40) < 1.5; }"
        )
        context.close()
    saved = load_transcript(ws, slug)
    assert saved is not None and saved.segments[3].text.startswith("We deelden de pot, ging")
