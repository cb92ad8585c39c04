"""The producer web app and the job queue, against the running server.

Starlette's TestClient where no streaming is needed; a real uvicorn server in a thread for
uploads (streaming, size limit, concurrency); a real ``vlinder worker`` process for the
restart test. Real ffmpeg/PyAV, Whisper and SQLite throughout.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from markupsafe import escape
from starlette.applications import Starlette
from starlette.testclient import TestClient

from pipeline.core.episodes import load_episode
from pipeline.core.models import EpisodeMeta
from pipeline.core.workspace import Workspace
from pipeline.flows import init as init_workspace
from pipeline.service import jobs
from pipeline.service.webapp import auth, mount

ROOT = Path(__file__).resolve().parent.parent
P = "/producent"


# --- helpers ---------------------------------------------------------------------------------
def make_app(ws: Workspace) -> Starlette:
    """The real server app with the producer area (the bare mount if the server is absent)."""
    try:
        from pipeline.service.server import create_app
    except ImportError:
        app = Starlette()
        mount(app, ws)
        return app
    return create_app(ws, producer=True)


def set_server(ws: Workspace, **values: Any) -> Workspace:
    """Append a [server] table to vlinder.toml (init writes one: replace it)."""
    import tomllib

    import tomli_w

    data = tomllib.loads(ws.settings_path.read_text(encoding="utf-8"))
    data.setdefault("server", {}).update(values)
    ws.settings_path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return Workspace(ws.root)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def login(client: httpx.Client | TestClient, ws: Workspace) -> str:
    """Log in; returns the session's CSRF token."""
    page = client.get(f"{P}/login")
    token, _ = auth.producer_token(ws)
    r = client.post(
        f"{P}/login", data={"csrf": csrf_of(page.text), "token": token}, follow_redirects=True
    )
    assert r.status_code == 200, r.text
    return csrf_of(r.text)


def upload(
    client: httpx.Client | TestClient,
    csrf: str | None,
    path: Path,
    *,
    filename: str | None = None,
    **fields: str,
) -> httpx.Response:
    data = dict(fields)
    if csrf is not None:
        data["csrf"] = csrf
    with open(path, "rb") as fh:
        return client.post(
            f"{P}/upload",
            data=data,
            files={"file": (filename or path.name, fh, "audio/wav")},
            headers={"Accept": "application/json"},
        )


def uploads(ws: Workspace) -> list[str]:
    folder = ws.state_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def wait_for(ws: Workspace, job_id: str, states: tuple[str, ...], timeout: float = 240) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.get_job(ws, job_id)
        if job.state in states:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} not in {states}: {jobs.get_job(ws, job_id)}")


def fresh(client: httpx.Client | TestClient, url: str, part: str) -> dict[str, str]:
    """The version an edit form on the episode page carries (forms must send it back)."""
    html = client.get(url).text
    form = html[html.index(f'action="{url}/{part}"') :]
    match = re.search(r'name="version" value="([^"]+)"', form)
    assert match, form[:500]
    return {"version": match.group(1)}


def espeak(text: str, out: Path) -> Path:
    subprocess.run(["espeak-ng", "-v", "nl", "-w", str(out), text], check=True)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn in a thread, stopped at the end of the test."""

    def __init__(self, app: Any):
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


# --- fixtures --------------------------------------------------------------------------------
@pytest.fixture
def pws(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws")


@pytest.fixture
def client(pws: Workspace) -> Iterator[TestClient]:
    with TestClient(make_app(pws)) as c:
        yield c


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return espeak(
        "Welkom bij de podcast. De alliantie werkte als één team aan de dijkversterking.",
        tmp_path_factory.mktemp("clip") / "clip.wav",
    )


@pytest.fixture
def random_mp3(tmp_path: Path) -> Path:
    path = tmp_path / "opname.mp3"
    path.write_bytes(os.urandom(300_000))
    return path


# --- auth --------------------------------------------------------------------------------------
PROTECTED_GET = [
    "/",
    "/taken/abc",
    "/taken/abc/status",
    "/taken/abc/events",
    "/afleveringen/iets",
]
PROTECTED_POST = [
    "/upload",
    "/taken/abc/opnieuw",
    "/afleveringen/iets/gegevens",
    "/afleveringen/iets/tags",
    "/afleveringen/iets/transcript",
    "/afleveringen/iets/hoofdstukken",
    "/publiceren",
    "/uitloggen",
]


def test_nothing_in_the_producer_area_without_login(client: TestClient, clip: Path) -> None:
    for path in PROTECTED_GET:
        r = client.get(P + path, headers={"Accept": "text/html"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"{P}/login", path
        r = client.get(P + path, headers={"Accept": "application/json"})
        assert r.status_code == 401, path
    for path in PROTECTED_POST:
        r = client.post(P + path, data={"csrf": "x"})
        assert r.status_code == 401, path
    assert upload(client, None, clip).status_code == 401
    # the login page and the static files are public
    assert client.get(f"{P}/login").status_code == 200
    assert client.get(f"{P}/static/producer.js").status_code == 200


def test_wrong_token_is_refused_without_revealing_anything(client: TestClient, pws: Workspace):
    token, _ = auth.producer_token(pws)
    page = client.get(f"{P}/login")
    csrf = csrf_of(page.text)
    bodies = []
    for wrong in ("fout", "", token[:-1], token + "x"):
        r = client.post(f"{P}/login", data={"csrf": csrf, "token": wrong})
        assert r.status_code == 403
        assert "Inloggen mislukt." in r.text
        assert token not in r.text
        bodies.append(r.text.replace(csrf_of(r.text), ""))
        assert client.get(f"{P}/", headers={"Accept": "application/json"}).status_code == 401
    assert len(set(bodies)) == 1  # the same answer whatever was wrong


def test_login_session_cookie_and_logout(client: TestClient, pws: Workspace) -> None:
    csrf = login(client, pws)
    cookie = next(c for c in client.cookies.jar if c.name == auth.SESSION_COOKIE)
    assert cookie.path == P
    r = client.get(f"{P}/login")  # the Set-Cookie flags
    page = client.get(f"{P}/")
    assert page.status_code == 200 and "Een opname toevoegen" in page.text
    r = client.post(f"{P}/uitloggen", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"{P}/", headers={"Accept": "application/json"}).status_code == 401


def test_session_cookie_flags(pws: Workspace) -> None:
    with TestClient(make_app(pws)) as c:
        r = c.get(f"{P}/login")
    flags = r.headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=lax" in flags and f"path={P}" in flags


def test_token_is_generated_once_and_kept_private(pws: Workspace) -> None:
    token, created = auth.producer_token(pws)
    assert created and len(token) >= 32
    assert auth.producer_token(pws) == (token, False)
    assert (auth.token_path(pws).stat().st_mode & 0o777) == 0o600
    configured = set_server(pws, token="mijn-eigen-geheime-code")
    assert auth.producer_token(configured) == ("mijn-eigen-geheime-code", False)


# --- CSRF --------------------------------------------------------------------------------------
def test_posts_without_or_with_a_wrong_csrf_token_are_refused(
    client: TestClient, pws: Workspace, clip: Path
) -> None:
    login(client, pws)
    for path in PROTECTED_POST:
        for data in ({}, {"csrf": "verkeerd"}):
            r = client.post(P + path, data=data, headers={"Accept": "application/json"})
            assert r.status_code == 403, (path, r.status_code)
    for csrf in (None, "verkeerd"):
        r = upload(client, csrf, clip)
        assert r.status_code == 403
    assert uploads(pws) == [] and jobs.list_jobs(pws) == []
    # login itself needs the session's token too
    client.cookies.clear()
    r = client.post(f"{P}/login", data={"token": auth.producer_token(pws)[0]})
    assert r.status_code == 403


# --- uploads ---------------------------------------------------------------------------------
def test_upload_creates_a_queued_job_and_escapes_metadata(
    client: TestClient, pws: Workspace, clip: Path
) -> None:
    csrf = login(client, pws)
    evil = '<script>alert("x")</script>'
    r = upload(client, csrf, clip, title=evil, speakers="Ann <b>Jansen</b>, Piet", event=evil)
    assert r.status_code == 201, r.text
    job = jobs.get_job(pws, r.json()["job"])
    assert job.state == "queued" and job.params["title"] == evil
    assert job.params["speakers"] == ["Ann <b>Jansen</b>", "Piet"]
    assert uploads(pws) == [f"{job.id}.upload"]
    for url in (f"{P}/", f"{P}/taken/{job.id}"):
        html = client.get(url).text
        assert evil not in html and "<b>Jansen" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    status = client.get(f"{P}/taken/{job.id}/status").json()
    assert status["state"] == "queued" and status["stage_label"] == "In de wachtrij"


def test_bogus_file_gives_a_clear_error_and_no_episode(
    client: TestClient, pws: Workspace, random_mp3: Path, tmp_path: Path
) -> None:
    csrf = login(client, pws)
    r = upload(client, csrf, random_mp3)
    assert r.status_code == 400
    assert r.json()["error"] == "opname.mp3 is geen leesbaar audio- of videobestand."
    text = tmp_path / "notities.mp3"
    text.write_text("Dit is geen opname maar tekst.\n" * 50, encoding="utf-8")
    r = upload(client, csrf, text)
    assert r.status_code == 400 and "tekstbestand" in r.json()["error"]
    empty = tmp_path / "leeg.wav"
    empty.write_bytes(b"")
    r = upload(client, csrf, empty)
    assert r.status_code == 400 and "leeg" in r.json()["error"]
    assert uploads(pws) == [] and jobs.list_jobs(pws) == []
    assert not any(pws.episodes_dir.iterdir())
    # without JavaScript the error comes back on the page
    with open(random_mp3, "rb") as fh:
        r = client.post(
            f"{P}/upload", data={"csrf": csrf}, files={"file": ("opname.mp3", fh, "audio/mpeg")}
        )
    assert r.status_code == 400 and "geen leesbaar audio- of videobestand" in r.text


def test_client_filename_never_becomes_a_path(
    client: TestClient, pws: Workspace, clip: Path, tmp_path: Path
) -> None:
    csrf = login(client, pws)
    names = [
        "../../../../tmp/evil.wav",
        "..\\..\\evil2.wav",
        "/etc/passwd",
        ".bashrc",
        "één talk.wav",
    ]
    ids = []
    for name in names:
        r = upload(client, csrf, clip, filename=name)
        assert r.status_code == 201, (name, r.text)
        ids.append(r.json()["job"])
    files = uploads(pws)
    assert files == sorted(f"{i}.upload" for i in ids)
    assert all(re.fullmatch(r"[0-9a-f]{32}\.upload", f) for f in files)
    sources = [jobs.get_job(pws, i).source_name for i in ids]
    assert sources == ["evil.wav", "evil2.wav", "passwd", "bashrc", "één talk.wav"]
    assert not (tmp_path / "evil.wav").exists() and not Path("/tmp/evil.wav").exists()


def test_size_limit_is_answered_with_a_clear_error(pws: Workspace, tmp_path: Path) -> None:
    ws = set_server(pws, max_upload_mb=1)
    big = tmp_path / "groot.wav"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-f", "lavfi", "-i", "sine=f=440:d=15", str(big)],
        check=True,
    )
    assert big.stat().st_size > 1024 * 1024
    with LiveServer(make_app(ws)) as server, httpx.Client(base_url=server.url) as http:
        csrf = login(http, ws)
        r = upload(http, csrf, big)
        assert r.status_code == 413
        assert r.json()["error"] == (
            "Het bestand is te groot: de grens is 1 MB (instelling server.max_upload_mb)."
        )

        # no Content-Length (chunked): the limit is enforced while streaming
        def chunks() -> Iterator[bytes]:
            yield (
                b'--grens\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
                + csrf.encode()
                + b'\r\n--grens\r\nContent-Disposition: form-data; name="file"; '
                b'filename="groot.wav"\r\nContent-Type: audio/wav\r\n\r\n'
            )
            for _ in range(3):
                yield b"\0" * (1024 * 1024)
            yield b"\r\n--grens--\r\n"

        try:
            r = http.post(
                f"{P}/upload",
                content=chunks(),
                headers={
                    "Content-Type": "multipart/form-data; boundary=grens",
                    "Accept": "application/json",
                },
            )
            assert r.status_code == 413 and "te groot" in r.json()["error"]
        except httpx.TransportError:
            pass  # the server may close the connection before the client finished sending
        # a file under the limit still works
        small = espeak("Kort.", tmp_path / "kort.wav")
        assert upload(http, csrf, small).status_code == 201
    assert len(uploads(ws)) == 1 and not any(n.endswith(".part") for n in uploads(ws))


def test_two_uploads_at_once_both_succeed(pws: Workspace, tmp_path: Path) -> None:
    files = []
    for n in range(2):
        path = tmp_path / f"lang{n}.wav"
        subprocess.run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"sine=f={300 + n * 200}:d=60",
                str(path),
            ],
            check=True,
        )
        files.append(path)
    results: dict[int, httpx.Response] = {}
    with LiveServer(make_app(pws)) as server:
        with httpx.Client(base_url=server.url) as http:
            csrf = login(http, pws)
            cookies = http.cookies

        def send(n: int) -> None:
            with httpx.Client(base_url=server.url, cookies=cookies, timeout=60) as c:
                results[n] = upload(c, csrf, files[n], title=f"Opname {n}")

        threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert [results[n].status_code for n in range(2)] == [201, 201]
    for n in range(2):
        job = jobs.get_job(pws, results[n].json()["job"])
        stored = pws.state_dir / "uploads" / f"{job.id}.upload"
        assert stored.read_bytes() == files[n].read_bytes()
        assert job.params["title"] == f"Opname {n}"


# --- jobs ----------------------------------------------------------------------------------
def test_job_runs_all_stages_then_failure_and_retry(
    pws: Workspace, clip: Path, client: TestClient
) -> None:
    """A failing stage leaves a clear error and the upload; retry after the fix completes."""
    broken = set_server(pws)  # keep the workspace; break transcription in the settings
    settings = broken.settings_path.read_text(encoding="utf-8")
    broken.settings_path.write_text(
        settings.replace('model = "base"', 'model = "bestaat-niet-model"'), encoding="utf-8"
    )
    job = jobs.queue_recording(broken, clip, EpisodeMeta(title="Eén team", speakers=("Ann",)))
    done = jobs.run_job(broken, job.id)
    assert done.state == "failed" and done.stage == "transcribe"
    assert done.error and "\n" not in done.error and "Traceback" not in done.error
    assert uploads(broken) == [f"{job.id}.upload"]  # the upload is never lost
    csrf = login(client, pws)
    page = client.get(f"{P}/taken/{job.id}").text
    assert "Opnieuw proberen" in page and "Mislukt" in page and str(escape(done.error)) in page

    broken.settings_path.write_text(settings, encoding="utf-8")
    r = client.post(f"{P}/taken/{job.id}/opnieuw", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert jobs.get_job(pws, job.id).state == "queued"
    done = jobs.run_job(pws, job.id)
    assert done.state == "done" and done.stage == "done" and done.progress == 1.0, done.error
    ep = load_episode(pws, done.slug)
    assert ep.title == "Eén team" and ep.speakers == ("Ann",) and ep.source_name == "clip.wav"
    assert pws.transcript_path(done.slug, "json").exists()
    assert uploads(pws) == []  # removed once the job succeeded
    # the events stream of a finished job: one event, then it ends
    with client.stream("GET", f"{P}/taken/{job.id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = "".join(stream.iter_text())
    assert '"state": "done"' in body


def test_add_queue_enqueues_instead_of_running(
    pws: Workspace, clip: Path, random_mp3: Path, runner: Any
) -> None:
    from pipeline.cli import cli

    r = runner.invoke(cli, ["-w", str(pws.root), "add", "--queue", str(clip), "-t", "Later"])
    assert r.exit_code == 0, r.output
    job = jobs.get_job(pws, r.stdout.strip().splitlines()[0])
    assert job.state == "queued" and job.params["title"] == "Later"
    assert not any(pws.episodes_dir.iterdir())  # nothing processed inline
    assert clip.exists()  # the producer's file is untouched
    r = runner.invoke(cli, ["-w", str(pws.root), "add", "--queue", str(random_mp3)])
    assert r.exit_code != 0 and "geen leesbaar audio" in r.output and "Traceback" not in r.output
    assert len(jobs.list_jobs(pws)) == 1
    r = runner.invoke(cli, ["-w", str(pws.root), "jobs"])
    assert r.exit_code == 0 and job.id in r.output and "queued" in r.output


@pytest.mark.slow
def test_a_restarted_worker_completes_a_job_it_was_killed_in(
    pws: Workspace, tmp_path: Path
) -> None:
    longer = espeak(
        "Dit is een wat langere opname om te testen dat een taak een herstart overleeft. " * 3,
        tmp_path / "lang.wav",
    )
    job = jobs.queue_recording(pws, longer, EpisodeMeta(title="Herstart"))
    cmd = [sys.executable, "-m", "pipeline", "-w", str(pws.root), "worker"]
    worker = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for(pws, job.id, ("running", "done", "failed"), timeout=60)
        worker.send_signal(signal.SIGKILL)  # a crash, not a graceful stop
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    killed = jobs.get_job(pws, job.id)
    assert killed.state == "running", killed  # killed mid-job
    assert uploads(pws) == [f"{job.id}.upload"]

    worker = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        done = wait_for(pws, job.id, ("done", "failed"), timeout=300)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            out, _ = worker.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            out, _ = worker.communicate()
    assert done.state == "done", (done, out)
    assert f"Taak {job.id} opnieuw in de wachtrij gezet" in out
    assert done.attempts == 2
    assert load_episode(pws, done.slug).title == "Herstart"
    assert len(list(pws.episodes_dir.iterdir())) == 1  # resumed, not duplicated
    assert uploads(pws) == []


def test_in_process_worker_picks_up_uploads(pws: Workspace, clip: Path) -> None:
    worker = jobs.InProcessWorker(pws)
    worker.start()
    try:
        job = jobs.queue_recording(pws, clip, EpisodeMeta(title="Via de worker"))
        done = wait_for(pws, job.id, ("done", "failed"))
    finally:
        worker.stop(timeout=120)
    assert done.state == "done", done
    # a second worker start finds nothing to recover
    assert jobs.recover(pws) == []


# --- editing and publishing ------------------------------------------------------------------
def test_edits_land_in_the_cli_files_and_publish_shows_them(
    pws: Workspace, clip: Path, client: TestClient
) -> None:
    import json
    import tomllib

    from pipeline.tagging.store import load_fragments
    from pipeline.transcribe.store import load_transcript

    done = jobs.run_job(pws, jobs.queue_recording(pws, clip, EpisodeMeta(title="Eerste titel")).id)
    assert done.state == "done", done.error
    slug = done.slug
    csrf = login(client, pws)
    page = client.get(f"{P}/afleveringen/{slug}")
    assert page.status_code == 200 and 'name="seg_0"' in page.text
    url = f"{P}/afleveringen/{slug}"

    # metadata
    r = client.post(
        f"{url}/gegevens",
        data={
            **fresh(client, url, "gegevens"),
            "csrf": csrf,
            "title": "Nieuwe <titel>",
            "date": "2025-03-14",
            "speakers": "Ann Jansen, Piet",
            "event": "Symposium",
            "kind": "interview",
            "description": "Over samenwerken.",
        },
    )
    assert r.status_code == 200 and "De gegevens zijn opgeslagen" in r.text
    ep = load_episode(pws, slug)
    assert (ep.title, ep.speakers, ep.kind) == (
        "Nieuwe <titel>",
        ("Ann Jansen", "Piet"),
        "interview",
    )
    assert "Nieuwe &lt;titel&gt;" in r.text and "Nieuwe <titel>" not in r.text
    r = client.post(
        f"{url}/gegevens",
        data={**fresh(client, url, "gegevens"), "csrf": csrf, "title": "", "date": "2025-03-14"},
    )
    assert "De titel mag niet leeg zijn." in r.text
    r = client.post(
        f"{url}/gegevens",
        data={**fresh(client, url, "gegevens"), "csrf": csrf, "title": "x", "date": "14-03-2025"},
    )
    assert "ongeldige datum" in r.text.lower()
    assert load_episode(pws, slug).title == "Nieuwe <titel>"

    # transcript: one word corrected in the first segment
    transcript = load_transcript(pws, slug)
    assert transcript is not None
    first = transcript.segments[0]
    words = first.text.split()
    words[-1] = "Waardenburg."
    corrected = " ".join(words)
    r = client.post(
        f"{url}/transcript",
        data={**fresh(client, url, "transcript"), "csrf": csrf, "seg_0": corrected},
    )
    assert "1 zin(nen) verbeterd" in r.text
    again = load_transcript(pws, slug)
    assert again is not None and again.segments[0].text.strip() == corrected
    assert again.segments[0].start == first.start
    assert "Waardenburg." in pws.transcript_path(slug, "vtt").read_text(encoding="utf-8")

    # tags: remove what was found, add another ingredient
    chapters, fragments = load_fragments(pws, slug)  # type: ignore[misc]
    before = {t.ingredient for t in fragments[0].tags}
    r = client.post(
        f"{url}/tags",
        data={
            **fresh(client, url, "tags"),
            "csrf": csrf,
            "shown_1": "1",
            "add_1": "bestuurlijk-lef",
        },
    )
    assert "tag(s) aangepast" in r.text, r.text
    data = tomllib.loads(pws.episode_file(slug).read_text(encoding="utf-8"))
    (entry,) = data["tag_overrides"]
    assert entry["add"] == ["bestuurlijk-lef"] and set(entry["remove"]) == before
    assert fragments[0].start <= entry["at"] < fragments[0].end
    tags = json.loads(pws.transcript_path(slug, "tags.json").read_text(encoding="utf-8"))
    assert [t["ingredient"] for t in tags["fragments"][0]["tags"]] == ["bestuurlijk-lef"]
    r = client.post(
        f"{url}/tags",
        data={**fresh(client, url, "tags"), "csrf": csrf, "shown_1": "1", "add_1": "bestaat-niet"},
    )
    assert "onbekend ingrediënt" in r.text.lower()

    # chapters: rename the first
    r = client.post(
        f"{url}/hoofdstukken",
        data={
            **fresh(client, url, "hoofdstukken"),
            "csrf": csrf,
            "title_1": "Het begin",
            "start_1": "0:00",
        },
    )
    assert "1 hoofdstuk(ken) aangepast" in r.text
    chapters, _ = load_fragments(pws, slug)  # type: ignore[misc]
    assert chapters[0].title == "Het begin"

    # publish: the site and the feed show the edits
    r = client.post(f"{P}/publiceren", data={"csrf": csrf, "terug": f"/afleveringen/{slug}"})
    assert r.status_code == 200 and "Gepubliceerd" in r.text
    html = (pws.site_dir / "afleveringen" / slug / "index.html").read_text(encoding="utf-8")
    assert "Nieuwe &lt;titel&gt;" in html and "Waardenburg" in html and "Het begin" in html
    feed = (pws.feeds_dir / "podcast.xml").read_text(encoding="utf-8")
    assert "Nieuwe &lt;titel&gt;" in feed
