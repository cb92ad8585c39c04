"""The full-text index over the fragments (FTS5) and the search stage's queries.

The ranking formula itself lives in :mod:`pipeline.search.ranking`; :meth:`search_scores` runs
it in one SQLite statement with the weights that module passes in.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from .connection import Connection


class FullTextQueries(Connection):
    # search (pipeline/search.py) --------------------------------------------
    def search_df(self, match: str) -> int:
        """How many fragments match an FTS5 expression (for idf weights)."""
        row = self.conn.execute(
            "SELECT count(*) FROM fragments_fts WHERE fragments_fts MATCH ?", (match,)
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
        in episode ``slug``, where a speaker whose name contains ``speaker`` speaks (the
        fragment's own speakers when known, else the episode's)."""
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
                " AND EXISTS (SELECT 1 FROM json_each(CASE WHEN f.speakers != '[]'"
                " THEN f.speakers ELSE e.speakers END) s WHERE s.value LIKE '%' || ? || '%')"
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
                " e.title AS episode_title, e.date AS episode_date,"
                " CASE WHEN f.speakers != '[]' THEN f.speakers ELSE e.speakers END AS speakers"
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
        *,
        floor: float,
    ) -> tuple[list[tuple[int, float]], dict[int, float], int, float]:
        """Score fragments for a query in SQLite (the formula: :mod:`pipeline.search.ranking`).

        ``variants``: (concept number, weight, coverage weight, FTS5 expression, essential).
        Each variant's score is weight x bm25; per concept the best variant counts (with its
        coverage weight); a fragment scores the sum over concepts x (``floor`` + (1 - ``floor``) x
        coverage / ``total``). All of it runs in SQLite: no row of a common word goes through Python.
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
            " sum(val) * (? + ? * min(sum(cov) / ?, 1.0)) AS score FROM best GROUP BY fid)"
            " SELECT * FROM (SELECT 0, fid, score FROM scored"
            f" WHERE {where} ORDER BY score DESC, fid LIMIT ?)"
            " UNION ALL SELECT 1, fid, score FROM scored"
            " WHERE fid IN (SELECT value FROM json_each(?))"
            f" UNION ALL SELECT 2, count(*), 0 FROM scored WHERE {where}"
            " UNION ALL SELECT 3, 0, coalesce(max(score), 0) FROM scored"
        )
        params += [floor, 1.0 - floor, total or 1.0, *allowed_ids, limit, boosted_ids, *allowed_ids]
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

    def unanalysed_fragments(self) -> list[tuple[int, str]]:
        """(id, text) of the fragments whose search columns are not analysed yet."""
        rows = self.conn.execute("SELECT id, text FROM fragments WHERE analysed = 0")
        return [(r[0], r[1]) for r in rows]

    def reset_search_analysis(self) -> None:
        """Mark every fragment as not analysed (the analysis changed)."""
        with self.conn:
            self.conn.execute("UPDATE fragments SET analysed = 0 WHERE analysed != 0")

    def set_search_columns(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Rewrite the analysed columns: (fragment id, terms, parts); triggers update FTS5."""
        with self.conn:
            self.conn.executemany(
                "UPDATE fragments SET terms = ?, parts = ?, analysed = 1 WHERE id = ?",
                [(terms, parts, fid) for fid, terms, parts in rows],
            )
