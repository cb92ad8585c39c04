"""Routes of the producer area. Everything here needs a login except the login page itself
and the static files; every POST needs the session's CSRF token."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import jinja2
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline import flows
from pipeline.core.episodes import EpisodeScan, clean_meta, load_episode, parse_date, scan_episodes
from pipeline.core.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    VlinderError,
    WorkspaceError,
)
from pipeline.core.models import KINDS, EpisodeMeta
from pipeline.core.text import clean_text
from pipeline.core.timefmt import clock
from pipeline.core.workspace import Workspace
from pipeline.service import jobs
from pipeline.service.messages import build_lines, without_paths

from . import auth, clips, editing, listen, soundbites
from .speakers import save_speakers, speaker_form
from .upload import MB, UploadRejected, discard, receive_upload

log = logging.getLogger(__name__)

PACKAGE = Path(__file__).resolve().parent
STAGE_LABELS = {
    "queued": "In de wachtrij",
    "ingest": "Inlezen en normaliseren",
    "transcribe": "Uitschrijven (spraakherkenning)",
    "tag": "Ingrediënten taggen",
    "publish": "Publiceren (site en feeds)",
    "done": "Klaar",
}
STATE_LABELS = {
    "queued": "wacht",
    "running": "bezig",
    "done": "klaar",
    "failed": "mislukt",
}
TOO_MANY = "Te veel mislukte pogingen om in te loggen. Probeer het over {seconds} s opnieuw."
ERROR_TITLES = {
    400: "Dat lukte niet",
    401: "Niet ingelogd",
    403: "Geen toegang",
    404: "Niet gevonden",
    405: "Dat kan hier niet",
    409: "Intussen gewijzigd",
    413: "Te groot",
    429: "Even wachten",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(PACKAGE / "templates")),
    autoescape=True,  # everything displayed is escaped
    trim_blocks=True,
    lstrip_blocks=True,
    undefined=jinja2.StrictUndefined,
)


def _eta_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"nog ongeveer {seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"nog ongeveer {minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"nog ongeveer {hours} u {minutes:02d} min"


_env.filters["eta"] = _eta_text
_env.globals["fmt_time"] = clock
_env.globals["unsure_words"] = editing.unsure_words
_env.globals["STAGE_LABELS"] = STAGE_LABELS
_env.globals["STATE_LABELS"] = STATE_LABELS


def job_payload(job: jobs.Job, base: str) -> dict[str, Any]:
    data = asdict(job)
    data["stage_label"] = STAGE_LABELS.get(job.stage, job.stage)
    data["state_label"] = STATE_LABELS.get(job.state, job.state)
    data["eta_text"] = _eta_text(job.eta)
    data["percent"] = round(job.progress * 100)
    data["episode_url"] = f"{base}/afleveringen/{quote(job.slug)}" if job.slug else ""
    return data


def _place(part: str, form: FormData) -> str:
    """Where the page opens after a save: the segment the producer was at in the transcript
    (the editor's ``plek``), else the form's section."""
    place = str(form.get("plek", ""))
    return f"segment-{place}" if part == "transcript" and place.isdigit() else part


class ProducerApp:
    """The views, bound to one workspace."""

    def __init__(self, ws: Workspace, token: str):
        self.ws = ws
        self.publish_lock = threading.Lock()
        self.sessions = auth.Sessions(ws, token)
        self.throttle = auth.LoginThrottle()
        self.trust_proxy = ws.settings.server.trust_proxy

    # helpers -----------------------------------------------------------------------------
    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        base = request.scope.get("root_path", "")
        values: dict[str, Any] = {
            "base": base,
            "csrf": auth.csrf_token(request),
            "logged_in": auth.logged_in(request),
            "flash": request.session.pop("flash", None),
            "status": status,
            "error_title": ERROR_TITLES.get(status, "Dat lukte niet"),
            "podcast": self.ws.settings.podcast,
            "error": None,
        }
        values.update(context)
        html = _env.get_template(name).render(**values)
        return HTMLResponse(
            html,
            status_code=status,
            headers={
                "Cache-Control": "no-store",
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "same-origin",
                "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                "frame-ancestors 'none'; form-action 'self'",
            },
        )

    def error(
        self, request: Request, status: int, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        """An error as a Dutch page (browsers) or JSON ``{"error": ...}`` (scripts)."""
        if "text/html" in request.headers.get("accept", ""):
            response = self.render(request, "error.html", status=status, message=message)
        else:
            response = JSONResponse({"error": message}, status_code=status)
        response.headers.update(headers or {})
        return response

    async def form(self, request: Request) -> FormData:
        """The posted form after checking its CSRF token (403 without revealing more)."""
        form = await request.form(max_files=0, max_fields=5000)
        given = form.get(auth.CSRF_FIELD) or request.headers.get(auth.CSRF_HEADER)
        if not isinstance(given, str) or not auth.csrf_ok(request, given):
            raise HTTPException(403, "Ongeldig formulier; laad de pagina opnieuw.")
        return FormData(
            [(k, clean_text(v) if isinstance(v, str) else v) for k, v in form.multi_items()]
        )

    def redirect(
        self, request: Request, path: str, flash: str | None = None, *, error: bool = False
    ) -> Response:
        if flash:
            request.session["flash"] = {"text": flash, "error": error}
        return RedirectResponse(f"{request.scope.get('root_path', '')}{path}", status_code=303)

    @staticmethod
    def wants_json(request: Request) -> bool:
        return "application/json" in request.headers.get("accept", "")

    async def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))

    # login -------------------------------------------------------------------------------
    async def login_page(self, request: Request) -> Response:
        if auth.logged_in(request):
            return self.redirect(request, "/")
        return self.render(request, "login.html")

    async def login(self, request: Request) -> Response:
        client = auth.client_address(request.scope, self.trust_proxy)
        wait = self.throttle.wait(client)
        if wait > 0:  # nothing is checked while a client (or everybody) has to wait
            return self.too_many(request, wait)
        form = await self.form(request)
        token, _ = auth.producer_token(self.ws)
        given = form.get("token")
        if isinstance(given, str) and auth.same_secret(given.strip(), token):
            self.throttle.succeeded(client)
            await self.run(auth.log_in, request, self.sessions, client)
            log.info("Ingelogd op de producentenomgeving vanaf %s", client)
            return self.redirect(request, "/")
        failures = self.throttle.failed(client)
        log.warning(
            "Mislukte inlogpoging op de producentenomgeving vanaf %s (%d op rij)", client, failures
        )
        wait = self.throttle.wait(client)
        if wait > 0:
            return self.too_many(request, wait)
        return self.render(request, "login.html", status=403, error="Inloggen mislukt.")

    def too_many(self, request: Request, wait: float) -> Response:
        seconds = auth.retry_after(wait)
        if self.wants_json(request):
            return JSONResponse(
                {"error": TOO_MANY.format(seconds=seconds)},
                status_code=429,
                headers={"Retry-After": seconds},
            )
        response = self.render(
            request, "login.html", status=429, error=TOO_MANY.format(seconds=seconds)
        )
        response.headers["Retry-After"] = seconds
        return response

    async def logout(self, request: Request) -> Response:
        await self.form(request)
        await self.run(auth.log_out, request, self.sessions)
        return self.redirect(request, "/login")

    # dashboard and upload ------------------------------------------------------------------
    async def dashboard(self, request: Request) -> Response:
        job_list = await self.run(jobs.list_jobs, self.ws, 30)
        scan = await self.run(_safe_episodes, self.ws)
        return self.render(
            request,
            "dashboard.html",
            jobs=job_list,
            episodes=scan.episodes,
            broken=self.broken(scan),
            max_upload_mb=self.ws.settings.server.max_upload_mb,
        )

    def broken(self, scan: EpisodeScan) -> list[tuple[str, str]]:
        """The episodes whose file cannot be read, with why (for a warning on the dashboard)."""
        return [(slug, _sentence(without_paths(why, self.ws.root))) for slug, why in scan.problems]

    async def upload(self, request: Request) -> Response:
        ws = self.ws
        limit_mb = ws.settings.server.max_upload_mb
        try:
            received = await receive_upload(
                request,
                ws,
                max_bytes=limit_mb * MB,
                csrf_ok=lambda given: auth.csrf_ok(request, given),
            )
        except UploadRejected as exc:
            return self.upload_error(request, exc.status, exc.message)
        try:
            meta = _job_meta(received.fields)
            info = await self.run(jobs.probe_recording, received.path, received.filename)
            if not meta.title:
                meta = replace(meta, title=jobs.default_title(received.filename, info.title_tag))
            await self.run(jobs.refuse_duplicate, ws, received.path, received.filename)
            job = await self.run(
                jobs.submit, ws, received.path, meta, source_name=received.filename
            )
        except VlinderError as exc:
            discard(received.path)
            return self.upload_error(request, 400, self.sentence(exc))
        except BaseException:
            discard(received.path)
            raise
        base = request.scope.get("root_path", "")
        url = f"{base}/taken/{job.id}"
        if self.wants_json(request):
            return JSONResponse({"job": job.id, "url": url}, status_code=201)
        return RedirectResponse(url, status_code=303)

    def sentence(self, exc: Exception) -> str:
        """A core error as the producer sees it: one sentence, no server paths."""
        return _sentence(without_paths(str(exc), self.ws.root))

    def upload_error(self, request: Request, status: int, message: str) -> Response:
        if self.wants_json(request):
            return JSONResponse({"error": message}, status_code=status)
        scan = _safe_episodes(self.ws)
        return self.render(
            request,
            "dashboard.html",
            status=status,
            error=message,
            jobs=jobs.list_jobs(self.ws, 30),
            episodes=scan.episodes,
            broken=self.broken(scan),
            max_upload_mb=self.ws.settings.server.max_upload_mb,
        )

    # jobs ------------------------------------------------------------------------------------
    async def job_page(self, request: Request) -> Response:
        job = await self.run(_job_or_404, self.ws, request.path_params["job_id"])
        base = request.scope.get("root_path", "")
        return self.render(request, "job.html", job=job, payload=job_payload(job, base))

    async def job_status(self, request: Request) -> Response:
        job = await self.run(_job_or_404, self.ws, request.path_params["job_id"])
        return JSONResponse(
            job_payload(job, request.scope.get("root_path", "")),
            headers={"Cache-Control": "no-store"},
        )

    async def job_events(self, request: Request) -> Response:
        """Server-sent events: the job's state whenever it changes; ends when it finishes
        (or after two minutes; the browser's EventSource reconnects by itself)."""
        job_id = request.path_params["job_id"]
        await self.run(_job_or_404, self.ws, job_id)
        base = request.scope.get("root_path", "")

        async def events() -> AsyncIterator[str]:
            last = ""
            loop = asyncio.get_running_loop()
            started = loop.time()
            last_sent = started
            yield "retry: 2000\n\n"
            while loop.time() - started < 120:
                job = await self.run(jobs.get_job, self.ws, job_id)
                data = json.dumps(job_payload(job, base), ensure_ascii=False)
                if data != last:
                    last = data
                    last_sent = loop.time()
                    yield f"data: {data}\n\n"
                elif loop.time() - last_sent > 15:
                    last_sent = loop.time()
                    yield ": keep-alive\n\n"
                if job.finished:
                    return
                await asyncio.sleep(1.0)

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    async def job_retry(self, request: Request) -> Response:
        await self.form(request)
        job_id = request.path_params["job_id"]
        await self.run(_job_or_404, self.ws, job_id)
        try:
            await self.run(jobs.retry, self.ws, job_id)
        except VlinderError as exc:
            return self.redirect(request, f"/taken/{job_id}", self.sentence(exc), error=True)
        return self.redirect(request, f"/taken/{job_id}", "De taak staat weer in de wachtrij.")

    async def job_delete(self, request: Request) -> Response:
        await self.form(request)
        job_id = request.path_params["job_id"]
        await self.run(_job_or_404, self.ws, job_id)
        try:
            await self.run(jobs.delete_job, self.ws, job_id)
        except VlinderError as exc:
            return self.redirect(request, f"/taken/{job_id}", self.sentence(exc), error=True)
        return self.redirect(request, "/", "De taak en haar upload zijn verwijderd.")

    # episodes ----------------------------------------------------------------------------------
    async def episode_page(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        try:
            view = await self.run(_view_or_404, self.ws, slug)
        except WorkspaceError as exc:  # a broken episode.toml: say which, and what is wrong
            return self.render(
                request, "broken.html", status=409, slug=slug, problem=self.sentence(exc)
            )
        return await self.episode_response(request, view)

    async def episode_response(
        self, request: Request, view: editing.EpisodeView, status: int = 200, error: str = ""
    ) -> Response:
        slug = view.episode.slug
        return self.render(
            request,
            "episode.html",
            status=status,
            error=error or None,
            view=view,
            soundbites=await self.run(soundbites.soundbite_form, self.ws, slug),
            speakers=await self.run(speaker_form, self.ws, slug),
            ep=view.episode,
            base_path=f"/afleveringen/{quote(slug)}",
        )

    async def episode_update(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        form = await self.form(request)
        try:
            await self.run(_view_or_404, self.ws, slug)
        except WorkspaceError as exc:  # a broken episode.toml: its page says what is wrong
            return self.redirect(
                request, f"/afleveringen/{quote(slug)}", self.sentence(exc), error=True
            )
        part = request.path_params["part"]
        handlers: dict[str, Callable[[Workspace, str, FormData], str]] = {
            "gegevens": editing.save_metadata,
            "hoofdstukken": editing.save_chapters,
            "tags": editing.save_tags,
            "transcript": editing.save_transcript,
            "hoogtepunten": soundbites.save_soundbites,
            "sprekers": save_speakers,
        }
        if part not in handlers:
            raise HTTPException(404, "Niet gevonden.")
        try:
            message = await self.run(handlers[part], self.ws, slug, form)
        except ConflictError as exc:  # nothing saved: show the page as it is now, with why
            if not self.wants_json(request) or "text/html" in request.headers.get("accept", ""):
                view = await self.run(_view_or_404, self.ws, slug)
                return await self.episode_response(request, view, 409, self.sentence(exc))
            return JSONResponse({"error": self.sentence(exc)}, status_code=409)
        except VlinderError as exc:
            return self.redirect(
                request, f"/afleveringen/{quote(slug)}#{part}", self.sentence(exc), error=True
            )
        return self.redirect(request, f"/afleveringen/{quote(slug)}#{_place(part, form)}", message)

    async def publish(self, request: Request) -> Response:
        form = await self.form(request)
        back = str(form.get("terug", "/"))
        if not back.startswith("/") or back.startswith("//"):
            back = "/"
        try:
            result = await self.run(self._publish)
        except VlinderError as exc:
            return self.redirect(
                request, back, f"Publiceren mislukt: {self.sentence(exc)}", error=True
            )
        if result.failed:
            skipped = "; ".join(
                f"'{slug}': {without_paths(why, self.ws.root)}" for slug, why in result.failed
            )
            return self.redirect(
                request,
                back,
                f"Gepubliceerd, behalve {len(result.failed)} aflevering(en) die niet gelezen "
                f"kunnen worden: {skipped}",
                error=True,
            )
        lines = build_lines(result)
        detail = f" ({'; '.join(lines[:3])})" if lines else ""
        return self.redirect(request, back, f"Gepubliceerd: site en feeds zijn bijgewerkt{detail}.")

    def _publish(self) -> flows.BuildResult:
        with self.publish_lock:
            return flows.build(self.ws)


def _sentence(message: str) -> str:
    message = message.strip()
    if not message:
        return message
    first = message.split()[0]
    if first.isalpha():  # not a file name like "opname.mp3"
        message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def _job_meta(fields: dict[str, str]) -> EpisodeMeta:
    """Validate the upload form's fields into the episode's metadata (InputError in Dutch)."""
    date = fields.get("date", "").strip()
    kind = fields.get("kind", "talk").strip() or "talk"
    if kind not in KINDS:
        raise InputError("soort moet lezing of interview zijn")
    speakers = [s.strip() for s in fields.get("speakers", "").replace("\n", ",").split(",")]
    meta = EpisodeMeta(
        title=clean_text(fields.get("title", "")).strip(),
        date=parse_date(date) if date else None,
        speakers=tuple(s for s in speakers if s),
        description=fields.get("description", "").strip(),
        event=fields.get("event", "").strip(),
        kind=kind,
    )
    return clean_meta(meta)


def _safe_episodes(ws: Workspace) -> EpisodeScan:
    with contextlib.suppress(VlinderError, OSError):
        return scan_episodes(ws)
    return EpisodeScan(())


def _job_or_404(ws: Workspace, job_id: str) -> jobs.Job:
    try:
        return jobs.get_job(ws, job_id)
    except NotFoundError as exc:
        raise HTTPException(404, "Deze taak bestaat niet.") from exc


def _view_or_404(ws: Workspace, slug: str) -> editing.EpisodeView:
    if "/" in slug or slug.startswith("."):
        raise HTTPException(404, "Deze aflevering bestaat niet.")
    try:
        load_episode(ws, slug)
    except NotFoundError as exc:
        raise HTTPException(404, "Deze aflevering bestaat niet.") from exc
    return editing.episode_view(ws, slug)


def _error_handlers(
    views: ProducerApp,
) -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """Every error of the producer area as a Dutch page (or JSON): never a bare 500."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = exc.detail if exc.status_code != 405 else "Deze actie kan hier niet."
        if exc.status_code == 404 and message == "Not Found":
            message = "Deze pagina bestaat niet."
        return views.error(request, exc.status_code, message, dict(exc.headers or {}))

    async def vlinder_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, VlinderError)
        status = 404 if isinstance(exc, NotFoundError) else 400
        return views.error(request, status, views.sentence(exc))

    return {HTTPException: http_error, VlinderError: vlinder_error}


def build_app(ws: Workspace, *, cookie_path: str = "/producent") -> Starlette:
    token, _ = auth.producer_token(ws)
    views = ProducerApp(ws, token)
    views.sessions.purge()  # expired ones, and every session of an earlier token
    routes = [
        Route("/login", views.login_page, methods=["GET"]),
        Route("/login", views.login, methods=["POST"]),
        Route("/uitloggen", views.logout, methods=["POST"]),
        Route("/", views.dashboard, methods=["GET"]),
        Route("/upload", views.upload, methods=["POST"]),
        Route("/taken/{job_id:str}", views.job_page, methods=["GET"]),
        Route("/taken/{job_id:str}/status", views.job_status, methods=["GET"]),
        Route("/taken/{job_id:str}/events", views.job_events, methods=["GET"]),
        Route("/taken/{job_id:str}/opnieuw", views.job_retry, methods=["POST"]),
        Route("/taken/{job_id:str}/verwijderen", views.job_delete, methods=["POST"]),
        Route("/afleveringen/{slug:str}", views.episode_page, methods=["GET"]),
        Route("/afleveringen/{slug:str}/{part:str}", views.episode_update, methods=["POST"]),
        Route("/publiceren", views.publish, methods=["POST"]),
        *clips.routes(ws),
        *listen.routes(ws),
        Mount("/static", app=StaticFiles(directory=str(PACKAGE / "static"))),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(auth.SecureCookies, trust_proxy=views.trust_proxy),
            Middleware(
                SessionMiddleware,
                secret_key=auth.session_secret(token),
                session_cookie=auth.SESSION_COOKIE,
                max_age=auth.SESSION_HOURS * 60 * 60,
                path=cookie_path,
                same_site="lax",
            ),
            Middleware(auth.RequireLogin, sessions=views.sessions, refuse=views.error),
        ],
        exception_handlers=_error_handlers(views),
    )
    app.state.views = views  # tests reach the throttle's clock through this
    return app
