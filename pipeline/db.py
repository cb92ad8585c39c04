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
    # jobs of the producer web app and `vlinder add --queue` (pipeline/jobs.py)
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL DEFAULT 'queued',
        stage TEXT NOT NULL DEFAULT '',
        progress REAL NOT NULL DEFAULT 0,
        eta REAL,
        message TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        upload TEXT NOT NULL DEFAULT '',
        source_name TEXT NOT NULL DEFAULT '',
        params TEXT NOT NULL DEFAULT '{}',
        slug TEXT NOT NULL DEFAULT '',
        worker TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        heartbeat TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX jobs_state ON jobs(state);
    """,
    # search (pipeline/search.py): analysed columns on fragments (one key per word: folded
    # lemma stems; compound parts), an FTS5 index over them and the raw text (external content,
    # kept in sync by triggers) and search settings (the analysis version of those columns)
    """
    ALTER TABLE fragments ADD COLUMN terms TEXT NOT NULL DEFAULT '';
    ALTER TABLE fragments ADD COLUMN parts TEXT NOT NULL DEFAULT '';
    CREATE VIRTUAL TABLE fragments_fts USING fts5(
        text, terms, parts,
        content = 'fragments', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER fragments_fts_insert AFTER INSERT ON fragments BEGIN
        INSERT INTO fragments_fts (rowid, text, terms, parts)
        VALUES (new.id, new.text, new.terms, new.parts);
    END;
    CREATE TRIGGER fragments_fts_delete AFTER DELETE ON fragments BEGIN
        INSERT INTO fragments_fts (fragments_fts, rowid, text, terms, parts)
        VALUES ('delete', old.id, old.text, old.terms, old.parts);
    END;
    CREATE TRIGGER fragments_fts_update AFTER UPDATE OF text, terms, parts ON fragments BEGIN
        INSERT INTO fragments_fts (fragments_fts, rowid, text, terms, parts)
        VALUES ('delete', old.id, old.text, old.terms, old.parts);
        INSERT INTO fragments_fts (rowid, text, terms, parts)
        VALUES (new.id, new.text, new.terms, new.parts);
    END;
    INSERT INTO fragments_fts (fragments_fts) VALUES ('rebuild');
    CREATE TABLE search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # search: each word's analysis (key; keys of its compound parts, NULL when not known yet),
    # so a new `vlinder search` process needs no lemma or frequency tables (pipeline/analysis.py)
    """
    CREATE TABLE search_words (
        word TEXT PRIMARY KEY,
        key TEXT NOT NULL,
        parts TEXT
    ) WITHOUT ROWID;
    CREATE INDEX search_words_parts ON search_words(parts) WHERE parts != '';
    UPDATE search_meta SET value = 'reindex' WHERE key = 'analysis_version';
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
            from .analysis import index_fields  # search columns (lazy: loads word tables)

            known: dict[str, tuple[str, str, str | None]] = {}
            for f in fragments:
                fields = index_fields(f.text)
                known.update((w[0], w) for w in fields.words)
                cur = self.conn.execute(
                    "INSERT INTO fragments (slug, idx, chapter, start, end, text, terms, parts)"
                    " VALUES (?,?,?,?,?,?,?,?)",
                    (slug, f.index, f.chapter, f.start, f.end, f.text, fields.terms, fields.parts),
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
            self._add_search_words(known.values())

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        """Read-only helper for tests and reports."""
        return list(self.conn.execute(sql, params))

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
        now = _now()
        with self.conn:
            self.conn.execute(
                "INSERT INTO jobs (id, state, stage, upload, source_name, params, created,"
                " updated) VALUES (?, 'queued', 'queued', ?, ?, ?, ?, ?)",
                (job_id, upload, source_name, json.dumps(params, ensure_ascii=False), now, now),
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
                {**fields, "updated": _now(), "id": job_id},
            )

    def claim_job(self, job_id: str, worker: str) -> bool:
        """Mark a queued job running for ``worker``; False when it is not queued (any more)."""
        now = _now()
        with self.conn:
            cur = self.conn.execute(
                "UPDATE jobs SET state = 'running', worker = ?, attempts = attempts + 1,"
                " error = '', heartbeat = ?, updated = ? WHERE id = ? AND state = 'queued'",
                (worker, now, now, job_id),
            )
        return cur.rowcount == 1

    def requeue_job(self, job_id: str, from_states: tuple[str, ...]) -> bool:
        """Put a job back in the queue state; False when it is in none of ``from_states``."""
        marks = ",".join("?" * len(from_states))
        with self.conn:
            cur = self.conn.execute(
                f"UPDATE jobs SET state = 'queued', worker = '', error = '', eta = NULL,"
                f" updated = ? WHERE id = ? AND state IN ({marks})",
                (_now(), job_id, *from_states),
            )
        return cur.rowcount == 1

    # search (pipeline/search.py) --------------------------------------------
    def search_match(self, match: str) -> list[tuple[int, float]]:
        """(fragment id, bm25 score; higher is better) of every fragment matching an FTS5
        expression. ``match`` is built by pipeline.search from quoted keys only."""
        return [
            (r[0], -r[1])
            for r in self.conn.execute(
                "SELECT rowid, bm25(fragments_fts) FROM fragments_fts WHERE fragments_fts MATCH ?",
                (match,),
            )
        ]

    def search_df(self, match: str) -> int:
        """How many fragments match an FTS5 expression (for idf weights)."""
        row = self.conn.execute(
            "SELECT count(*) FROM fragments_fts WHERE fragments_fts MATCH ?", (match,)
        ).fetchone()
        return int(row[0])

    def search_unanalysed_count(self) -> int:
        """Fragments with text but no analysed search columns (written before search existed)."""
        row = self.conn.execute(
            "SELECT count(*) FROM fragments WHERE terms = '' AND text != ''"
        ).fetchone()
        return int(row[0])

    def search_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM fragments").fetchone()[0])

    def search_fragment_ids(
        self,
        *,
        ingredients: Iterable[str] = (),
        slug: str | None = None,
        speaker: str | None = None,
    ) -> set[int]:
        """Ids of the fragments that pass the filters: tagged with any of ``ingredients``,
        in episode ``slug``, in an episode with a speaker whose name contains ``speaker``."""
        sql = "SELECT f.id FROM fragments f JOIN episodes e ON e.slug = f.slug WHERE 1"
        params: list[Any] = []
        wanted = list(ingredients)
        if wanted:
            marks = ",".join("?" * len(wanted))
            sql += (
                " AND f.id IN (SELECT fragment_id FROM fragment_tags"
                f" WHERE ingredient IN ({marks}))"
            )
            params.extend(wanted)
        if slug:
            sql += " AND f.slug = ?"
            params.append(slug)
        if speaker:
            sql += (
                " AND EXISTS (SELECT 1 FROM json_each(e.speakers) s"
                " WHERE s.value LIKE '%' || ? || '%')"
            )
            params.append(speaker)
        return {r[0] for r in self.conn.execute(sql, params)}

    def search_rows(self, ids: Iterable[int]) -> dict[int, sqlite3.Row]:
        """Fragment rows with their episode's title, date and speakers, by id."""
        wanted = list(ids)
        out: dict[int, sqlite3.Row] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(
                "SELECT f.id, f.slug, f.idx, f.chapter, f.start, f.end, f.text,"
                " e.title AS episode_title, e.date AS episode_date, e.speakers AS speakers"
                f" FROM fragments f JOIN episodes e ON e.slug = f.slug WHERE f.id IN ({marks})",
                chunk,
            ):
                out[r["id"]] = r
        return out

    def search_tags(self, ids: Iterable[int]) -> dict[int, list[tuple[str, float]]]:
        """(ingredient, score) of each fragment, best first; fragments without tags are absent."""
        wanted = list(ids)
        out: dict[int, list[tuple[str, float]]] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(
                "SELECT fragment_id, ingredient, score FROM fragment_tags"
                f" WHERE fragment_id IN ({marks}) ORDER BY score DESC, ingredient",
                chunk,
            ):
                out.setdefault(r[0], []).append((r[1], r[2]))
        return out

    def tagged_fragments(self, ingredients: Iterable[str]) -> dict[int, float]:
        """Fragment id -> best tag score among ``ingredients``."""
        wanted = list(ingredients)
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        return {
            r[0]: r[1]
            for r in self.conn.execute(
                "SELECT fragment_id, MAX(score) FROM fragment_tags"
                f" WHERE ingredient IN ({marks}) GROUP BY fragment_id",
                wanted,
            )
        }

    def listing_fragment_ids(self, ids: Iterable[int], limit: int) -> list[int]:
        """Ids in catalogue order (newest episode first, then time in the episode)."""
        wanted = list(ids)
        if not wanted:
            return []
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS _wanted (id INTEGER PRIMARY KEY)")
        self.conn.execute("DELETE FROM _wanted")
        self.conn.executemany("INSERT INTO _wanted (id) VALUES (?)", [(i,) for i in wanted])
        rows = self.conn.execute(
            "SELECT f.id FROM fragments f JOIN _wanted w ON w.id = f.id"
            " JOIN episodes e ON e.slug = f.slug ORDER BY e.date DESC, f.slug, f.start LIMIT ?",
            (limit,),
        )
        return [r[0] for r in rows]

    def search_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM search_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_search_meta(self, key: str, value: str) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT INTO search_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def fragment_texts(self) -> list[tuple[int, str]]:
        return [(r[0], r[1]) for r in self.conn.execute("SELECT id, text FROM fragments")]

    _SEARCH_WORDS_UPSERT = (
        "INSERT INTO search_words (word, key, parts) VALUES (?, ?, ?)"
        " ON CONFLICT(word) DO UPDATE SET key = excluded.key,"
        " parts = coalesce(excluded.parts, search_words.parts)"
    )

    def _add_search_words(self, rows: Iterable[tuple[str, str, str | None]]) -> None:
        self.conn.executemany(self._SEARCH_WORDS_UPSERT, list(rows))

    def add_search_words(self, rows: Iterable[tuple[str, str, str | None]]) -> None:
        """Keep word analyses: (word, key, compound part keys or None when not known)."""
        with self.conn:
            self._add_search_words(rows)

    def remember_search_words(self, rows: Iterable[tuple[str, str, str | None]]) -> None:
        """Like :meth:`add_search_words`, but only a cache: a catalogue that cannot be written
        now (read-only, locked) is left as it is."""
        rows = list(rows)
        if not rows:
            return
        try:
            self.add_search_words(rows)
        except sqlite3.OperationalError:  # read-only or busy: the next search analyses again
            return

    def search_words(self, words: Iterable[str]) -> list[tuple[str, str, str | None]]:
        """The kept analyses (word, key, parts) of those of ``words`` the catalogue knows."""
        wanted = list(words)
        out: list[tuple[str, str, str | None]] = []
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            marks = ",".join("?" * len(chunk))
            out.extend(
                (r[0], r[1], r[2])
                for r in self.conn.execute(
                    f"SELECT word, key, parts FROM search_words WHERE word IN ({marks})", chunk
                )
            )
        return out

    def search_compound_key(self, parts: str, prefer: str) -> str | None:
        """The key of a known word with these compound parts (``prefer`` when it is one)."""
        row = self.conn.execute(
            "SELECT key FROM search_words WHERE parts = ? AND parts != ''"
            " ORDER BY word = ? DESC, word LIMIT 1",
            (parts, prefer),
        ).fetchone()
        return row[0] if row else None

    def search_scores(
        self,
        variants: Iterable[tuple[int, float, float, str, bool]],
        total: float,
        limit: int,
        boosted: Iterable[int] = (),
        allowed: Iterable[int] | None = None,
    ) -> tuple[list[tuple[int, float]], dict[int, float], int, float]:
        """Score fragments for a query in SQLite (see pipeline.search for the formula).

        ``variants``: (concept number, weight, coverage weight, FTS5 expression, essential).
        Each variant's score is weight x bm25; per concept the best variant counts (with its
        coverage weight); a fragment scores the sum over concepts x (0.4 + 0.6 x coverage /
        ``total``). All of it runs in SQLite: no row of a common word goes through Python.
        The fragments scored are those an essential variant matches, and the ``boosted``
        ones: the other variants are only scored for these (bm25 is the costly part).

        Returns the best ``limit`` scored fragments among ``allowed`` (None: all) as (id,
        score), the scores of the ``boosted`` fragments that match, how many scored fragments
        of ``allowed`` there are, and the best score."""
        essential: list[str] = []
        others: list[str] = []
        ess_params: list[Any] = []
        other_params: list[Any] = []
        arm = (
            "SELECT ? AS c, rowid AS fid, -bm25(fragments_fts) * ? AS val, ? AS cov"
            " FROM fragments_fts WHERE fragments_fts MATCH ?"
        )
        for concept, weight, cover, match, is_essential in variants:
            if is_essential:
                essential.append(arm)
                ess_params += [concept, weight, cover, match]
            else:  # "+rowid": filter the scan, do not look each candidate up in the index
                others.append(arm + " AND +rowid IN (SELECT fid FROM cand)")
                other_params += [concept, weight, cover, match]
        if not essential:
            return [], {}, 0, 0.0
        boosted_ids = json.dumps(sorted(boosted))
        where = "1"
        allowed_ids: list[Any] = []
        if allowed is not None:
            where = "fid IN (SELECT value FROM json_each(?))"
            allowed_ids = [json.dumps(sorted(allowed))]
        params: list[Any] = [*ess_params]
        if others:
            head = (
                "WITH ess AS MATERIALIZED (" + " UNION ALL ".join(essential) + "),"
                " cand AS MATERIALIZED (SELECT fid FROM ess"
                " UNION SELECT value FROM json_each(?)),"
                " hits AS (SELECT c, fid, val, cov FROM ess UNION ALL "
                + " UNION ALL ".join(others)
                + "),"
            )
            params += [boosted_ids, *other_params]
        else:
            head = "WITH hits AS (" + " UNION ALL ".join(essential) + "),"
        sql = (
            head + " best AS (SELECT c, fid, max(val) AS val, cov FROM hits GROUP BY c, fid),"
            " scored AS MATERIALIZED (SELECT fid,"
            " sum(val) * (0.4 + 0.6 * min(sum(cov) / ?, 1.0)) AS score FROM best GROUP BY fid)"
            " SELECT * FROM (SELECT 0, fid, score FROM scored"
            f" WHERE {where} ORDER BY score DESC, fid LIMIT ?)"
            " UNION ALL SELECT 1, fid, score FROM scored"
            " WHERE fid IN (SELECT value FROM json_each(?))"
            f" UNION ALL SELECT 2, count(*), 0 FROM scored WHERE {where}"
            " UNION ALL SELECT 3, 0, coalesce(max(score), 0) FROM scored"
        )
        params += [total or 1.0, *allowed_ids, limit, boosted_ids, *allowed_ids]
        top: list[tuple[int, float]] = []
        extra: dict[int, float] = {}
        count, best = 0, 0.0
        for kind, fid, score in self.conn.execute(sql, params):
            if kind == 0:
                top.append((fid, score))
            elif kind == 1:
                extra[fid] = score
            elif kind == 2:
                count = fid
            else:
                best = score
        return top, extra, count, best

    def search_count_any(self, matches: Iterable[str], allowed: Iterable[int] | None) -> int:
        """How many fragments (among ``allowed``; None: all) match any of the expressions."""
        expr = " OR ".join(f"({m})" for m in matches)
        if not expr:
            return 0
        sql = "SELECT count(*) FROM fragments_fts WHERE fragments_fts MATCH ?"
        params: list[Any] = [expr]
        if allowed is not None:
            sql += " AND +rowid IN (SELECT value FROM json_each(?))"
            params.append(json.dumps(sorted(allowed)))
        return int(self.conn.execute(sql, params).fetchone()[0])

    def set_search_columns(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Rewrite the analysed columns: (fragment id, terms, parts); triggers update FTS5."""
        with self.conn:
            self.conn.executemany(
                "UPDATE fragments SET terms = ?, parts = ? WHERE id = ?",
                [(terms, parts, fid) for fid, terms, parts in rows],
            )


def open_catalogue(ws: Any) -> Catalogue:
    """Open (and migrate) the catalogue of a workspace."""
    ws.root.mkdir(parents=True, exist_ok=True)
    return Catalogue(ws.catalogue_path)
