"""The producer area's hardening (issue 14): error pages, revocable server-side sessions,
``Secure`` cookies, login throttling and the minimum token length.

Starlette's TestClient on the real app and a real catalogue; ``vlinder serve`` as a real
subprocess for the token check. The throttle's clock is a counter the test advances, so no
test waits for time to pass.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from test_webapp import P, csrf_of, free_port, login, make_app, set_server

from pipeline.catalogue import open_catalogue
from pipeline.core.errors import WorkspaceError
from pipeline.core.workspace import Workspace
from pipeline.flows import init as init_workspace
from pipeline.service.webapp import auth

HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def pws(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws")


@pytest.fixture
def client(pws: Workspace) -> Iterator[TestClient]:
    with TestClient(make_app(pws)) as c:
        yield c


class Clock:
    """A clock the test moves forward by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def producer_views(client: TestClient):
    """The ProducerApp behind the mounted producer area."""
    for route in client.app.router.routes:  # type: ignore[attr-defined]
        views = getattr(getattr(getattr(route, "app", None), "state", None), "views", None)
        if views is not None:
            return views
    raise AssertionError("no producer area mounted")


def session_rows(ws: Workspace) -> int:
    with open_catalogue(ws) as cat:
        return cat.session_count()


def dutch_page(r, status: int, text: str) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in r.text and text in r.text, r.text[:800]
    assert "Internal Server Error" not in r.text


# --- 2: error pages ----------------------------------------------------------------------------
def test_every_error_in_the_producer_area_is_a_dutch_page(
    client: TestClient, pws: Workspace
) -> None:
    csrf = login(client, pws)
    dutch_page(client.get(f"{P}/afleveringen/weg", headers=HTML), 404, "bestaat niet")
    dutch_page(client.get(f"{P}/taken/onbekend", headers=HTML), 404, "Deze taak bestaat niet")
    dutch_page(client.get(f"{P}/bestaat-niet", headers=HTML), 404, "Deze pagina bestaat niet")
    dutch_page(client.get(f"{P}/publiceren", headers=HTML), 405, "kan hier niet")
    r = client.post(f"{P}/afleveringen/weg/gegevens", data={"csrf": csrf}, headers=HTML)
    dutch_page(r, 404, "bestaat niet")
    r = client.post(f"{P}/publiceren", data={"csrf": "verouderd"}, headers=HTML)
    dutch_page(r, 403, "laad de pagina opnieuw")
    # a script still gets JSON
    r = client.get(f"{P}/taken/onbekend", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.json() == {"error": "Deze taak bestaat niet."}


def test_a_stale_tab_after_logout_gets_a_dutch_page(client: TestClient, pws: Workspace) -> None:
    csrf = login(client, pws)
    client.post(f"{P}/uitloggen", data={"csrf": csrf})
    r = client.post(f"{P}/publiceren", data={"csrf": csrf, "terug": "/"}, headers=HTML)
    dutch_page(r, 401, "niet (meer) ingelogd")
    assert f'href="{P}/login"' in r.text
    r = client.get(f"{P}/taken/x", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{P}/login"


# --- 4: sessions -------------------------------------------------------------------------------
def test_logout_ends_the_session_for_a_copied_cookie_too(pws: Workspace) -> None:
    app = make_app(pws)
    with TestClient(app) as one, TestClient(app) as other:
        csrf = login(one, pws)
        assert session_rows(pws) == 1
        cookie = one.cookies.get(auth.SESSION_COOKIE)
        other.cookies.set(auth.SESSION_COOKIE, cookie, path=P)
        assert other.get(f"{P}/", headers={"Accept": "application/json"}).status_code == 200
        one.post(f"{P}/uitloggen", data={"csrf": csrf})
        assert session_rows(pws) == 0
        # the copy still carries a validly signed cookie, but its session is gone
        assert other.get(f"{P}/", headers={"Accept": "application/json"}).status_code == 401


def test_an_expired_session_ends(client: TestClient, pws: Workspace) -> None:
    login(client, pws)
    with open_catalogue(pws) as cat, cat.conn:
        cat.conn.execute("UPDATE sessions SET expires = '2000-01-01T00:00:00+00:00'")
    r = client.get(f"{P}/", headers=HTML, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{P}/login"
    assert session_rows(pws) == 0


def test_changing_the_token_ends_every_session(pws: Workspace) -> None:
    with TestClient(make_app(pws)) as c:
        login(c, pws)
        cookie = c.cookies.get(auth.SESSION_COOKIE)
    assert session_rows(pws) == 1
    changed = set_server(pws, token="een-nieuwe-lange-toegangscode")
    with TestClient(make_app(changed)) as c:
        assert session_rows(changed) == 0
        c.cookies.set(auth.SESSION_COOKIE, cookie, path=P)
        assert c.get(f"{P}/", headers={"Accept": "application/json"}).status_code == 401


def _cookie_flags(client: TestClient, **headers: str) -> str:
    client.cookies.clear()  # a first visit: the session cookie is set
    r = client.get(f"{P}/login", headers=headers)
    return r.headers["set-cookie"].lower()


def test_secure_cookie_over_https_and_behind_a_trusted_proxy(pws: Workspace) -> None:
    with TestClient(make_app(pws), base_url="https://podcast.example") as c:
        assert "; secure" in _cookie_flags(c)
    with TestClient(make_app(pws)) as c:
        assert "secure" not in _cookie_flags(c)
        # an untrusted client cannot claim https
        assert "secure" not in _cookie_flags(c, **{"X-Forwarded-Proto": "https"})
    trusting = set_server(pws, trust_proxy=True)
    with TestClient(make_app(trusting)) as c:
        assert "; secure" in _cookie_flags(c, **{"X-Forwarded-Proto": "https"})
        assert "secure" not in _cookie_flags(c, **{"X-Forwarded-Proto": "http"})


# --- 5: throttling and the token -------------------------------------------------------------
def _try(client: TestClient, csrf: str, token: str, ip: str | None = None):
    headers = {"X-Forwarded-For": f"10.0.0.9, {ip}"} if ip else {}
    return client.post(f"{P}/login", data={"csrf": csrf, "token": token}, headers=headers)


def test_login_throttling_per_client_with_backoff(
    client: TestClient, pws: Workspace, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    producer_views(client).throttle.clock = clock
    token, _ = auth.producer_token(pws)
    csrf = csrf_of(client.get(f"{P}/login").text)
    caplog.set_level(logging.WARNING)
    for _ in range(auth.LoginThrottle.CLIENT_FREE):
        assert _try(client, csrf, "geraden").status_code == 403
    r = _try(client, csrf, "geraden")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert "Te veel mislukte pogingen" in r.text
    # while blocked even the right token is not checked
    assert _try(client, csrf, token).status_code == 429
    assert client.get(f"{P}/", headers={"Accept": "application/json"}).status_code == 401
    clock.now += 1.5
    r = _try(client, csrf, "nog-eens-fout")
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"  # the wait doubles
    clock.now += 2.5
    assert _try(client, csrf, token).status_code == 200  # logged in, and the count is reset
    failed = [r for r in caplog.records if "Mislukte inlogpoging" in r.getMessage()]
    assert len(failed) == auth.LoginThrottle.CLIENT_FREE + 2
    assert "testclient" in failed[0].getMessage()


def test_login_throttling_overall(pws: Workspace) -> None:
    trusting = set_server(pws, trust_proxy=True)
    with TestClient(make_app(trusting)) as client:
        producer_views(client).throttle.clock = Clock()
        csrf = csrf_of(client.get(f"{P}/login").text)
        for n in range(auth.LoginThrottle.OVERALL_FREE):  # each from another address
            assert _try(client, csrf, "geraden", ip=f"192.0.2.{n}").status_code == 403
        assert _try(client, csrf, "geraden", ip="198.51.100.1").status_code == 429
        token, _ = auth.producer_token(trusting)
        assert _try(client, csrf, token, ip="198.51.100.2").status_code == 429


def test_a_short_token_is_refused(pws: Workspace) -> None:
    weak = set_server(pws, token="1234")
    with pytest.raises(WorkspaceError, match="te kort"):
        auth.producer_token(weak)
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "pipeline", "-w", str(weak.root), "serve", "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "te kort" in lines[0] and "minstens 16" in lines[0], done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
