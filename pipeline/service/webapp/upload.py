"""Receiving a recording: a streamed multipart body written straight to disk.

The body is fed chunk by chunk to python-multipart's push parser; the file part goes to
``.vlinder/uploads/<uuid>.part`` in 1 MiB writes (in a worker thread) and is renamed to
``<uuid>.upload`` when complete, so server memory does not grow with the file. The client's
file name is kept as text for display and titles only; it never becomes a path. The content is
then probed (:func:`pipeline.service.jobs.probe_recording`), never trusted by extension or content type.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from pipeline.core.workspace import Workspace
from pipeline.service.uploads import new_upload_path

FILE_FIELD = "file"
MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 32
WRITE_BUFFER = 1 << 20
MB = 1024 * 1024


class UploadRejected(Exception):
    """An upload refused with an HTTP status and a one-line Dutch message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class ReceivedUpload:
    path: Path  # .vlinder/uploads/<uuid>.upload
    filename: str  # the client's name, cleaned, for display only
    size: int
    fields: dict[str, str] = field(default_factory=dict)


def clean_filename(name: str) -> str:
    """The last path component of a client file name, without control characters.

    ``'../../etc/passwd'`` -> ``'passwd'``, ``'C:\\\\x\\\\talk.mp3'`` -> ``'talk.mp3'``.
    Only ever used as text (titles, ``source.file_name``), never as a path.
    """
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".").strip()
    return name[:200] or "opname"


def too_large_message(limit_mb: int) -> str:
    return f"Het bestand is te groot: de grens is {limit_mb} MB (instelling server.max_upload_mb)."


class _Receiver:
    """python-multipart callbacks; file data is buffered here and flushed by the caller."""

    def __init__(self, target: Path, max_bytes: int, csrf_ok: Callable[[str | None], bool]):
        self.target = target
        self.max_bytes = max_bytes
        self.csrf_ok = csrf_ok
        self.csrf_verified = False
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.size = 0
        self.pending = bytearray()
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._data = bytearray()
        self._file_done = False

    # header callbacks
    def on_part_begin(self) -> None:
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._data = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        if len(self._header_value) > 4096:
            raise UploadRejected(400, "Ongeldig formulier.")

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = b""
        self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in options:
            if self._name != FILE_FIELD or self.filename is not None:
                raise UploadRejected(400, "Stuur precies één bestand mee.")
            if not self.csrf_verified:
                raise UploadRejected(403, "Ongeldig formulier; laad de pagina opnieuw.")
            self._is_file = True
            self.filename = clean_filename(options[b"filename"].decode("utf-8", "replace"))
        elif len(self.fields) >= MAX_FIELDS:
            raise UploadRejected(400, "Ongeldig formulier.")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.size += end - start
            if self.size > self.max_bytes:
                raise UploadRejected(413, too_large_message(self.max_bytes // MB))
            self.pending += data[start:end]
        else:
            self._data += data[start:end]
            if len(self._data) > MAX_FIELD_BYTES:
                raise UploadRejected(400, "Een van de velden is te lang.")

    def on_part_end(self) -> None:
        if self._is_file:
            self._file_done = True
            return
        value = self._data.decode("utf-8", "replace")
        if self._name == "csrf" and not self.csrf_verified:
            if not self.csrf_ok(value):
                raise UploadRejected(403, "Ongeldig formulier; laad de pagina opnieuw.")
            self.csrf_verified = True
        else:
            self.fields[self._name] = value

    def callbacks(self) -> dict[str, Callable[..., None]]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
        }


async def receive_upload(
    request: Request,
    ws: Workspace,
    *,
    max_bytes: int,
    csrf_ok: Callable[[str | None], bool],
) -> ReceivedUpload:
    """Stream a ``multipart/form-data`` upload with one file field ``file`` to disk.

    The CSRF token comes in the ``X-CSRF-Token`` header or in a ``csrf`` field *before*
    the file. Raises :class:`UploadRejected`; on any failure nothing is left on disk.
    """
    header_ok = csrf_ok(request.headers.get("x-csrf-token"))
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        if not header_ok:
            raise UploadRejected(403, "Ongeldig formulier; laad de pagina opnieuw.")
        raise UploadRejected(415, "Verwacht een formulier met een bestand (multipart/form-data).")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes + MB:
        raise UploadRejected(413, too_large_message(max_bytes // MB))

    target = new_upload_path(ws)
    part = target.with_suffix(".part")
    receiver = _Receiver(target, max_bytes, csrf_ok)
    receiver.csrf_verified = header_ok
    parser = MultipartParser(params[b"boundary"], receiver.callbacks())  # type: ignore[arg-type]
    try:
        with open(part, "wb") as fh:
            async for chunk in request.stream():
                parser.write(chunk)
                if len(receiver.pending) >= WRITE_BUFFER:
                    data = bytes(receiver.pending)
                    receiver.pending.clear()
                    await anyio.to_thread.run_sync(fh.write, data)
            parser.finalize()
            if receiver.pending:
                await anyio.to_thread.run_sync(fh.write, bytes(receiver.pending))
                receiver.pending.clear()
        if not receiver.csrf_verified:
            raise UploadRejected(403, "Ongeldig formulier; laad de pagina opnieuw.")
        if receiver.filename is None or not receiver._file_done:
            raise UploadRejected(400, "Kies een opname om te uploaden.")
        if receiver.size == 0:
            raise UploadRejected(400, "Het gekozen bestand is leeg.")
        part.replace(target)
    except FormParserError as exc:
        part.unlink(missing_ok=True)
        raise UploadRejected(400, "Ongeldig formulier.") from exc
    except BaseException:  # rejected, client gone, cancelled: leave nothing behind
        part.unlink(missing_ok=True)
        raise
    return ReceivedUpload(
        path=target, filename=receiver.filename, size=receiver.size, fields=receiver.fields
    )


def discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
