"""The uploads folder (``.vlinder/uploads``) and its cleanup: an upload is kept while its job
needs it; :func:`clean_uploads` removes the rest, and :class:`Janitor` runs it when the service
or a worker starts and every :data:`CLEAN_EVERY_S`."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from pipeline.catalogue import open_catalogue
from pipeline.core.workspace import Workspace

log = logging.getLogger(__name__)

UPLOAD_SUFFIX = ".upload"
PART_STALE_S = 3600.0  # an upload's .part not written to this long was given up
KEEP_FAILED_S = 7 * 24 * 3600.0  # a failed job's upload is kept this long, for a retry
CLEAN_EVERY_S = 3600.0


def uploads_dir(ws: Workspace) -> Path:
    path = ws.state_dir / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_upload_path(ws: Workspace) -> Path:
    """A fresh ``.vlinder/uploads/<uuid>.upload``: client file names never become paths."""
    return uploads_dir(ws) / f"{uuid.uuid4().hex}{UPLOAD_SUFFIX}"


@dataclass(frozen=True)
class Cleanup:
    """What :func:`clean_uploads` removed (file names in ``.vlinder/uploads``)."""

    removed: tuple[str, ...]
    freed: int  # bytes


def clean_uploads(ws: Workspace, *, now: float | None = None) -> Cleanup:
    """Remove what no job needs from ``.vlinder/uploads``: ``.part`` files not written to for
    :data:`PART_STALE_S` (a killed or abandoned upload), the uploads of finished jobs, of
    failed jobs after :data:`KEEP_FAILED_S`, and uploads without a job (older than
    :data:`PART_STALE_S`: a job is recorded right after its upload is complete)."""
    folder = uploads_dir(ws)
    now = time.time() if now is None else now
    with open_catalogue(ws) as cat:
        jobs = {row["upload"]: row for row in cat.jobs_with_upload()}
    removed: list[str] = []
    freed = 0
    for path in sorted(folder.iterdir()):
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        age = now - st.st_mtime
        row = jobs.get(path.name)
        if path.suffix == ".part" or row is None:
            stale = age > PART_STALE_S
        elif row["state"] == "done":
            stale = True
        elif row["state"] == "failed":
            stale = now - _timestamp(row["updated"]) > KEEP_FAILED_S
        else:
            stale = False
        if stale and path.is_file():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path.name)
                freed += st.st_size
    return Cleanup(tuple(removed), freed)


def _timestamp(iso: str) -> float:
    try:
        return dt.datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return 0.0


class Janitor(threading.Thread):
    """:func:`clean_uploads` when the service starts and every :data:`CLEAN_EVERY_S`."""

    def __init__(self, ws: Workspace, every: float = CLEAN_EVERY_S):
        super().__init__(name="vlinder-janitor", daemon=True)
        self.ws = ws
        self.every = every
        self.stop_event = threading.Event()

    def run(self) -> None:
        while True:
            try:
                done = clean_uploads(self.ws)
                if done.removed:
                    log.info("removed %d stale upload(s), %d bytes", len(done.removed), done.freed)
            except Exception:  # never take the service down for a cleanup
                log.exception("cleaning the uploads failed")
            if self.stop_event.wait(self.every):
                return

    def stop(self) -> None:
        self.stop_event.set()
