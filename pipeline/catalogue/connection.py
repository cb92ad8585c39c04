"""The connection to the catalogue: SQLite in WAL mode, foreign keys on, migrated on open."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any, Self

from .migrations import MIGRATIONS


def now() -> str:
    """The current UTC time as ISO 8601 text, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class Connection:
    """A connection to the catalogue (a context manager); the queries are mixed in by
    :class:`pipeline.catalogue.Catalogue`."""

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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def migrate(self) -> None:
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
            with self.conn:
                self.conn.executescript(f"BEGIN; {sql}; PRAGMA user_version = {number}; COMMIT;")

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        """Read-only helper for tests and reports."""
        return list(self.conn.execute(sql, params))
