"""The job queue on Redis (``[server] queue = "redis"``): a real ``redis-server``, a real
``vlinder worker`` process, jobs enqueued the way the web app and ``vlinder add --queue`` do."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.core.episodes import load_episode
from pipeline.core.models import EpisodeMeta
from pipeline.core.workspace import Workspace
from pipeline.flows import init as init_workspace
from pipeline.service import jobs

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throw-away ``redis-server`` on a free port, without persistence."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    redis = pytest.importorskip("redis")
    port = _free_port()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--save", "", "--appendonly", "no"]
        + ["--bind", "127.0.0.1", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert proc.poll() is None, "redis-server stopped"
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def rws(tmp_path: Path, redis_url: str) -> Workspace:
    """A workspace whose vlinder.toml puts the queue in Redis."""
    import tomllib

    import tomli_w

    ws = init_workspace(tmp_path / "ws")
    data = tomllib.loads(ws.settings_path.read_text(encoding="utf-8"))
    data.setdefault("server", {}).update(queue="redis", redis_url=redis_url)
    ws.settings_path.write_text(tomli_w.dumps(data), encoding="utf-8")
    ws = Workspace(ws.root)
    assert ws.settings.server.queue == "redis"
    return ws


def _espeak(text: str, out: Path) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    subprocess.run(["espeak-ng", "-v", "nl", "-w", str(out), text], check=True)
    return out


def _wait_for(ws: Workspace, job_id: str, timeout: float = 180) -> jobs.Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = jobs.get_job(ws, job_id)
        if job.finished:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {jobs.get_job(ws, job_id)}")


def _wait_for_text(path: Path, text: str, proc: subprocess.Popen[Any], timeout: float = 60):
    deadline = time.monotonic() + timeout
    while text not in path.read_text(encoding="utf-8", errors="replace"):
        assert proc.poll() is None, path.read_text(encoding="utf-8", errors="replace")
        assert time.monotonic() < deadline, path.read_text(encoding="utf-8", errors="replace")
        time.sleep(0.05)


def test_a_worker_process_runs_jobs_from_redis(rws: Workspace, tmp_path: Path) -> None:
    import redis

    before = _espeak("Welkom bij de podcast over de dijk.", tmp_path / "voor.wav")
    after = _espeak("De alliantie werkte als één team.", tmp_path / "na.wav")
    client = redis.Redis.from_url(rws.settings.server.redis_url)

    # Enqueued while no worker runs: the task waits in a Redis list.
    first = jobs.queue_recording(rws, before, EpisodeMeta(title="Voor de start"), transcribe=False)
    queue_keys = [k.decode() for k in client.keys("huey.redis.*")]
    assert len(queue_keys) == 1 and client.llen(queue_keys[0]) == 1

    log = tmp_path / "worker.log"
    cmd = [sys.executable, "-m", "pipeline", "-w", str(rws.root), "worker"]
    with open(log, "w", encoding="utf-8") as out:
        worker = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for_text(log, "Worker gestart (wachtrij: redis)", worker)
        # Enqueued by another process while the worker runs (the web app's case).
        second = jobs.queue_recording(
            rws, after, EpisodeMeta(title="Na de start"), transcribe=False
        )
        done = [_wait_for(rws, first.id), _wait_for(rws, second.id)]
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    output = log.read_text(encoding="utf-8", errors="replace")
    for job, title in zip(done, ("Voor de start", "Na de start"), strict=True):
        assert job.state == "done" and job.stage == "done", (job, output)
        assert job.attempts == 1
        assert load_episode(rws, job.slug).title == title
    # The worker found the first job in the queue it reads, not by recovering it.
    assert "opnieuw in de wachtrij" not in output, output
    assert client.llen(queue_keys[0]) == 0
    assert not (rws.state_dir / "queue.db").exists()  # nothing went to SqliteHuey
    assert list((rws.state_dir / "uploads").iterdir()) == []
    client.close()
