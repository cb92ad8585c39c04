"""The status of each stage of each episode (done, failed) with the key of its inputs."""

from __future__ import annotations

import sqlite3

from .connection import Connection, now

#: The stages of an episode as the catalogue records them, in pipeline order.
STAGES = ("ingest", "transcribe", "diarize", "tag", "publish")


class StageQueries(Connection):
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
                (slug, stage, status, key, message, now()),
            )

    def stages(self, slug: str) -> dict[str, sqlite3.Row]:
        rows = self.conn.execute("SELECT * FROM stages WHERE slug = ?", (slug,))
        return {r["stage"]: r for r in rows}

    def all_stages(self) -> dict[str, dict[str, sqlite3.Row]]:
        """Every episode's stages: slug -> stage -> row."""
        out: dict[str, dict[str, sqlite3.Row]] = {}
        for row in self.conn.execute("SELECT * FROM stages"):
            out.setdefault(row["slug"], {})[row["stage"]] = row
        return out
