"""Chapters, fragments and their ingredient tags (the tagging stage's output)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from pipeline.core.models import Chapter, Fragment

from .connection import Connection


class FragmentQueries(Connection):
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
                # the analysed search columns (terms, parts) are filled in by the search
                # stage's index step (pipeline.search.index)
                cur = self.conn.execute(
                    "INSERT INTO fragments (slug, idx, chapter, start, end, text, speakers)"
                    " VALUES (?,?,?,?,?,?,?)",
                    (
                        slug,
                        f.index,
                        f.chapter,
                        f.start,
                        f.end,
                        f.text,
                        json.dumps(list(f.speakers), ensure_ascii=False),
                    ),
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

    def fragment_ids(self, slug: str) -> dict[int, int]:
        """Fragment index -> catalogue id, for one episode."""
        rows = self.conn.execute("SELECT idx, id FROM fragments WHERE slug = ?", (slug,))
        return {r[0]: r[1] for r in rows}
