"""Jobs of the producer web app and ``vlinder add --queue``."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .connection import Connection, now


class JobQueries(Connection):
    # jobs (producer uploads, `vlinder add --queue`) ---------------------------
    _JOB_FIELDS = (
        "state",
        "stage",
        "progress",
        "eta",
        "message",
        "error",
        "upload",
        "source_name",
        "params",
        "slug",
        "worker",
        "heartbeat",
    )

    def create_job(
        self, job_id: str, *, upload: str, source_name: str, params: dict[str, Any]
    ) -> None:
        stamp = now()
        with self.conn:
            self.conn.execute(
                "INSERT INTO jobs (id, state, stage, upload, source_name, params, created,"
                " updated) VALUES (?, 'queued', 'queued', ?, ?, ?, ?, ?)",
                (job_id, upload, source_name, json.dumps(params, ensure_ascii=False), stamp, stamp),
            )

    def job(self, job_id: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()

    def jobs(self, limit: int = 50) -> list[sqlite3.Row]:
        return list(
            self.conn.execute("SELECT * FROM jobs ORDER BY created DESC, id LIMIT ?", (limit,))
        )

    def jobs_in_state(self, *states: str) -> list[sqlite3.Row]:
        marks = ",".join("?" * len(states))
        return list(
            self.conn.execute(
                f"SELECT * FROM jobs WHERE state IN ({marks}) ORDER BY created", states
            )
        )

    def jobs_with_upload(self) -> list[sqlite3.Row]:
        """Every job that names an upload file (id, state, upload, updated)."""
        return list(
            self.conn.execute("SELECT id, state, upload, updated FROM jobs WHERE upload != ''")
        )

    def jobs_with_slug(self, slug: str) -> list[sqlite3.Row]:
        return list(self.conn.execute("SELECT id, slug FROM jobs WHERE slug = ?", (slug,)))

    def delete_job(self, job_id: str, states: tuple[str, ...]) -> bool:
        """Delete a job in one of ``states``; False when it is in none of them (or absent)."""
        marks = ",".join("?" * len(states))
        with self.conn:
            cur = self.conn.execute(
                f"DELETE FROM jobs WHERE id = ? AND state IN ({marks})", (job_id, *states)
            )
        return cur.rowcount == 1

    def update_job(self, job_id: str, **fields: Any) -> None:
        unknown = set(fields) - set(self._JOB_FIELDS)
        if unknown:
            raise ValueError(f"unknown job fields: {sorted(unknown)}")
        if "params" in fields and not isinstance(fields["params"], str):
            fields["params"] = json.dumps(fields["params"], ensure_ascii=False)
        sets = ", ".join(f"{k} = :{k}" for k in fields)
        with self.conn:
            self.conn.execute(
                f"UPDATE jobs SET {sets}, updated = :updated WHERE id = :id",
                {**fields, "updated": now(), "id": job_id},
            )

    def claim_job(self, job_id: str, worker: str) -> bool:
        """Mark a queued job running for ``worker``; False when it is not queued (any more)."""
        stamp = now()
        with self.conn:
            cur = self.conn.execute(
                "UPDATE jobs SET state = 'running', worker = ?, attempts = attempts + 1,"
                " error = '', heartbeat = ?, updated = ? WHERE id = ? AND state = 'queued'",
                (worker, stamp, stamp, job_id),
            )
        return cur.rowcount == 1

    def requeue_job(self, job_id: str, from_states: tuple[str, ...]) -> bool:
        """Put a job back in the queue state; False when it is in none of ``from_states``."""
        marks = ",".join("?" * len(from_states))
        with self.conn:
            cur = self.conn.execute(
                f"UPDATE jobs SET state = 'queued', worker = '', error = '', eta = NULL,"
                f" updated = ? WHERE id = ? AND state IN ({marks})",
                (now(), job_id, *from_states),
            )
        return cur.rowcount == 1
