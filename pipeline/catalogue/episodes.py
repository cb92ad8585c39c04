"""Episodes in the catalogue: one row per ``episodes/<slug>/episode.toml``."""

from __future__ import annotations

import json
import sqlite3

from pipeline.core.models import Episode

from .connection import Connection


class EpisodeQueries(Connection):
    # episodes ---------------------------------------------------------------
    def upsert_episode(self, ep: Episode) -> None:
        with self.conn:
            self.conn.execute(
                """
                INSERT INTO episodes (slug, title, date, speakers, description, event, kind,
                    duration, content_hash, guid, audio_file, audio_bytes, created)
                VALUES (:slug, :title, :date, :speakers, :description, :event, :kind,
                    :duration, :content_hash, :guid, :audio_file, :audio_bytes, :created)
                ON CONFLICT(slug) DO UPDATE SET title=excluded.title, date=excluded.date,
                    speakers=excluded.speakers, description=excluded.description,
                    event=excluded.event, kind=excluded.kind, duration=excluded.duration,
                    content_hash=excluded.content_hash, guid=excluded.guid,
                    audio_file=excluded.audio_file, audio_bytes=excluded.audio_bytes,
                    created=excluded.created
                """,
                {
                    "slug": ep.slug,
                    "title": ep.title,
                    "date": ep.date.isoformat(),
                    "speakers": json.dumps(list(ep.speakers), ensure_ascii=False),
                    "description": ep.description,
                    "event": ep.event,
                    "kind": ep.kind,
                    "duration": ep.duration,
                    "content_hash": ep.content_hash,
                    "guid": ep.guid,
                    "audio_file": ep.audio_file,
                    "audio_bytes": ep.audio_bytes,
                    "created": ep.created,
                },
            )

    def delete_episode(self, slug: str) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM episodes WHERE slug = ?", (slug,))

    def slugs(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT slug FROM episodes ORDER BY date, slug")]

    def find_by_hash(self, content_hash: str) -> str | None:
        row = self.conn.execute(
            "SELECT slug FROM episodes WHERE content_hash = ? ORDER BY created LIMIT 1",
            (content_hash,),
        ).fetchone()
        return row[0] if row else None

    def episode(self, slug: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM episodes WHERE slug = ?", (slug,)).fetchone()

    def episode_rows(self) -> list[sqlite3.Row]:
        return list(self.conn.execute("SELECT * FROM episodes ORDER BY date DESC, slug"))
