"""What ``vlinder add`` does after ingest: transcribe (or import a transcript), then tag.

Filled in by the transcribe and tagging stages; kept here so the CLI calls one function.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .workspace import Workspace

if TYPE_CHECKING:
    from .transcribe import TranscribeResult

Progress = Callable[[float, float], None]  # (seconds done, seconds total)


def check_transcript_file(path: Path) -> None:
    """Validate a transcript to import *before* ingest, so a bad file changes nothing.

    Raises :class:`pipeline.errors.TranscriptError` naming the bad line.
    """
    from .transcripts import parse_transcript_file

    parse_transcript_file(path)


def _transcribed_line(result: TranscribeResult) -> str:
    if result.status == "cached":
        return "Transcript is al actueel."
    return (
        f"Getranscribeerd: {result.segments} segmenten "
        f"({result.duration / max(result.elapsed, 1e-6):.1f}x realtime)."
    )


def after_ingest(
    ws: Workspace,
    slug: str,
    *,
    transcribe: bool = True,
    transcript_file: Path | None = None,
    progress: Progress | None = None,
) -> list[str]:
    """Run the stages after ingest for one episode; returns Dutch status lines for the CLI."""
    from .transcribe import import_transcript, transcribe_episode
    from .transcripts import ProtectedTranscriptError

    lines: list[str] = []
    if transcript_file is not None:
        result = import_transcript(ws, slug, transcript_file)
        lines.append(f"Transcript geïmporteerd: {result.segments} segmenten.")
    elif transcribe:
        try:
            result = transcribe_episode(ws, slug, progress=progress)
        except ProtectedTranscriptError as exc:
            lines.append(
                f"Transcript behouden: {exc.reason}; `vlinder transcribe {slug} --force` "
                "vervangt het."
            )
        else:
            lines.append(_transcribed_line(result))
    else:
        return lines
    try:
        from .tag import tag_episode
    except (ImportError, AttributeError):
        return lines
    chapters, fragments = tag_episode(ws, slug)
    tagged = sum(1 for f in fragments if f.tags)
    lines.append(
        f"Getagd: {len(chapters)} hoofdstukken, {len(fragments)} fragmenten "
        f"({tagged} met ingrediënten)."
    )
    return lines
