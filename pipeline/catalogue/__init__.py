"""The catalogue: SQLite in the workspace, and the only SQL of the project.

The files in the workspace (``episodes/*/episode.toml``, ``transcripts/*``) are the source of
truth; the catalogue is an index over them and can always be rebuilt (``vlinder reindex``).
One class, :class:`Catalogue`, with the queries of each concern mixed in: episodes, stages,
fragments (chapters, fragments, tags), jobs, the full-text index and producer sessions.
"""

from __future__ import annotations

from typing import Any

from .connection import Connection
from .episodes import EpisodeQueries
from .fragments import FragmentQueries
from .fulltext import FullTextQueries
from .jobs import JobQueries
from .sessions import SessionQueries
from .stages import STAGES, StageQueries


class Catalogue(
    EpisodeQueries, StageQueries, FragmentQueries, JobQueries, FullTextQueries, SessionQueries
):
    """A connection to the catalogue with the queries the stages need."""


def open_catalogue(ws: Any) -> Catalogue:
    """Open (and migrate) the catalogue of a workspace."""
    ws.root.mkdir(parents=True, exist_ok=True)
    return Catalogue(ws.catalogue_path)


__all__ = ["STAGES", "Catalogue", "Connection", "open_catalogue"]
