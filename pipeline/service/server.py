"""Serve: the built site on localhost, with HTTP Range requests (seeking in the audio needs them;
``python -m http.server`` has none; a malformed ``Range`` is ignored, as RFC 9110 says), and
optionally a rebuild whenever the inputs change.

:func:`create_app` is a Starlette app over ``site/`` (StaticFiles answers ``Range`` with 206 and
``Content-Range``). With ``producer=True`` the producer area (issue 7, ``pipeline.service.webapp``)
is mounted under ``/producent/``. :func:`serve` runs it with uvicorn; with ``watch`` a
background thread polls the modification times of ``episodes/``, ``transcripts/``,
``taxonomy.toml`` and ``vlinder.toml`` and calls :func:`pipeline.flows.build` on a change.

:func:`hosting` makes every build while the server runs publish under the server's own address
when the configured base URL is a local one (:mod:`pipeline.core.baseurl`): ``vlinder serve
--port 8744`` serves feeds whose URLs answer on port 8744.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from pipeline import flows
from pipeline.core.baseurl import serve_base_url, served_url, serving
from pipeline.core.errors import VlinderError
from pipeline.core.workspace import Workspace
from pipeline.service.jobs import InProcessWorker
from pipeline.service.messages import build_lines
from pipeline.service.uploads import Janitor
from pipeline.service.webapp import mount
from pipeline.site.hosting import headers_for

log = logging.getLogger(__name__)

NOT_FOUND = """<!doctype html><html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Niet gevonden</title>
</head><body><main><h1>Deze pagina bestaat niet</h1>
<p><a href="/">Naar de voorpagina</a> · <a href="/zoeken/">Zoeken</a></p></main></body></html>"""

MEDIA_TYPES = {
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".pagefind": "application/wasm",
    ".pf_meta": "application/octet-stream",
    ".pf_index": "application/octet-stream",
    ".pf_fragment": "application/octet-stream",
    ".pf_filter": "application/octet-stream",
}


_BYTE_RANGES = re.compile(r"bytes=\s*(?:\d+-\d*|-\d+)\s*(?:,\s*(?:\d+-\d*|-\d+)\s*)*")


def valid_range(value: str) -> bool:
    """Whether a ``Range`` header is well-formed byte ranges (RFC 9110 §14.1.1), each with its
    first position not after its last. A malformed one is ignored (the whole file, 200)."""
    if not _BYTE_RANGES.fullmatch(value.strip()):
        return False
    for spec in value.strip()[len("bytes=") :].split(","):
        first, _, last = spec.strip().partition("-")
        if first and last and int(first) > int(last):
            return False
    return True


class SiteFiles(StaticFiles):
    """StaticFiles with ``index.html`` for folders, a Dutch 404 page, a few media types and
    the site's own headers (:mod:`pipeline.site.hosting`: CORS for players in a browser, the
    chapters' media type)."""

    def file_response(
        self,
        full_path: os.PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        headers = scope.get("headers", [])
        if any(k == b"range" and not valid_range(v.decode("latin-1")) for k, v in headers):
            scope["headers"] = [(k, v) for k, v in headers if k != b"range"]
        response = super().file_response(full_path, stat_result, scope, status_code)
        suffix = Path(full_path).suffix
        if suffix in MEDIA_TYPES:
            response.headers["content-type"] = MEDIA_TYPES[suffix]
        response.headers.update(headers_for(scope.get("path", "")))
        if suffix in (".html", ".json", ".xml") or "pagefind-entry" in str(full_path):
            response.headers["cache-control"] = "no-cache"
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code == 404:
                return HTMLResponse(NOT_FOUND, status_code=404)
            raise


TEXT_SUFFIXES = (".html", ".css", ".js", ".json", ".xml", ".vtt", ".srt", ".txt", ".svg", "/")


class CompressText:
    """Gzip text files (HTML, CSS, JS, JSON, feeds, transcripts), as static hosts do; never the
    audio or Pagefind's own (already compressed) index files, so Range requests stay exact."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=512)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.endswith(TEXT_SUFFIXES):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_app(ws: Workspace, *, producer: bool = False) -> Starlette:
    """The app for ``vlinder serve``: the public site, plus the producer area when asked."""
    site = ws.site_dir
    site.mkdir(parents=True, exist_ok=True)
    files = CompressText(SiteFiles(directory=site, html=True))
    app = Starlette(routes=[Mount("/", app=files, name="site")])
    app.state.workspace = ws
    if producer:
        mount(app, ws)
    return app


@contextlib.contextmanager
def hosting(ws: Workspace, host: str, port: int) -> Iterator[str]:
    """While the block runs, builds of ``ws`` (in this process or another) publish under the
    server's address when the configured base URL is a local one; a public base URL stays.
    Yields the address the site answers on."""
    publish_at = serve_base_url(ws, host, port)
    with serving(ws, publish_at) if publish_at else contextlib.nullcontext():
        yield served_url(host, port)


# --- watching -----------------------------------------------------------------------------------


def _watched(ws: Workspace) -> list[Path]:
    return [ws.episodes_dir, ws.transcripts_dir, ws.taxonomy_path, ws.settings_path]


def snapshot(ws: Workspace) -> dict[str, tuple[int, int]]:
    """(mtime_ns, size) of every watched file; temporary files (``.name.tmp``) are left out."""
    stamps: dict[str, tuple[int, int]] = {}
    for top in _watched(ws):
        paths = [top] if top.is_file() else (top.rglob("*") if top.is_dir() else [])
        for path in paths:
            if path.name.startswith(".") or path.name.endswith(".tmp"):
                continue
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            if path.is_file():
                stamps[str(path)] = (st.st_mtime_ns, st.st_size)
    return stamps


class Watcher(threading.Thread):
    """Polls the inputs; after a change (and a quiet moment) calls ``rebuild``."""

    def __init__(
        self,
        ws: Workspace,
        rebuild: Callable[[], object],
        *,
        interval: float = 1.0,
        report: Callable[[str], None] | None = None,
    ):
        super().__init__(name="vlinder-watch", daemon=True)
        self.ws = ws
        self.rebuild = rebuild
        self.interval = interval
        self.report = report or (lambda line: log.info("%s", line))
        self.stop_event = threading.Event()

    def run(self) -> None:
        before = snapshot(self.ws)
        while not self.stop_event.wait(self.interval):
            now = snapshot(self.ws)
            if now == before:
                continue
            # Wait until the files stop changing (an editor or ingest writing several files).
            while not self.stop_event.wait(self.interval):
                again = snapshot(self.ws)
                if again == now:
                    break
                now = again
            if self.stop_event.is_set():
                return
            try:
                result = self.rebuild()
                for line in result if isinstance(result, list) else []:
                    self.report(str(line))
            except VlinderError as exc:
                self.report(f"bouwen mislukt: {exc}")
            except Exception as exc:  # keep serving whatever goes wrong
                log.exception("rebuild failed")
                self.report(f"bouwen mislukt: {exc}")
            # The build itself may touch watched files (chapter frames in the MP3s).
            before = snapshot(self.ws)

    def stop(self) -> None:
        self.stop_event.set()


def serve(
    ws: Workspace,
    host: str = "127.0.0.1",
    port: int = 8000,
    watch: bool = False,
    *,
    producer: bool = False,
    worker: bool = True,
    report: Callable[[str], None] | None = None,
) -> None:
    """Run the server until interrupted (uvicorn). With ``producer`` and ``worker`` a job
    worker (:class:`pipeline.service.jobs.InProcessWorker`) runs in the same process."""
    import uvicorn

    app = create_app(ws, producer=producer)
    # Each rebuild reads the settings afresh: vlinder.toml is one of the watched files.
    watcher = (
        Watcher(ws, lambda: build_lines(flows.build(Workspace(ws.root))), report=report)
        if watch
        else None
    )
    if watcher is not None:
        watcher.start()
    janitor = Janitor(ws) if producer else None  # stale and finished uploads
    if janitor is not None:
        janitor.start()
    job_worker = None
    if producer and worker:
        job_worker = InProcessWorker(ws)
        for job_id in job_worker.start():
            if report is not None:
                report(f"Taak {job_id} opnieuw in de wachtrij gezet.")
    try:
        # Open event streams (job pages) must not hold a Ctrl-C for long.
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)
    finally:
        if watcher is not None:
            watcher.stop()
        if job_worker is not None:
            job_worker.stop(timeout=5)  # a running job resumes at the next start
        if janitor is not None:
            janitor.stop()
