"""The catalogue: SQLite in the workspace. All SQL of the project lives in this module.

The files in the workspace (episodes/*/episode.toml, transcripts/*) are the source of truth;
the catalogue is an index over them and can be rebuilt (``vlinder reindex``).
Migrations are ordered and recorded in ``PRAGMA user_version``.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .models import Chapter, Episode, Fragment

MIGRATIONS: list[str] = [
    # 1: episodes and the status of each stage
    """
    CREATE TABLE episodes (
        slug TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        date TEXT NOT NULL,
        speakers TEXT NOT NULL DEFAULT '[]',
        description TEXT NOT NULL DEFAULT '',
        event TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT 'talk',
        duration REAL NOT NULL DEFAULT 0,
        content_hash TEXT NOT NULL DEFAULT '',
        guid TEXT NOT NULL,
        audio_file TEXT NOT NULL DEFAULT '',
        audio_bytes INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX episodes_content_hash ON episodes(content_hash);
    CREATE TABLE stages (
        slug TEXT NOT NULL REFERENCES episodes(slug) ON DELETE CASCADE,
        stage TEXT NOT NULL,
        status TEXT NOT NULL,
        key TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL DEFAULT '',
        updated TEXT NOT NULL,
        PRIMARY KEY (slug, stage)
    );
    """,
    # 2: chapters, fragments and their ingredient tags
    """
    CREATE TABLE chapters (
        slug TEXT NOT NULL REFERENCES episodes(slug) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        start REAL NOT NULL,
        end REAL NOT NULL,
        title TEXT NOT NULL,
        summary TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (slug, idx)
    );
    CREATE TABLE fragments (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL REFERENCES episodes(slug) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        chapter INTEGER NOT NULL DEFAULT 0,
        start REAL NOT NULL,
        end REAL NOT NULL,
        text TEXT NOT NULL,
        UNIQUE (slug, idx)
    );
    CREATE TABLE fragment_tags (
        fragment_id INTEGER NOT NULL REFERENCES fragments(id) ON DELETE CASCADE,
        ingredient TEXT NOT NULL,
        score REAL NOT NULL,
        evidence TEXT NOT NULL DEFAULT '[]',
        source TEXT NOT NULL DEFAULT 'auto',
        PRIMARY KEY (fragment_id, ingredient)
    );
    CREATE INDEX fragment_tags_ingredient ON fragment_tags(ingredient);
    """,
]

STAGES = ("ingest", "transcribe", "tag", "publish")


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class Catalogue:
    """A connection to the catalogue with the queries the stages need."""

    def __init__(self, path: Path | str):
        self.path = path
        self.conn = sqlite3.connect(str(path), timeout=30)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA foreign_keys = ON")
        if str(path) != ":memory:":
            self.conn.execute("PRAGMA journal_mode = WAL")
        self.migrate()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Catalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.conn:
            yield self.conn

    def migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.conn:
                self.conn.executescript(f"BEGIN; {sql}; PRAGMA user_version = {number}; COMMIT;")

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

    def episode_rows(self) -> list[sqlite3.Row]:
        return list(self.conn.execute("SELECT * FROM episodes ORDER BY date DESC, slug"))

    # stages -----------------------------------------------------------------
    def set_stage(
        self, slug: str, stage: str, status: str, key: str = "", message: str = ""
    ) -> None:
        with self.conn:
            self.conn.execute(
                """
                INSERT INTO stages (slug, stage, status, key, message, updated)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(slug, stage) DO UPDATE SET status=excluded.status,
                    key=excluded.key, message=excluded.message, updated=excluded.updated
                """,
                (slug, stage, status, key, message, _now()),
            )

    def stages(self, slug: str) -> dict[str, sqlite3.Row]:
        rows = self.conn.execute("SELECT * FROM stages WHERE slug = ?", (slug,))
        return {r["stage"]: r for r in rows}

    # chapters and fragments -------------------------------------------------
    def replace_fragments(
        self, slug: str, chapters: Iterable[Chapter], fragments: Iterable[Fragment]
    ) -> None:
        """Replace the chapters, fragments and tags of one episode in one transaction."""
        with self.conn:
            self.conn.execute("DELETE FROM chapters WHERE slug = ?", (slug,))
            self.conn.execute("DELETE FROM fragments WHERE slug = ?", (slug,))
            self.conn.executemany(
                "INSERT INTO chapters (slug, idx, start, end, title, summary) VALUES (?,?,?,?,?,?)",
                [(slug, c.index, c.start, c.end, c.title, c.summary) for c in chapters],
            )
            for f in fragments:
                cur = self.conn.execute(
                    "INSERT INTO fragments (slug, idx, chapter, start, end, text)"
                    " VALUES (?,?,?,?,?,?)",
                    (slug, f.index, f.chapter, f.start, f.end, f.text),
                )
                self.conn.executemany(
                    "INSERT INTO fragment_tags (fragment_id, ingredient, score, evidence, source)"
                    " VALUES (?,?,?,?,?)",
                    [
                        (
                            cur.lastrowid,
                            t.ingredient,
                            t.score,
                            json.dumps(list(t.evidence), ensure_ascii=False),
                            t.source,
                        )
                        for t in f.tags
                    ],
                )

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        """Read-only helper for tests and reports."""
        return list(self.conn.execute(sql, params))


def open_catalogue(ws: Any) -> Catalogue:
    """Open (and migrate) the catalogue of a workspace."""
    ws.root.mkdir(parents=True, exist_ok=True)
    return Catalogue(ws.catalogue_path)
