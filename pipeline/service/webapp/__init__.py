"""The producer area of ``vlinder serve``: upload, follow jobs, edit and publish (Dutch UI).

A Starlette sub-application mounted under ``/producent/`` by :func:`mount`; the public site,
feeds and search stay outside it. See ``docs/producer.md``.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route

from pipeline.core.workspace import Workspace

from .auth import producer_token
from .views import build_app

PREFIX = "/producent"

__all__ = ["PREFIX", "create_producer_app", "mount", "producer_token"]


def create_producer_app(ws: Workspace, *, prefix: str = PREFIX) -> Starlette:
    return build_app(ws, cookie_path=prefix)


def mount(app: Starlette, ws: Workspace, *, prefix: str = PREFIX) -> Starlette:
    """Mount the producer area on ``app`` under ``prefix``, ahead of any catch-all route;
    ``prefix`` without the slash redirects to it."""
    sub = create_producer_app(ws, prefix=prefix)

    async def to_slash(request: Request) -> RedirectResponse:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"{prefix}/{query}", status_code=308)

    app.router.routes.insert(0, Mount(prefix, app=sub, name="producer"))
    app.router.routes.insert(0, Route(prefix, to_slash, methods=["GET", "HEAD"]))
    return sub
