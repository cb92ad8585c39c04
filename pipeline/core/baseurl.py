"""The base URL that the feeds and the site are published under.

It is ``[podcast] base_url`` in ``vlinder.toml``, or ``--base-url``, with one exception: while
``vlinder serve`` serves the workspace and the configured base URL is a local one (the default
``http://localhost:8000``, or any other localhost address), every build uses the address the
server really answers on. So ``vlinder serve --port 8744`` publishes feeds whose enclosures,
transcripts, chapters and self links point at port 8744, and so do the rebuilds while it runs:
its own (``--watch``, the producer's "Publiceren", the jobs of its worker) and those of another
process (``vlinder worker``, ``vlinder build``). A public base URL
(``https://podcast.example.org``) is never replaced.

The server records its address in ``.vlinder/serve.json`` and holds a lock on
``.vlinder/serve.lock`` while it runs (:func:`serving`). A record whose lock is free belongs to
a server that stopped or was killed, and is ignored.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
from collections.abc import Iterator
from urllib.parse import urlsplit

from .errors import InputError, WorkspaceError
from .workspace import Workspace, atomic_write_text

SERVE_RECORD = "serve.json"
SERVE_LOCK = "serve.lock"
# Host names that reach this machine only; a server listening on any of them (or on every
# interface) is shown, and published, as localhost.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::", ""})


def normalise_base_url(url: str) -> str:
    """``'https://example.org/podcast/'`` -> ``'https://example.org/podcast'``; checks the form."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(
            f"ongeldige basis-URL '{url}': gebruik bijvoorbeeld https://podcast.example.org"
        )
    return url


def is_local(url: str) -> bool:
    """Whether a base URL only works on this machine (``http://localhost:8000``)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.")


def served_url(host: str, port: int) -> str:
    """The address of a server listening on ``host``:``port`` (``http://localhost:8744``)."""
    shown = "localhost" if host.lower() in LOCAL_HOSTS else host
    if ":" in shown:  # an IPv6 address
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def serve_base_url(ws: Workspace, host: str, port: int) -> str | None:
    """The base URL ``vlinder serve`` on ``host``:``port`` publishes under, or None when the
    configured one is public (and so stays)."""
    configured = normalise_base_url(ws.settings.podcast.base_url)
    return served_url(host, port) if is_local(configured) else None


@contextlib.contextmanager
def serving(ws: Workspace, url: str) -> Iterator[None]:
    """Record that this process serves the workspace at ``url`` (see the module docstring).
    Raises :class:`WorkspaceError` when another ``vlinder serve`` already serves it."""
    ws.state_dir.mkdir(parents=True, exist_ok=True)
    record = ws.state_dir / SERVE_RECORD
    with open(ws.state_dir / SERVE_LOCK, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            other = running_server(ws) or "een andere poort"
            raise WorkspaceError(
                f"`vlinder serve` draait al voor deze werkruimte (op {other}); stop die eerst"
            ) from exc
        atomic_write_text(record, json.dumps({"url": url}))
        try:
            yield
        finally:
            record.unlink(missing_ok=True)
            fcntl.flock(lock, fcntl.LOCK_UN)


def running_server(ws: Workspace) -> str | None:
    """The address of the ``vlinder serve`` serving the workspace now, or None. The lock of
    :func:`serving` tells: a record whose lock nobody holds is stale."""
    try:
        url = str(json.loads((ws.state_dir / SERVE_RECORD).read_text(encoding="utf-8"))["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        with open(ws.state_dir / SERVE_LOCK) as lock:
            # flock conflicts between open files, also within one process: this fails while
            # a server (this process's own included) holds the lock.
            fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        return url if exc.errno in (errno.EAGAIN, errno.EACCES) else None
    return None


def base_url(ws: Workspace, override: str | None = None) -> str:
    """The base URL to build with: ``override`` (``--base-url``), else the setting, except
    that a local setting gives way to the address of a running ``vlinder serve``."""
    if override:
        return normalise_base_url(override)
    configured = normalise_base_url(ws.settings.podcast.base_url)
    if is_local(configured):
        served = running_server(ws)
        if served:
            return normalise_base_url(served)
    return configured
