"""Issue 14 (part A): bad input never stops the podcast, and every failure is one clear line.

Control characters from every entrance, a broken episode.toml among good ones, duplicate
jobs, stale uploads, mistyped workspaces and URLs, malformed Range headers, and what the
public and the producer get to see. Real ffmpeg, SQLite and feedgen throughout.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from starlette.testclient import TestClient
from test_webapp import P, fresh, login, make_app, upload, uploads

from pipeline import flows
from pipeline.catalogue import open_catalogue
from pipeline.cli import cli
from pipeline.core.episodes import episode_from_toml, load_episode
from pipeline.core.errors import DuplicateError, NotFoundError, WorkspaceError
from pipeline.core.models import EpisodeMeta
from pipeline.core.text import clean_text
from pipeline.core.workspace import Workspace
from pipeline.service import jobs
from pipeline.service import uploads as upload_folder
from pipeline.service.messages import without_paths
from pipeline.transcribe.formats.readers import parse_transcript_file

VT = "\x0b"  # a vertical tab, as Word pastes it


def tone(path: Path, frequency: int, seconds: float = 2.0) -> Path:
    """A short real recording (a tone) with ffmpeg: a different frequency, a different hash."""
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi",
            "-i", f"sine=frequency={frequency}:sample_rate=22050:duration={seconds}",
            str(path),
        ],
        check=True,
    )  # fmt: skip
    return path


def add(ws: Workspace, recording: Path, title: str) -> str:
    return flows.add(
        ws, recording, EpisodeMeta(title=title), transcribe_audio=False
    ).ingest.episode.slug


def break_duration(ws: Workspace, slug: str) -> None:
    path = ws.episode_file(slug)
    text = path.read_text(encoding="utf-8")
    start = text.index("duration = ")
    end = text.index("\n", start)
    path.write_text(text[:start] + 'duration = "lang"' + text[end:], encoding="utf-8")


def feed_titles(ws: Workspace) -> list[str]:
    tree = etree.parse(str(ws.feeds_dir / "podcast.xml"))
    return [el.text or "" for el in tree.iterfind("channel/item/title")]


@pytest.fixture
def two(ws: Workspace, speech_wav: Path, tmp_path: Path) -> tuple[str, str]:
    """Two episodes (no transcripts): 'goed' and 'kapot'."""
    good = add(ws, speech_wav, "Goed")
    bad = add(ws, tone(tmp_path / "toon.wav", 330), "Kapot")
    return good, bad


@pytest.fixture
def client(ws: Workspace) -> Iterator[TestClient]:
    with TestClient(make_app(ws)) as c:
        yield c


# --- 1: control characters ---------------------------------------------------------------------
def test_clean_text_removes_what_xml_cannot_hold() -> None:
    dirty = f"a{VT}b\x00c\x1fd\tе\nf\r\ng\rh\ufffe\uffffi\ud800j"
    assert clean_text(dirty) == "abcd\tе\nf\ng\nhij"
    assert clean_text("Één ingrediënt – “goed”") == "Één ingrediënt – “goed”"


def test_a_pasted_control_character_in_episode_toml_no_longer_stops_publishing(
    ws: Workspace, two: tuple[str, str], runner: CliRunner
) -> None:
    good, other = two
    path = ws.episode_file(good)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace('description = ""', 'description = "Uit Word\\u000bgeplakt"'),
        encoding="utf-8",
    )
    settings = ws.settings_path.read_text(encoding="utf-8")
    ws.settings_path.write_text(
        settings.replace('description = "', 'description = "Over\\u000cdijken. ', 1),
        encoding="utf-8",
    )
    r = runner.invoke(cli, ["-w", str(ws.root), "build"])
    assert r.exit_code == 0, r.output
    feed = (ws.feeds_dir / "podcast.xml").read_text(encoding="utf-8")
    assert "Uit Wordgeplakt" in feed and "Overdijken." in feed
    assert sorted(feed_titles(ws)) == ["Goed", "Kapot"]
    assert load_episode(ws, good).description == "Uit Wordgeplakt"


def test_a_chapter_title_with_a_control_character_is_cleaned_where_xml_is_written() -> None:
    from pipeline.core.models import Chapter
    from pipeline.feed.xmlsafe import cleaned

    chapter = Chapter(1, 0.0, 10.0, f"Begin{VT}")
    fresh = cleaned({"chapters": (chapter,), "n": 3})
    assert fresh["chapters"][0].title == "Begin" and fresh["n"] == 3
    same = Chapter(1, 0.0, 10.0, "Begin")
    assert cleaned(same) is same  # nothing to clean: the same object


def test_cli_options_are_cleaned(ws: Workspace, speech_wav: Path, runner: CliRunner) -> None:
    r = runner.invoke(
        cli,
        [
            "-w", str(ws.root), "add", str(speech_wav), "--no-transcribe",
            "-t", f"Titel{VT}", "--description", f"Eerste{VT}regel\x00", "-s", f"Ann{VT}",
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    slug = r.stdout.strip().splitlines()[0]
    raw = ws.episode_file(slug).read_text(encoding="utf-8")
    assert "\\u000b" not in raw and "\\u0000" not in raw
    ep = load_episode(ws, slug)
    assert (ep.title, ep.description, ep.speakers) == ("Titel", "Eersteregel", ("Ann",))


def test_imported_transcripts_are_cleaned(tmp_path: Path) -> None:
    vtt = tmp_path / "t.vtt"
    vtt.write_text(
        f"WEBVTT\r\n\r\n00:00.000 --> 00:02.000\r\nGoed{VT}emorgen\x07 allemaal.\r\n",
        encoding="utf-8",
    )
    transcript = parse_transcript_file(vtt)
    assert transcript.segments[0].text.strip() == "Goedemorgen allemaal."


def test_web_forms_and_the_upload_form_are_cleaned(
    ws: Workspace, two: tuple[str, str], client: TestClient, tmp_path: Path
) -> None:
    good, _ = two
    csrf = login(client, ws)
    r = client.post(
        f"{P}/afleveringen/{good}/gegevens",
        data={
            **fresh(client, f"{P}/afleveringen/{good}", "gegevens"),
            "csrf": csrf,
            "title": f"Nieuw{VT}",
            "date": "2025-03-14",
            "speakers": "Ann",
            "description": f"Regel{VT}een\r\nregel twee",
            "event": "",
            "kind": "talk",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    raw = ws.episode_file(good).read_text(encoding="utf-8")
    assert "\\u000b" not in raw and "\\r" not in raw
    assert load_episode(ws, good).description == "Regeleen\nregel twee"
    r = upload(client, csrf, tone(tmp_path / "nieuw.wav", 550), title=f"Up{VT}load", event="x\x1b")
    assert r.status_code == 201, r.text
    job = jobs.get_job(ws, r.json()["job"])
    assert job.params["title"] == "Upload" and job.params["event"] == "x"


# --- 1 and 8: a broken episode file among good ones --------------------------------------------
def test_episode_toml_values_give_dutch_errors_naming_the_key() -> None:
    base = 'title = "x"\ndate = 2025-01-01\nguid = "g"\n'
    with pytest.raises(WorkspaceError) as exc:
        episode_from_toml("x", base + '[audio]\nduration = "lang"\n', "x/episode.toml")
    assert "audio.duration moet een getal zijn" in str(exc.value) and "'lang'" in str(exc.value)
    assert "could not" not in str(exc.value)
    with pytest.raises(WorkspaceError, match="audio.bytes moet een geheel getal zijn"):
        episode_from_toml("x", base + "[audio]\nbytes = 1.5\n")
    with pytest.raises(WorkspaceError, match="season moet een geheel getal zijn"):
        episode_from_toml("x", base + 'season = "een"\n')
    with pytest.raises(WorkspaceError, match="loudness.input_i moet een getal zijn"):
        episode_from_toml("x", base + '[loudness]\ninput_i = "hard"\n')


def test_build_publishes_the_rest_names_the_broken_episode_and_exits_non_zero(
    ws: Workspace, two: tuple[str, str], runner: CliRunner
) -> None:
    good, bad = two
    break_duration(ws, bad)
    r = runner.invoke(cli, ["-w", str(ws.root), "build"])
    assert r.exit_code == 1, r.output
    assert f"aflevering '{bad}' is niet gepubliceerd" in r.output
    assert "audio.duration" in r.output and "Traceback" not in r.output
    assert feed_titles(ws) == ["Goed"]
    assert (ws.site_dir / "afleveringen" / good / "index.html").exists()


def test_the_publish_step_of_a_job_survives_another_broken_episode(
    ws: Workspace, two: tuple[str, str], tmp_path: Path
) -> None:
    _, bad = two
    break_duration(ws, bad)
    job = jobs.queue_recording(
        ws, tone(tmp_path / "later.wav", 660), EpisodeMeta(title="Later"), transcribe=False
    )
    done = jobs.run_job(ws, job.id)
    assert done.state == "done", done.error
    assert "Later" in feed_titles(ws)


def test_dashboard_warns_about_a_broken_episode_and_its_page_is_no_500(
    ws: Workspace, two: tuple[str, str], client: TestClient
) -> None:
    good, bad = two
    break_duration(ws, bad)
    csrf = login(client, ws)
    html = client.get(f"{P}/").text
    assert "Goed" in html and 'id="kapotte-afleveringen"' in html
    assert bad in html and "audio.duration" in html
    assert str(ws.root) not in html  # no server paths for the producer
    page = client.get(f"{P}/afleveringen/{bad}", headers={"Accept": "text/html"})
    assert page.status_code == 409
    assert "audio.duration" in page.text and str(ws.root) not in page.text
    r = client.post(f"{P}/publiceren", data={"csrf": csrf, "terug": "/"}, follow_redirects=True)
    assert r.status_code == 200 and bad in r.text and str(ws.root) not in r.text
    assert feed_titles(ws) == ["Goed"]


def test_a_slug_over_255_characters_is_a_clear_error(
    ws: Workspace, client: TestClient, runner: CliRunner
) -> None:
    long = "a" * 300
    with pytest.raises(NotFoundError):
        load_episode(ws, long)
    login(client, ws)
    r = client.get(f"{P}/afleveringen/{long}", headers={"Accept": "application/json"})
    assert r.status_code == 404
    r = runner.invoke(cli, ["-w", str(ws.root), "show", long])
    assert r.exit_code == 1 and "bestaat niet" in r.output and "Traceback" not in r.output


# --- 6: uploads cleaned up, failed jobs deletable ------------------------------------------------
def test_stale_parts_and_finished_uploads_are_removed(ws: Workspace, speech_wav: Path) -> None:
    folder = upload_folder.uploads_dir(ws)
    stale = folder / "dood.part"
    stale.write_bytes(b"x" * 1000)
    old = time.time() - upload_folder.PART_STALE_S - 60
    os.utime(stale, (old, old))
    fresh = folder / "bezig.part"
    fresh.write_bytes(b"x")
    orphan = folder / "wees.upload"
    orphan.write_bytes(b"x")
    os.utime(orphan, (old, old))
    failed = jobs.submit_file(ws, speech_wav, EpisodeMeta(title="Mislukt"))
    finished = jobs.submit_file(ws, speech_wav, EpisodeMeta(title="Klaar"))
    with open_catalogue(ws) as cat:
        cat.update_job(failed.id, state="failed", error="kapot")
        cat.update_job(finished.id, state="done", stage="done")
    done = upload_folder.clean_uploads(ws)
    assert sorted(done.removed) == sorted(["dood.part", "wees.upload", f"{finished.id}.upload"])
    assert uploads(ws) == sorted(["bezig.part", f"{failed.id}.upload"])
    later = upload_folder.clean_uploads(ws, now=time.time() + upload_folder.KEEP_FAILED_S + 60)
    assert f"{failed.id}.upload" in later.removed and "bezig.part" in later.removed


def test_the_janitor_cleans_at_start(ws: Workspace) -> None:
    stale = upload_folder.uploads_dir(ws) / "dood.part"
    stale.write_bytes(b"x")
    old = time.time() - upload_folder.PART_STALE_S - 60
    os.utime(stale, (old, old))
    janitor = upload_folder.Janitor(ws)
    janitor.start()
    janitor.stop()
    janitor.join(30)
    assert not stale.exists()


def test_a_failed_job_can_be_deleted_in_the_ui(
    ws: Workspace, speech_wav: Path, client: TestClient
) -> None:
    failed = jobs.submit_file(ws, speech_wav, EpisodeMeta(title="Mislukt"))
    queued = jobs.submit_file(ws, speech_wav, EpisodeMeta(title="Wacht"))
    with open_catalogue(ws) as cat:
        cat.update_job(failed.id, state="failed", error="kapot")
    csrf = login(client, ws)
    page = client.get(f"{P}/taken/{failed.id}").text
    assert f"/taken/{failed.id}/verwijderen" in page
    r = client.post(
        f"{P}/taken/{failed.id}/verwijderen", data={"csrf": csrf}, follow_redirects=True
    )
    assert r.status_code == 200 and "verwijderd" in r.text
    with pytest.raises(NotFoundError):
        jobs.get_job(ws, failed.id)
    assert uploads(ws) == [f"{queued.id}.upload"]
    r = client.post(f"{P}/taken/{queued.id}/verwijderen", data={"csrf": csrf})
    assert jobs.get_job(ws, queued.id).state == "queued"  # a waiting job is not deleted
    assert uploads(ws) == [f"{queued.id}.upload"]


# --- 7: retrying a duplicate -------------------------------------------------------------------
def test_retrying_a_duplicate_job_does_not_take_over_another_jobs_episode(
    ws: Workspace, speech_wav: Path
) -> None:
    first = jobs.submit_file(ws, speech_wav, EpisodeMeta(title="Eerste"), transcribe=False)
    assert jobs.run_job(ws, first.id).state == "done"
    slug = jobs.get_job(ws, first.id).slug
    second = jobs.submit_file(ws, speech_wav, EpisodeMeta(title="Tweede"), transcribe=False)
    failed = jobs.run_job(ws, second.id)
    assert failed.state == "failed" and f"aflevering '{slug}'" in failed.error
    jobs.retry(ws, second.id)
    again = jobs.run_job(ws, second.id)
    assert again.state == "failed" and f"aflevering '{slug}'" in again.error
    assert again.slug == "" and again.params["title"] == "Tweede"
    assert load_episode(ws, slug).title == "Eerste"
    assert uploads(ws) == [f"{second.id}.upload"]  # kept: the producer may delete it


# --- 9: CLI and URLs ---------------------------------------------------------------------------
def test_a_missing_workspace_is_a_clear_error_and_is_never_half_created(
    tmp_path: Path, speech_wav: Path, runner: CliRunner
) -> None:
    missing = tmp_path / "bestaat" / "niet"
    r = runner.invoke(cli, ["--workspace", str(missing), "list"])
    assert r.exit_code == 1 and "bestaat niet" in r.output and "vlinder init" in r.output
    r = runner.invoke(cli, ["-w", str(missing), "add", str(speech_wav), "--no-transcribe"])
    assert r.exit_code == 1 and "vlinder init" in r.output
    assert not missing.exists()
    empty = tmp_path / "leeg"
    empty.mkdir()
    r = runner.invoke(cli, ["-w", str(empty), "add", str(speech_wav), "--no-transcribe"])
    assert r.exit_code == 1 and "geen Vlinder-werkruimte" in r.output
    assert list(empty.iterdir()) == []


def test_producent_without_the_slash_redirects(ws: Workspace, client: TestClient) -> None:
    r = client.get(P, follow_redirects=False)
    assert r.status_code in (301, 307, 308) and r.headers["location"] == f"{P}/"


def test_add_queue_of_an_existing_episode_is_refused_at_once(
    ws: Workspace, speech_wav: Path, runner: CliRunner
) -> None:
    slug = add(ws, speech_wav, "Er al")
    r = runner.invoke(cli, ["-w", str(ws.root), "add", "--queue", str(speech_wav)])
    assert r.exit_code == DuplicateError.exit_code, r.output
    assert f"aflevering '{slug}'" in r.output
    assert jobs.list_jobs(ws) == [] and uploads(ws) == []


# --- 10: Range, the public transcript, server paths ----------------------------------------------
def test_a_malformed_range_header_is_ignored(ws: Workspace) -> None:
    from pipeline.service.server import create_app

    body = b"0123456789" * 100
    (ws.site_dir / "bestand.txt").write_bytes(body)
    with TestClient(create_app(ws)) as c:
        for bad in ("bytes=abc", "bytes=5-2", "items=0-5", "bytes=", "bytes=--1"):
            r = c.get("/bestand.txt", headers={"Range": bad, "Accept-Encoding": "identity"})
            assert r.status_code == 200 and r.content == body, bad
        r = c.get("/bestand.txt", headers={"Range": "bytes=2-4", "Accept-Encoding": "identity"})
        assert r.status_code == 206 and r.content == b"234"


def test_the_public_transcript_json_keeps_the_text_not_how_it_was_made(
    ws: Workspace, speech_wav: Path, tmp_path: Path
) -> None:
    vtt = tmp_path / "t.vtt"
    vtt.write_text("WEBVTT\n\n00:00.000 --> 00:02.000\nGoedemorgen allemaal.\n", encoding="utf-8")
    added = flows.add(ws, speech_wav, EpisodeMeta(title="Met tekst"), transcript_file=vtt)
    slug = added.ingest.episode.slug
    private = json.loads(ws.transcript_path(slug, "json").read_text(encoding="utf-8"))
    assert "options" in private  # the workspace keeps how it was made
    flows.build(ws)
    public = json.loads((ws.site_dir / "transcripts" / f"{slug}.json").read_text("utf-8"))
    assert set(public) <= {"format", "language", "duration", "segments"}
    assert "Goedemorgen" in public["segments"][0]["text"]


def test_producer_messages_show_no_absolute_paths(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    message = f"{root}/episodes/x/episode.toml: kapot; model /opt/modellen/base.bin; https://a.b/c"
    clean = without_paths(message, root)
    assert clean == "episodes/x/episode.toml: kapot; model base.bin; https://a.b/c"
