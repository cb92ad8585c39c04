"""Producer login: one token, a signed session cookie, CSRF tokens.

* The token is ``[server] token`` in ``vlinder.toml``; when that is empty, a strong one is
  generated on first start and kept in ``.vlinder/producer-token`` (mode 0600).
* The session is Starlette's ``SessionMiddleware`` (itsdangerous-signed, HttpOnly,
  SameSite=Lax, path ``/producent``). Its key is derived from the token, so changing the
  token logs everybody out.
* Every POST carries the session's CSRF token (form field ``csrf`` or header
  ``X-CSRF-Token``); both comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from starlette.requests import HTTPConnection

from pipeline.core.workspace import Workspace, atomic_write_text

TOKEN_FILE = "producer-token"
SESSION_COOKIE = "vlinder_producent"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"


def token_path(ws: Workspace) -> Path:
    return ws.state_dir / TOKEN_FILE


def producer_token(ws: Workspace) -> tuple[str, bool]:
    """The producer token and whether it was generated just now (to print it once)."""
    configured = ws.settings.server.token.strip()
    if configured:
        return configured, False
    path = token_path(ws)
    if path.exists():
        stored = path.read_text(encoding="utf-8").strip()
        if stored:
            return stored, False
    token = secrets.token_urlsafe(24)
    ws.state_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, token + "\n")
    os.chmod(path, 0o600)
    return token, True


def session_secret(token: str) -> str:
    return hmac.new(token.encode(), b"vlinder-producer-session-v1", hashlib.sha256).hexdigest()


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


def logged_in(conn: HTTPConnection) -> bool:
    return conn.session.get("auth") is True


def log_in(conn: HTTPConnection) -> None:
    conn.session.clear()
    conn.session["auth"] = True
    conn.session[CSRF_FIELD] = secrets.token_urlsafe(32)  # a fresh token after login


def log_out(conn: HTTPConnection) -> None:
    conn.session.clear()
