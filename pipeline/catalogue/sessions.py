"""Producer sessions (the web app's logins), revocable: a row per logged-in browser."""

from __future__ import annotations

import sqlite3

from .connection import Connection, now


class SessionQueries(Connection):
    # sessions ---------------------------------------------------------------
    def create_session(self, session_id: str, *, token: str, client: str, expires: str) -> None:
        stamp = now()
        with self.conn:
            self.conn.execute(
                "INSERT INTO sessions (id, token, client, created, seen, expires)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, token, client, stamp, stamp, expires),
            )

    def session(self, session_id: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()

    def touch_session(self, session_id: str) -> None:
        with self.conn:
            self.conn.execute("UPDATE sessions SET seen = ? WHERE id = ?", (now(), session_id))

    def delete_session(self, session_id: str) -> None:
        with self.conn:
            self.conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def purge_sessions(self, *, keep_token: str, at: str) -> int:
        """Delete the sessions that expired before ``at`` or belong to another token."""
        with self.conn:
            cur = self.conn.execute(
                "DELETE FROM sessions WHERE expires <= ? OR token != ?", (at, keep_token)
            )
        return cur.rowcount

    def session_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
