"""Reindex: rebuild the catalogue from the files in the workspace (the ``reindex`` verb).

The files (``episodes/*/episode.toml``, ``transcripts/*``) are the source of truth. Reindex
upserts every episode, drops catalogue rows whose folder is gone, marks ingest done where the
MP3 is present, and then runs the hooks in :data:`REINDEXERS` that other stages append to
(transcripts, tags, chapters, search)::

    from pipeline.reindex import REINDEXERS
    REINDEXERS.append(reindex_tags)   # def reindex_tags(ws, cat, ep) -> None

A broken episode file is reported and skipped; the others are indexed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .db import Catalogue, open_catalogue
from .episodes import episode_from_toml
from .errors import VlinderError
from .models import Episode
from .workspace import Workspace

Reindexer = Callable[[Workspace, Catalogue, Episode], None]

#: Hooks run for every episode after its row is upserted, in order.
REINDEXERS: list[Reindexer] = []


@dataclass(frozen=True)
class ReindexReport:
    indexed: tuple[str, ...]
    removed: tuple[str, ...]
    problems: tuple[str, ...]  # one Dutch line per episode that could not be indexed


def reindex(ws: Workspace) -> ReindexReport:
    from .ingest import stage_key

    indexed: list[str] = []
    problems: list[str] = []
    with ws.lock(), open_catalogue(ws) as cat:
        on_disk: set[str] = set()
        paths = sorted(ws.episodes_dir.glob("*/episode.toml")) if ws.episodes_dir.exists() else []
        for path in paths:
            slug = path.parent.name
            on_disk.add(slug)
            try:
                ep = episode_from_toml(slug, path.read_text(encoding="utf-8"), str(path))
                cat.upsert_episode(ep)
                if ep.audio_file and (path.parent / ep.audio_file).exists():
                    key = stage_key(ep.content_hash, ws.settings.audio)
                    row = cat.stages(slug).get("ingest")
                    if row is None or row["status"] != "done":
                        cat.set_stage(slug, "ingest", "done", key)
                else:
                    cat.set_stage(slug, "ingest", "failed", message="MP3 ontbreekt")
                for hook in REINDEXERS:
                    hook(ws, cat, ep)
                indexed.append(slug)
            except (VlinderError, OSError, UnicodeDecodeError) as exc:
                problems.append(f"{slug}: {exc}")
        removed = [slug for slug in cat.slugs() if slug not in on_disk]
        for slug in removed:
            cat.delete_episode(slug)
    return ReindexReport(tuple(indexed), tuple(removed), tuple(problems))
