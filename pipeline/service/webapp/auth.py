"""Producer login: one token, server-side sessions, login throttling, CSRF tokens.

* The token is ``[server] token`` in ``vlinder.toml`` (at least :data:`MIN_TOKEN_LENGTH`
  characters); when that is empty, a strong one is generated on first start and kept in
  ``.vlinder/producer-token`` (mode 0600).
* A login opens a session in the catalogue (``sessions``: the SHA-256 of a random session id,
  a fingerprint of the token, expiry). The browser's cookie (Starlette's ``SessionMiddleware``:
  itsdangerous-signed, HttpOnly, SameSite=Lax, path ``/producent``, ``Secure`` over https) holds
  that id, the CSRF token and the flash message. Logging out deletes the row, so a copied
  cookie stops working; changing the token ends every session (the fingerprint no longer
  matches, and the cookie's signing key is derived from the token).
* Failed logins are logged and throttled per client and overall (:class:`LoginThrottle`):
  a few free tries, then a doubling wait answered with 429.
* Every POST carries the session's CSRF token (form field ``csrf`` or header
  ``X-CSRF-Token``); both comparisons are constant-time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipeline.catalogue import open_catalogue
from pipeline.core.errors import WorkspaceError
from pipeline.core.workspace import Workspace, atomic_write_text

TOKEN_FILE = "producer-token"
PUBLIC_PATHS = ("/login", "/static/")
NOT_LOGGED_IN = "Je bent niet (meer) ingelogd. Log opnieuw in en probeer het nog eens."
SESSION_COOKIE = "vlinder_producent"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_ID = "sid"
SESSION_HOURS = 12
MIN_TOKEN_LENGTH = 16


def token_path(ws: Workspace) -> Path:
    return ws.state_dir / TOKEN_FILE


def producer_token(ws: Workspace) -> tuple[str, bool]:
    """The producer token and whether it was generated just now (to print it once).

    Raises :class:`WorkspaceError` when the configured token is too short to resist guessing.
    """
    configured = ws.settings.server.token.strip()
    if configured:
        if len(configured) < MIN_TOKEN_LENGTH:
            raise WorkspaceError(
                f"[server] token in vlinder.toml is te kort ({len(configured)} tekens): "
                f"gebruik minstens {MIN_TOKEN_LENGTH} tekens, of laat hem leeg voor een "
                "gegenereerde code"
            )
        return configured, False
    path = token_path(ws)
    if path.exists():
        stored = path.read_text(encoding="utf-8").strip()
        if len(stored) >= MIN_TOKEN_LENGTH:
            return stored, False
    token = secrets.token_urlsafe(24)
    ws.state_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, token + "\n")
    os.chmod(path, 0o600)
    return token, True


def session_secret(token: str) -> str:
    return hmac.new(token.encode(), b"vlinder-producer-session-v1", hashlib.sha256).hexdigest()


def token_fingerprint(token: str) -> str:
    """What a session row keeps of the token it was opened with (not the token)."""
    return hmac.new(token.encode(), b"vlinder-producer-fingerprint-v1", hashlib.sha256).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison that also hides the length of ``expected``."""
    a = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    b = hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(a, b)


def csrf_token(conn: HTTPConnection) -> str:
    """The session's CSRF token (made on first use)."""
    token = conn.session.get(CSRF_FIELD)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        conn.session[CSRF_FIELD] = token
    return token


def csrf_ok(conn: HTTPConnection, given: str | None) -> bool:
    expected = conn.session.get(CSRF_FIELD)
    if not given or not isinstance(expected, str) or not expected:
        return False
    return same_secret(given, expected)


# --- clients and https -----------------------------------------------------------------------
def header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def client_address(scope: Scope, trust_proxy: bool) -> str:
    """The client's address: the last hop of ``X-Forwarded-For`` behind a trusted proxy."""
    if trust_proxy:
        forwarded = header(scope, b"x-forwarded-for")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    client = scope.get("client")
    return str(client[0]) if client else ""


def is_https(scope: Scope, trust_proxy: bool) -> bool:
    if scope.get("scheme") in ("https", "wss"):
        return True
    if trust_proxy:
        proto = header(scope, b"x-forwarded-proto").split(",")[0].strip().lower()
        return proto == "https"
    return False


class SecureCookies:
    """Adds ``Secure`` to the session cookie when the request came over https (directly, or
    through a proxy that says so when ``[server] trust_proxy`` is on)."""

    def __init__(self, app: ASGIApp, *, trust_proxy: bool = False):
        self.app = app
        self.trust_proxy = trust_proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_https(scope, self.trust_proxy):
            await self.app(scope, receive, send)
            return

        async def send_secure(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for key, value in message.get("headers", []):
                    if (
                        key.lower() == b"set-cookie"
                        and value.startswith(SESSION_COOKIE.encode() + b"=")
                        and b"; secure" not in value.lower()
                    ):
                        value += b"; secure"
                    headers.append((key, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_secure)


# --- server-side sessions --------------------------------------------------------------------
def _hash_id(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def _stamp(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


class Sessions:
    """The catalogue's session rows of one workspace, for one producer token."""

    def __init__(self, ws: Workspace, token: str):
        self.ws = ws
        self.fingerprint = token_fingerprint(token)

    def open(self, client: str) -> str:
        """A new session; returns its id (for the cookie)."""
        session_id = secrets.token_urlsafe(32)
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=SESSION_HOURS)
        with open_catalogue(self.ws) as cat:
            cat.create_session(
                _hash_id(session_id),
                token=self.fingerprint,
                client=client[:200],
                expires=_stamp(expires),
            )
        return session_id

    def valid(self, session_id: object) -> bool:
        """Whether the id names a live session opened with the current token."""
        if not isinstance(session_id, str) or not session_id:
            return False
        with open_catalogue(self.ws) as cat:
            row = cat.session(_hash_id(session_id))
            if row is None:
                return False
            now = _stamp(dt.datetime.now(dt.UTC))
            if row["expires"] <= now or not hmac.compare_digest(row["token"], self.fingerprint):
                cat.delete_session(row["id"])
                return False
        return True

    def close(self, session_id: object) -> None:
        if isinstance(session_id, str) and session_id:
            with open_catalogue(self.ws) as cat:
                cat.delete_session(_hash_id(session_id))

    def purge(self) -> int:
        """Remove expired sessions and those of an earlier token (at start)."""
        with open_catalogue(self.ws) as cat:
            return cat.purge_sessions(
                keep_token=self.fingerprint, at=_stamp(dt.datetime.now(dt.UTC))
            )


def logged_in(conn: HTTPConnection) -> bool:
    """Set by :class:`pipeline.service.webapp.auth.RequireLogin` after checking the session."""
    return conn.scope.get("vlinder.logged_in") is True


def log_in(conn: HTTPConnection, sessions: Sessions, client: str) -> None:
    sessions.close(conn.session.get(SESSION_ID))
    conn.session.clear()
    conn.session[SESSION_ID] = sessions.open(client)
    conn.session[CSRF_FIELD] = secrets.token_urlsafe(32)  # a fresh token after login
    conn.scope["vlinder.logged_in"] = True


def log_out(conn: HTTPConnection, sessions: Sessions) -> None:
    sessions.close(conn.session.get(SESSION_ID))
    conn.session.clear()
    conn.scope["vlinder.logged_in"] = False


# --- throttling ------------------------------------------------------------------------------
@dataclass
class _Backoff:
    failures: int = 0
    last: float = 0.0
    blocked_until: float = 0.0


class LoginThrottle:
    """Failed logins per client and overall: ``free`` failures, then each further failure
    doubles the wait (from one second, up to ``cap``). A client that has been quiet for
    ``forget`` seconds starts afresh; a successful login clears the client's count."""

    CLIENT_FREE = 5
    OVERALL_FREE = 50
    CLIENT_CAP = 15 * 60.0
    OVERALL_CAP = 5 * 60.0
    FORGET = 15 * 60.0
    MAX_CLIENTS = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.lock = threading.Lock()
        self.clients: dict[str, _Backoff] = {}
        self.overall = _Backoff()

    def wait(self, client: str) -> float:
        """Seconds this client must wait before the next attempt (0: go ahead)."""
        now = self.clock()
        with self.lock:
            state = self.clients.get(client)
            mine = state.blocked_until - now if state else 0.0
            return max(0.0, mine, self.overall.blocked_until - now)

    def failed(self, client: str) -> int:
        """Record a failure; returns the client's failures in a row."""
        now = self.clock()
        with self.lock:
            if len(self.clients) >= self.MAX_CLIENTS:
                self.clients = {k: v for k, v in self.clients.items() if now - v.last < self.FORGET}
            state = self.clients.setdefault(client, _Backoff())
            self._count(state, now, self.CLIENT_FREE, self.CLIENT_CAP)
            self._count(self.overall, now, self.OVERALL_FREE, self.OVERALL_CAP)
            return state.failures

    def succeeded(self, client: str) -> None:
        with self.lock:
            self.clients.pop(client, None)

    def _count(self, state: _Backoff, now: float, free: int, cap: float) -> None:
        if now - state.last > self.FORGET and now >= state.blocked_until:
            state.failures = 0
        state.failures += 1
        state.last = now
        if state.failures > free:
            state.blocked_until = now + min(cap, 2.0 ** (state.failures - free - 1))


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


class RequireLogin:
    """Pure ASGI guard (streaming bodies pass through untouched): no live server-side session,
    no access. Marks the scope (``auth.logged_in``) for the views and templates."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        sessions: Sessions,
        refuse: Callable[[Request, int, str], Response],
    ):
        self.app = app
        self.sessions = sessions
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session_id = scope.get("session", {}).get(SESSION_ID)
        live = bool(session_id) and await anyio.to_thread.run_sync(self.sessions.valid, session_id)
        scope["vlinder.logged_in"] = live
        path = scope["path"][len(scope.get("root_path", "")) :] or "/"
        if live or (
            scope["path"].startswith(scope.get("root_path", "")) and path.startswith(PUBLIC_PATHS)
        ):
            await self.app(scope, receive, send)
            return
        if session_id:  # a logged-out, expired or revoked session: forget it
            scope["session"].pop(SESSION_ID, None)
        if scope["method"] in ("GET", "HEAD") and "text/html" in header(scope, b"accept"):
            response: Response = RedirectResponse(
                f"{scope.get('root_path', '')}/login", status_code=303
            )
        else:
            response = self.refuse(Request(scope, receive), 401, NOT_LOGGED_IN)
        await response(scope, receive, send)
