"""Background jobs: an uploaded recording goes ingest -> transcribe -> tag -> publish.

The queue is huey (not a home-made one): ``SqliteHuey`` in ``.vlinder/queue.db`` by default,
``RedisHuey`` when ``[server] queue = "redis"`` (``pip install vlinder[redis]``), so workers on
other machines that share the workspace can take jobs. The state a producer sees (stage,
progress, ETA, error) lives in the catalogue's ``jobs`` table, not in huey.

Guarantees:

* one job at a time per worker (the default worker has one thread);
* the upload (``.vlinder/uploads/<uuid>.upload``) is kept until its job succeeds; a failed
  job's upload for ``uploads.KEEP_FAILED_S`` (to retry it), or until the job is deleted;
  :func:`pipeline.service.uploads.clean_uploads` (at start and every hour) removes the rest
  and the ``.part`` files that killed uploads left;
* a job left ``running`` by a killed worker is put back in the queue when a worker starts
  (:func:`recover`), and every stage resumes: ingest is skipped once the episode exists,
  transcription and tagging skip what is up to date, publishing is idempotent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.consumer import Worker

from pipeline import flows
from pipeline.catalogue import Catalogue, open_catalogue
from pipeline.core.episodes import clean_meta, load_episode, update_episode
from pipeline.core.errors import (
    AudioError,
    DuplicateError,
    InputError,
    NotFoundError,
    VlinderError,
    WorkspaceError,
)
from pipeline.core.models import EpisodeMeta
from pipeline.core.workspace import Workspace
from pipeline.ingest import find_duplicate, ingest
from pipeline.ingest.audio import AudioInfo, probe, sha256_file
from pipeline.service.messages import without_paths
from pipeline.service.uploads import UPLOAD_SUFFIX, Janitor, new_upload_path, uploads_dir

log = logging.getLogger(__name__)

TASK_NAME = "vlinder.process_upload"
STAGES = ("queued", "ingest", "transcribe", "tag", "publish", "done")
HEARTBEAT_S = 15.0
STALE_AFTER_S = 300.0  # a running job without a heartbeat this long is taken over


@dataclass(frozen=True)
class Job:
    """A job as the web app and the CLI show it."""

    id: str
    state: str  # queued | running | done | failed
    stage: str  # one of STAGES
    progress: float  # 0..1 within the stage (transcription) or overall
    eta: float | None  # seconds left in the current stage, when known
    message: str
    error: str
    source_name: str
    params: dict[str, Any]
    slug: str
    attempts: int
    created: str
    updated: str

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")


def _job_from_row(row: Any) -> Job:
    return Job(
        id=row["id"],
        state=row["state"],
        stage=row["stage"],
        progress=float(row["progress"]),
        eta=row["eta"],
        message=row["message"],
        error=row["error"],
        source_name=row["source_name"],
        params=json.loads(row["params"] or "{}"),
        slug=row["slug"],
        attempts=int(row["attempts"]),
        created=row["created"],
        updated=row["updated"],
    )


def job_params(meta: EpisodeMeta, *, transcribe: bool = True) -> dict[str, Any]:
    """A job's parameters as the catalogue keeps them (JSON)."""
    date = meta.date.isoformat() if isinstance(meta.date, dt.date) else (meta.date or "")
    return {
        "title": meta.title,
        "date": date,
        "speakers": list(meta.speakers),
        "description": meta.description,
        "event": meta.event,
        "kind": meta.kind,
        "speaker_count": meta.speaker_count,
        "transcribe": transcribe,
    }


def job_meta(params: dict[str, Any], source_name: str = "") -> EpisodeMeta:
    """The episode metadata of a job's parameters."""
    return EpisodeMeta(
        title=str(params.get("title") or default_title(source_name)),
        date=params.get("date") or None,
        speakers=tuple(str(s) for s in params.get("speakers", ())),
        description=str(params.get("description", "")),
        event=str(params.get("event", "")),
        kind=str(params.get("kind") or "talk"),
        speaker_count=params.get("speaker_count"),
    )


def get_job(ws: Workspace, job_id: str) -> Job:
    with open_catalogue(ws) as cat:
        row = cat.job(job_id)
    if row is None:
        raise NotFoundError(f"taak '{job_id}' bestaat niet")
    return _job_from_row(row)


def list_jobs(ws: Workspace, limit: int = 50) -> list[Job]:
    with open_catalogue(ws) as cat:
        return [_job_from_row(r) for r in cat.jobs(limit)]


# --- the queue ----------------------------------------------------------------------------
_hueys: dict[tuple[str, str], Huey] = {}
_tasks: dict[tuple[str, str], Any] = {}
_hueys_lock = threading.Lock()


def get_huey(ws: Workspace) -> Huey:
    """The huey instance of a workspace, with the processing task registered (cached)."""
    server = ws.settings.server
    key = (str(ws.root), server.queue)
    with _hueys_lock:
        if key in _hueys:
            return _hueys[key]
        # A stable name: hash() of a str differs per process, and the web app, `vlinder add
        # --queue` and every worker must agree on the queue they share.
        name = f"vlinder-{hashlib.sha1(str(ws.root).encode()).hexdigest()[:12]}"
        if server.queue == "sqlite":
            ws.state_dir.mkdir(parents=True, exist_ok=True)
            huey: Huey = SqliteHuey(
                name=name, filename=str(ws.state_dir / "queue.db"), results=False
            )
        elif server.queue == "redis":
            try:
                import redis  # noqa: F401
            except ImportError as exc:
                raise WorkspaceError(
                    '[server] queue = "redis" vraagt het pakket redis: '
                    "pip install 'vlinder[redis]'"
                ) from exc
            huey = RedisHuey(name=name, url=server.redis_url, results=False)
        else:
            raise WorkspaceError(
                f'[server] queue moet "sqlite" of "redis" zijn, niet \'{server.queue}\''
            )

        def process_upload(job_id: str) -> None:
            run_job(ws, job_id)

        _tasks[key] = huey.task(name=TASK_NAME)(process_upload)
        _hueys[key] = huey
        return huey


def enqueue(ws: Workspace, job_id: str) -> None:
    huey = get_huey(ws)
    wrapper = _tasks[(str(ws.root), ws.settings.server.queue)]
    huey.enqueue(wrapper.task_class(args=(job_id,)))


def probe_recording(path: Path, display_name: str) -> AudioInfo:
    """Check that ``path`` is a readable recording: the ingest probe (PyAV), then decode up
    to a second of it (random bytes can pass a container probe as "mp3").

    Raises :class:`AudioError` naming ``display_name`` (not an upload's uuid name).
    """
    import av

    try:
        info = probe(path)
    except AudioError as exc:
        raise AudioError(str(exc).replace(path.name, display_name)) from exc
    bad = AudioError(f"{display_name} is geen leesbaar audio- of videobestand")
    if info.sample_rate <= 0 or info.channels <= 0:
        raise bad
    decoded = 0.0
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            for n, frame in enumerate(container.decode(stream)):
                decoded += frame.samples / (frame.sample_rate or info.sample_rate)
                if decoded >= 1.0 or n >= 500:
                    break
    except (av.error.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise bad from exc
    if decoded <= 0.0:
        raise bad
    return info


def submit(
    ws: Workspace, upload: Path, meta: EpisodeMeta, *, source_name: str, transcribe: bool = True
) -> Job:
    """Record a job for a file already in ``.vlinder/uploads`` and put it in the queue."""
    if upload.parent != uploads_dir(ws) or not upload.name.endswith(UPLOAD_SUFFIX):
        raise InputError(f"{upload} ligt niet in {uploads_dir(ws)}")
    params = job_params(meta, transcribe=transcribe)
    job_id = upload.name.removesuffix(UPLOAD_SUFFIX)
    with open_catalogue(ws) as cat:
        cat.create_job(job_id, upload=upload.name, source_name=source_name, params=params)
    enqueue(ws, job_id)
    return get_job(ws, job_id)


def submit_file(ws: Workspace, path: Path, meta: EpisodeMeta, *, transcribe: bool = True) -> Job:
    """``vlinder add --queue``: take a copy of ``path`` (a hard link when possible) and queue it.

    The job deletes its copy after success; the caller's file is never touched.
    """
    if not path.is_file():
        raise InputError(f"bestand niet gevonden: {path}")
    target = new_upload_path(ws)
    part = target.with_suffix(".part")
    try:
        try:
            os.link(path, part)
        except OSError:
            shutil.copyfile(path, part)
        os.replace(part, target)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise InputError(f"kan {path} niet in de wachtrij zetten: {exc.strerror}") from exc
    try:
        return submit(ws, target, meta, source_name=path.name, transcribe=transcribe)
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def queue_recording(
    ws: Workspace, path: Path, meta: EpisodeMeta, *, transcribe: bool = True
) -> Job:
    """``vlinder add --queue``: check the recording now, process it in the worker later."""
    if not path.is_file():
        raise InputError(f"bestand '{path}' bestaat niet")
    info = probe_recording(path, path.name)
    refuse_duplicate(ws, path, path.name)
    meta = replace(
        clean_meta(meta),
        title=meta.title.strip() or default_title(path.name, info.title_tag),
        speakers=tuple(s.strip() for s in meta.speakers if s.strip()),
    )
    return submit_file(ws, path, meta, transcribe=transcribe)


def refuse_duplicate(ws: Workspace, path: Path, display_name: str) -> None:
    """:class:`DuplicateError` at once when the recording is already an episode (a queued job
    would only fail on it later)."""
    existing = find_duplicate(ws, sha256_file(path))
    if existing is not None:
        raise DuplicateError(
            f"{display_name} is al toegevoegd als aflevering '{existing}'", existing
        )


def delete_job(ws: Workspace, job_id: str) -> None:
    """Delete a failed (or finished) job and its upload; a queued or running job stays."""
    with open_catalogue(ws) as cat:
        row = cat.job(job_id)
        if row is None:
            raise NotFoundError(f"taak '{job_id}' bestaat niet")
        if not cat.delete_job(job_id, ("failed", "done")):
            raise InputError("alleen een mislukte of afgeronde taak kan worden verwijderd")
    if row["upload"]:
        (uploads_dir(ws) / row["upload"]).unlink(missing_ok=True)


def retry(ws: Workspace, job_id: str) -> Job:
    """Put a failed job back in the queue (its upload was kept)."""
    job = get_job(ws, job_id)
    if job.state != "failed":
        raise InputError("alleen een mislukte taak kan opnieuw")
    with open_catalogue(ws) as cat:
        if not cat.requeue_job(job_id, ("failed",)):
            raise InputError("alleen een mislukte taak kan opnieuw")
        cat.update_job(job_id, stage="queued", progress=0.0, message="")
    enqueue(ws, job_id)
    return get_job(ws, job_id)


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_orphan(worker: str, heartbeat: str) -> bool:
    """True when the worker that runs a job is gone (dead pid here, or a stale heartbeat)."""
    host, _, pid = worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return int(pid) != os.getpid() and not _pid_alive(int(pid))
    try:
        beat = dt.datetime.fromisoformat(heartbeat)
    except ValueError:
        return True
    return (dt.datetime.now(dt.UTC) - beat).total_seconds() > STALE_AFTER_S


def recover(ws: Workspace) -> list[str]:
    """Requeue jobs a killed worker left ``running`` and queued jobs missing from the queue.

    Called when a worker starts; returns the ids it put back.
    """
    huey = get_huey(ws)
    requeued: list[str] = []
    with open_catalogue(ws) as cat:
        for row in cat.jobs_in_state("running"):
            if _is_orphan(row["worker"], row["heartbeat"]) and cat.requeue_job(
                row["id"], ("running",)
            ):
                requeued.append(row["id"])
        queued = [row["id"] for row in cat.jobs_in_state("queued")]
    in_queue: set[str] = set()
    with contextlib.suppress(Exception):  # a backend that cannot list: claim_job dedupes
        in_queue = {t.args[0] for t in huey.pending() if t.name == TASK_NAME and t.args}
    for job_id in queued:
        if job_id not in in_queue:
            enqueue(ws, job_id)
            if job_id not in requeued:
                requeued.append(job_id)
    return requeued


# --- running one job ----------------------------------------------------------------------
class _Reporter:
    """Writes stage/progress/ETA of a running job to the catalogue (at most ~2 per second)."""

    def __init__(self, cat: Catalogue, job_id: str):
        self.cat = cat
        self.job_id = job_id
        self.lock = threading.Lock()
        self.stage = ""
        self.stage_started = time.monotonic()
        self.last_write = 0.0

    def enter(self, stage: str, message: str = "") -> None:
        with self.lock:
            self.stage = stage
            self.stage_started = time.monotonic()
            self.last_write = time.monotonic()
            self.cat.update_job(
                self.job_id,
                stage=stage,
                progress=0.0,
                eta=None,
                message=message,
                heartbeat=_iso_now(),
            )

    def progress(self, done: float, total: float) -> None:
        now = time.monotonic()
        with self.lock:
            if now - self.last_write < 0.5 and done < total:
                return
            self.last_write = now
            fraction = min(max(done / total, 0.0), 1.0) if total > 0 else 0.0
            elapsed = now - self.stage_started
            eta = elapsed * (1 - fraction) / fraction if fraction > 0.02 else None
            self.cat.update_job(self.job_id, progress=fraction, eta=eta, heartbeat=_iso_now())

    def beat(self) -> None:
        with self.lock:
            self.cat.update_job(self.job_id, heartbeat=_iso_now())


def _iso_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@contextlib.contextmanager
def _heartbeat(reporter: _Reporter) -> Iterator[None]:
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(HEARTBEAT_S):
            with contextlib.suppress(Exception):
                reporter.beat()

    thread = threading.Thread(target=loop, name="vlinder-job-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def run_job(ws: Workspace, job_id: str) -> Job:
    """The task body: claim the job, run every stage, record the outcome. Never raises
    for a user error: the job ends ``failed`` with the one-line Dutch message."""
    # Each job runs in a fresh Workspace so settings edited since the server started count.
    ws = Workspace(ws.root)
    with open_catalogue(ws) as cat:
        if not cat.claim_job(job_id, _worker_id()):
            log.info("job %s is not queued (any more); skipped", job_id)
            return get_job(ws, job_id)
        reporter = _Reporter(cat, job_id)
        try:
            with _heartbeat(reporter):
                slug = _run_stages(ws, cat, job_id, reporter)
        except VlinderError as exc:
            cat.update_job(job_id, state="failed", error=without_paths(str(exc), ws.root), eta=None)
            return get_job(ws, job_id)
        except Exception as exc:  # a bug, not a user error: keep the job retryable
            log.exception("job %s failed", job_id)
            cat.update_job(
                job_id,
                state="failed",
                error=without_paths(f"onverwachte fout ({type(exc).__name__}: {exc})", ws.root),
                eta=None,
            )
            return get_job(ws, job_id)
        row = cat.job(job_id)
        cat.update_job(
            job_id, state="done", stage="done", progress=1.0, eta=None, message="", slug=slug
        )
    if row is not None and row["upload"]:
        (uploads_dir(ws) / row["upload"]).unlink(missing_ok=True)
    return get_job(ws, job_id)


def _run_stages(ws: Workspace, cat: Catalogue, job_id: str, reporter: _Reporter) -> str:
    row = cat.job(job_id)
    assert row is not None
    params = json.loads(row["params"] or "{}")
    slug = row["slug"]
    if not slug or not ws.episode_file(slug).exists():
        reporter.enter("ingest")
        upload = uploads_dir(ws) / row["upload"]
        if not upload.exists():
            raise InputError("de upload van deze taak is verdwenen; upload de opname opnieuw")
        earlier = str(params.get("ingest_started", ""))
        cat.update_job(job_id, params={**params, "ingest_started": _iso_now()})
        try:
            slug = _ingest(ws, upload, row["source_name"], params, reporter)
        except DuplicateError as exc:
            if not _made_by(ws, cat, job_id, exc.slug, earlier):
                raise
            slug = exc.slug  # an earlier attempt of this job got as far as ingest
        cat.update_job(job_id, slug=slug)

    transcribe = bool(params.get("transcribe", True))
    reporter.enter("transcribe" if transcribe else "tag")

    def on_progress(done: float, total: float) -> None:
        if reporter.stage == "transcribe" and total > 0 and done >= total:
            reporter.enter("tag")
        else:
            reporter.progress(done, total)

    flows.process(ws, slug, transcribe_audio=transcribe, progress=on_progress)
    reporter.enter("publish")
    built = flows.build(ws)  # another episode's broken file does not fail this job
    for failed, why in built.failed:
        if failed == slug:
            raise WorkspaceError(f"aflevering '{slug}' is niet gepubliceerd: {why}")
    return slug


def _made_by(ws: Workspace, cat: Catalogue, job_id: str, slug: str, started: str) -> bool:
    """Whether episode ``slug`` is the work of an earlier attempt of this job (killed before it
    could record the slug): made after that attempt started, and no other job's episode. A
    retried duplicate of another job's (or the CLI's) episode is not."""
    if not started:
        return False
    try:
        created = load_episode(ws, slug).created
    except VlinderError:
        return False
    if not created or created < started:
        return False
    return not any(row["slug"] == slug and row["id"] != job_id for row in cat.jobs_with_slug(slug))


def _ingest(
    ws: Workspace, upload: Path, source_name: str, params: dict[str, Any], reporter: _Reporter
) -> str:
    try:
        episode = ingest(ws, upload, job_meta(params, source_name), progress=reporter.progress)
    except VlinderError as exc:  # name the producer's file, not the upload's uuid
        if isinstance(exc, DuplicateError):
            raise DuplicateError(
                f"{source_name} is al toegevoegd als aflevering '{exc.slug}'", exc.slug
            ) from exc
        raise type(exc)(str(exc).replace(upload.name, source_name)) from exc
    if source_name and episode.episode.source_name != source_name:
        update_episode(ws, episode.episode.slug, source_name=source_name)
    return episode.episode.slug


def default_title(source_name: str, tag_title: str = "") -> str:
    """A title when the producer gave none: the recording's title tag, else its file name."""
    if tag_title.strip():
        return tag_title.strip()
    stem = source_name.rsplit(".", 1)[0] if "." in source_name else source_name
    return " ".join(stem.replace("_", " ").split()) or "Aflevering"


# --- workers ------------------------------------------------------------------------------
class InProcessWorker:
    """Huey's worker loop in a daemon thread (``vlinder serve`` without ``--no-worker``)."""

    def __init__(self, ws: Workspace):
        self.ws = ws
        self.stop_flag = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> list[str]:
        huey = get_huey(self.ws)
        requeued = recover(self.ws)
        worker = Worker(huey, self.stop_flag, default_delay=0.2, max_delay=2.0, backoff=1.15)

        def loop() -> None:
            worker.initialize()
            while not self.stop_flag.is_set():
                try:
                    worker.loop()
                except Exception:  # keep the thread alive; the job itself records errors
                    log.exception("worker loop failed")
                    self.stop_flag.wait(1.0)

        self.thread = threading.Thread(target=loop, name="vlinder-worker", daemon=True)
        self.thread.start()
        return requeued

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the running job (or at once when idle)."""
        self.stop_flag.set()
        if self.thread is not None:
            self.thread.join(timeout)


def run_worker(ws: Workspace, on_start: Callable[[list[str]], None] | None = None) -> None:
    """``vlinder worker``: huey's consumer with one worker thread, until Ctrl-C / SIGTERM."""
    huey = get_huey(ws)
    requeued = recover(ws)
    if on_start is not None:
        on_start(requeued)
    janitor = Janitor(ws)
    janitor.start()
    consumer = huey.create_consumer(workers=1, worker_type="thread", periodic=False)
    try:
        consumer.run()
    finally:
        janitor.stop()
