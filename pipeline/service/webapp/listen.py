"""The episode's audio for the producer's editor, which plays along with the transcript: the
MP3 as ingest wrote it (HTTP ranges, so the player can jump), also before it is published."""

from __future__ import annotations

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from pipeline.core.episodes import load_episode
from pipeline.core.errors import VlinderError
from pipeline.core.workspace import Workspace
from pipeline.transcribe.stage import episode_audio


def routes(ws: Workspace) -> list[Route]:
    """The audio route, for the producer app's route list."""

    async def audio(request: Request) -> Response:
        slug = request.path_params["slug"]
        try:
            ep = await anyio.to_thread.run_sync(load_episode, ws, slug)
            path = episode_audio(ws, ep)
        except VlinderError as exc:
            raise HTTPException(404, "Deze aflevering heeft (nog) geen audio.") from exc
        return FileResponse(path, media_type="audio/mpeg", headers={"Cache-Control": "no-store"})

    return [Route("/afleveringen/{slug:str}/audio.mp3", audio, methods=["GET"])]
