"""Crashes keep the promises (issue 14): a real ``vlinder serve`` or ``vlinder worker`` process is
killed with SIGKILL during an upload, ingest, transcription or publishing, then started again.
Afterwards there is one consistent state: nothing lost (the recording, the session, the job),
nothing duplicated (one episode, one feed item), nothing half-written left in sight.

The kill point is found by waiting for state (a growing ``.part`` file, the job's stage in the
catalogue), never by waiting for time. Before the SIGKILL the process group is stopped
(SIGSTOP) and the state read again, so the test knows the process was still at that point.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from test_webapp import P, csrf_of, espeak, free_port, login, uploads, wait_for

from pipeline.catalogue import open_catalogue
from pipeline.core.models import EpisodeMeta
from pipeline.core.workspace import Workspace
from pipeline.flows import init as init_workspace
from pipeline.flows import remove
from pipeline.service import jobs
from pipeline.service.webapp import auth

pytestmark = pytest.mark.slow


@pytest.fixture
def pws(tmp_path: Path, models_dir: Path) -> Workspace:
    return init_workspace(tmp_path / "ws")


def start(ws: Workspace, *args: str) -> subprocess.Popen[str]:
    """A ``vlinder`` command in its own process group (its children die with it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "-w", str(ws.root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def crash(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)


def stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    return out or ""


def poll(check, what: str, proc: subprocess.Popen[str] | None = None, limit: float = 300):
    """Wait for ``check()`` to return something truthy (a state, not a time)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process ended: {proc.communicate()[0]}")
        time.sleep(0.01)
    raise AssertionError(f"never reached: {what}")


def half_written(ws: Workspace) -> list[str]:
    """Temporary files in the published and edited folders (atomic writes leave none)."""
    found = []
    for top in (ws.episodes_dir, ws.transcripts_dir, ws.feeds_dir, ws.site_dir):
        if top.exists():
            found += [str(p) for p in top.rglob("*") if p.name.endswith((".tmp", ".part"))]
    return found


def assert_one_consistent_episode(ws: Workspace, job: jobs.Job, *, transcribed: bool) -> None:
    assert job.state == "done", job
    episodes = sorted(p.name for p in ws.episodes_dir.iterdir())
    assert episodes == [job.slug]  # nothing duplicated
    with open_catalogue(ws) as cat:
        assert cat.slugs() == [job.slug]
        stages = cat.stages(job.slug)
    assert stages["ingest"]["status"] == "done" and stages["publish"]["status"] == "done"
    assert ws.transcript_path(job.slug, "json").exists() == transcribed
    feed = (ws.feeds_dir / "podcast.xml").read_text(encoding="utf-8")
    assert len(re.findall(r"<item>", feed)) == 1
    assert (ws.site_dir / "afleveringen" / job.slug / "index.html").exists()
    assert uploads(ws) == []  # the upload is kept until the job is done, then removed
    assert half_written(ws) == []
    staging = ws.state_dir / "tmp"
    assert not staging.exists() or not list(staging.glob(f"{job.slug}.*"))


# --- upload ----------------------------------------------------------------------------------
def _serve(ws: Workspace, port: int) -> subprocess.Popen[str]:
    proc = start(ws, "serve", "--no-build", "--no-worker", "--port", str(port))

    def answers() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}{P}/login", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    poll(answers, "the server answers", proc, limit=120)
    return proc


def test_killed_server_during_an_upload(pws: Workspace, tmp_path: Path) -> None:
    ws = pws
    auth.producer_token(ws)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(ws, port)
    sent_some = threading.Event()
    hold = threading.Event()
    try:
        http = httpx.Client(base_url=url, timeout=60)
        csrf = login(http, ws)

        def body() -> Iterator[bytes]:
            yield (
                b'--grens\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n'
                + csrf.encode()
                + b'\r\n--grens\r\nContent-Disposition: form-data; name="file"; '
                b'filename="lang.wav"\r\nContent-Type: audio/wav\r\n\r\n'
            )
            yield b"\0" * (2 * 1024 * 1024)
            sent_some.set()
            hold.wait(120)  # the upload stays in progress until the server is gone
            yield b"\0" * 1024

        def send() -> None:
            with contextlib.suppress(httpx.TransportError):  # the server dies under it
                http.post(
                    f"{P}/upload",
                    content=body(),
                    headers={
                        "Content-Type": "multipart/form-data; boundary=grens",
                        "Accept": "application/json",
                    },
                )

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        folder = ws.state_dir / "uploads"

        def receiving() -> bool:
            parts = list(folder.glob("*.part")) if folder.exists() else []
            return sent_some.is_set() and any(p.stat().st_size > 0 for p in parts)

        poll(receiving, "the upload is being received", server)
        crash(server)
        hold.set()
        sender.join(60)

        # restart: no job, no episode, and the session survived (it lives in the catalogue)
        server = _serve(ws, port)
        assert jobs.list_jobs(ws) == []
        assert not any(ws.episodes_dir.iterdir())
        assert not any(name.endswith(".upload") for name in uploads(ws))
        r = http.get(f"{P}/", headers={"Accept": "application/json"})
        assert r.status_code == 200 and "Een opname toevoegen" in r.text
        # and the next upload goes through
        clip = espeak("Een korte opname na de herstart.", tmp_path / "kort.wav")
        with open(clip, "rb") as fh:
            r = http.post(
                f"{P}/upload",
                data={"csrf": csrf_of(http.get(f"{P}/").text)},
                files={"file": ("kort.wav", fh, "audio/wav")},
                headers={"Accept": "application/json"},
            )
        assert r.status_code == 201, r.text
        assert [j.state for j in jobs.list_jobs(ws)] == ["queued"]
        http.close()
    finally:
        hold.set()
        stop(server)


# --- ingest, transcription, publishing ----------------------------------------------------------
def _long_tone(path: Path, seconds: int) -> Path:
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"sine=f=220:d={seconds}",
            "-ac",
            "1",
            "-ar",
            "16000",
            str(path),
        ],
        check=True,
    )
    return path


def _kill_worker_in(
    ws: Workspace, stage: str, recording: Callable[[int], Path], transcribe: bool
) -> str:
    """Queue recordings one by one until a worker is caught (stopped) in ``stage``, kill it
    there and return that job's id."""
    for n in range(3):
        job = jobs.queue_recording(
            ws, recording(n), EpisodeMeta(title="Na de crash"), transcribe=transcribe
        )
        worker = start(ws, "worker")
        try:
            poll(
                lambda job=job: (
                    jobs.get_job(ws, job.id).stage in (stage, "done")
                    or jobs.get_job(ws, job.id).state == "failed"
                ),
                f"stage {stage}",
                worker,
            )
            os.killpg(worker.pid, signal.SIGSTOP)
            caught = jobs.get_job(ws, job.id)
            crash(worker)
        finally:
            if worker.poll() is None:
                crash(worker)
        if caught.state == "running" and caught.stage == stage:
            return job.id
        assert caught.state != "failed", caught
        # it finished that stage before it could be stopped: start over from a clean workspace
        for path in list(ws.episodes_dir.iterdir()):
            remove(ws, path.name)
    raise AssertionError(f"never caught a worker in stage {stage}")


@pytest.mark.parametrize("stage", ["ingest", "transcribe", "publish"])
def test_killed_worker_resumes_after_a_restart(pws: Workspace, tmp_path: Path, stage: str) -> None:
    ws = pws
    transcribe = stage != "ingest"
    if transcribe:
        text = "De alliantie werkte als één team aan de dijkversterking bij Gorinchem. " * 4

        def recording(n: int) -> Path:
            return espeak(text + f" Opname {n}.", tmp_path / f"spraak{n}.wav")
    else:

        def recording(n: int) -> Path:  # a long recording: normalising it takes a while
            return _long_tone(tmp_path / f"toon{n}.wav", 900 + n)

    job_id = _kill_worker_in(ws, stage, recording, transcribe)
    killed = jobs.get_job(ws, job_id)
    assert killed.state == "running" and killed.stage == stage
    assert f"{job_id}.upload" in uploads(ws)  # nothing lost: the recording is still there

    worker = start(ws, "worker")
    try:
        done = wait_for(ws, job_id, ("done", "failed"), timeout=600)
    finally:
        out = stop(worker)
    assert done.state == "done", (done, out)
    assert f"Taak {job_id} opnieuw in de wachtrij gezet" in out
    assert done.attempts == 2
    assert_one_consistent_episode(ws, done, transcribed=transcribe)
    assert {j.state for j in jobs.list_jobs(ws)} == {"done"}
