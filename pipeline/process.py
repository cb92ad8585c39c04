"""What ``vlinder add`` does after ingest: transcribe (or import a transcript), then tag.

Filled in by the transcribe and tagging stages; kept here so the CLI calls one function.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .workspace import Workspace

Progress = Callable[[float, float], None]  # (seconds done, seconds total)


def check_transcript_file(path: Path) -> None:
    """Validate a transcript to import *before* ingest, so a bad file changes nothing.

    Raises :class:`pipeline.errors.TranscriptError` naming the bad line.
    """


def after_ingest(
    ws: Workspace,
    slug: str,
    *,
    transcribe: bool = True,
    transcript_file: Path | None = None,
    progress: Progress | None = None,
) -> list[str]:
    """Run the stages after ingest for one episode; returns Dutch status lines for the CLI."""
    return []
