"""Downloads in the producer area: a fragment of an episode as an MP3 clip or as an audiogram
(:mod:`pipeline.clips`, the same as ``vlinder clip``).

Made on request, synchronously, then kept in ``.vlinder/cache/clips/`` (keyed on the episode,
its audio, its transcript and the fragment's times, so a second download is immediate and an
edit makes a new one). An audiogram takes some seconds of CPU per second of video, so the
producer app makes at most one at a time (a second request gets 503 with ``Retry-After``) and
only of fragments up to :data:`WEB_VIDEO_MAX_S`; longer ones are for ``vlinder clip --video``.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from pipeline.clips import ClipOptions, clip
from pipeline.core.episodes import load_episode
from pipeline.core.errors import NotFoundError, VlinderError
from pipeline.core.models import Fragment
from pipeline.core.timefmt import clock
from pipeline.core.workspace import Workspace
from pipeline.tagging import load_fragments

#: The longest fragment the producer app makes an audiogram of (seconds).
WEB_VIDEO_MAX_S = 120.0
#: Bump when the clips change shape, so cached files are made again.
CACHE_VERSION = "1"
KINDS = {"fragment.mp3": False, "audiogram.mp4": True}
MEDIA_TYPES = {False: "audio/mpeg", True: "video/mp4"}


class ClipDownloads:
    def __init__(self, ws: Workspace):
        self.ws = ws
        self.video_lock = threading.Lock()

    @property
    def folder(self) -> Path:
        path = self.ws.cache_dir / "clips"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _fragment(self, slug: str, number: int) -> Fragment:
        if "/" in slug or slug.startswith("."):
            raise HTTPException(404, "Deze aflevering bestaat niet.")
        try:
            load_episode(self.ws, slug)
            loaded = load_fragments(self.ws, slug)
        except NotFoundError as exc:
            raise HTTPException(404, "Deze aflevering bestaat niet.") from exc
        except VlinderError as exc:
            raise _refused(exc) from exc
        fragments = loaded[1] if loaded is not None else []
        if not 1 <= number <= len(fragments):
            raise HTTPException(404, "Dit fragment bestaat niet.")
        return fragments[number - 1]

    def _key(self, slug: str, fragment: Fragment, video: bool) -> str:
        """Changes with the episode's metadata, audio and transcript and the fragment's times."""
        parts = [CACHE_VERSION, slug, f"{fragment.start:.3f}", f"{fragment.end:.3f}", str(video)]
        ws = self.ws
        parts.append(hashlib.sha256(ws.episode_file(slug).read_bytes()).hexdigest())
        for path in (ws.episode_dir(slug), ws.transcript_path(slug, "json")):
            files = sorted(path.glob("*.mp3")) if path.is_dir() else [path]
            for file in files:
                if file.exists():
                    stat = file.stat()
                    parts.append(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}")
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]

    def _make(self, slug: str, number: int, video: bool) -> Path:
        fragment = self._fragment(slug, number)
        if video and fragment.end - fragment.start > WEB_VIDEO_MAX_S:
            raise HTTPException(
                400,
                f"Een audiogram van een fragment duurt hier hoogstens {clock(WEB_VIDEO_MAX_S)}; "
                f"maak een langer met `vlinder clip --video`.",
            )
        ext = "mp4" if video else "mp3"
        stem = f"{slug}-{number}"
        target = self.folder / f"{stem}-{self._key(slug, fragment, video)}.{ext}"
        if target.is_file():
            return target
        options = ClipOptions(start=fragment.start, end=fragment.end, video=video)
        try:
            clip(self.ws, slug, options, target)
        except VlinderError as exc:
            raise _refused(exc) from exc
        for old in self.folder.glob(f"{stem}-*.{ext}"):
            if old != target:
                old.unlink(missing_ok=True)
        return target

    def _make_video(self, slug: str, number: int) -> Path:
        if not self.video_lock.acquire(blocking=False):
            raise HTTPException(
                503,
                "Er wordt al een audiogram gemaakt; probeer het over een minuut opnieuw.",
                headers={"Retry-After": "30"},
            )
        try:
            return self._make(slug, number, True)
        finally:
            self.video_lock.release()

    async def download(self, request: Request) -> Response:
        slug = request.path_params["slug"]
        number = request.path_params["number"]
        name = request.path_params["name"]
        if name not in KINDS:
            raise HTTPException(404, "Niet gevonden.")
        video = KINDS[name]
        if video:
            path = await anyio.to_thread.run_sync(self._make_video, slug, number)
        else:
            path = await anyio.to_thread.run_sync(self._make, slug, number, False)
        return FileResponse(
            path,
            media_type=MEDIA_TYPES[video],
            filename=f"{slug}-fragment-{number}.{path.suffix.lstrip('.')}",
            headers={"Cache-Control": "no-store"},
        )


def _refused(exc: VlinderError) -> HTTPException:
    """A core error as the page's one line (the error page shows it)."""
    message = str(exc).strip()
    return HTTPException(400, message[:1].upper() + message[1:])


def routes(ws: Workspace) -> list[Route]:
    """The download routes, for the producer app's route list."""
    views = ClipDownloads(ws)
    return [
        Route(
            "/afleveringen/{slug:str}/fragmenten/{number:int}/{name:str}",
            views.download,
            methods=["GET"],
        )
    ]
