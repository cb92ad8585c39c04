"""The search index of the site, built with Pagefind.

Pagefind indexes one record per fragment (:mod:`pipeline.site.records`, through Pagefind's
Python API), so a result is the fragment: its link plays it (``#t=START,END``) and its filters
(ingredient, vlinder, speaker, episode) are the fragment's own.

The search index is split in
a base shard and a small delta shard (Pagefind has no incremental indexing): a new episode joins
the delta, so adding one re-indexes only the delta, until :data:`SHARD_EPISODES` episodes are
merged into the base; the browser merges the two (``mergeIndex``, sharing the WebAssembly).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.core.errors import ToolError
from pipeline.core.text import fold, stem
from pipeline.search.words import lemma, split_compound, stopwords, words

if TYPE_CHECKING:
    from .records import SearchRecord

LANGUAGE = "nl"
SHARD_EPISODES = 20  # episodes in the delta search shard before it is merged into the base


def assign_shards(
    previous: Sequence[Sequence[str]], slugs: Sequence[str], size: int | None = None
) -> list[list[str]]:
    """A base shard and at most one small delta shard (like a two-level LSM tree).

    The first build puts every episode in the base. Later, new episodes go to the delta, so
    adding one re-indexes only the delta; when the delta reaches ``size`` episodes it is merged
    into the base (one full re-index). Two shards keep the first search small: each shard the
    browser merges costs its own metadata, index and filter downloads.
    ``slugs`` in the order episodes were added (oldest first).
    """
    size = size or SHARD_EPISODES
    present = set(slugs)
    shards = [[s for s in shard if s in present] for shard in previous[:2]]
    for extra in previous[2:]:  # an older layout: fold it into the delta
        shards[-1] += [s for s in extra if s in present]
    shards = [s for s in shards if s]
    placed = {s for shard in shards for s in shard}
    new = [s for s in slugs if s not in placed]
    if not shards:
        return [list(new)] if new else []
    if len(shards) == 1:
        shards.append([])
    shards[1] += new
    if len(shards[1]) >= size:
        shards = [shards[0] + shards[1]]
    return [s for s in shards if s]


def shard_id(shard: Sequence[str]) -> str:
    """A shard's folder name: stable while its first episode stays in it."""
    return "d-" + hashlib.sha256(shard[0].encode()).hexdigest()[:8]


@lru_cache(maxsize=50_000)
def _word_terms(word: str) -> tuple[str, ...]:
    """Forms of one word that Pagefind's own stemming misses: its dictionary form
    (``symposia`` -> ``symposium``) and its compound parts (``sporttoernooi`` -> ``sport``,
    ``toernooi``)."""
    found = [lemma(word)]
    for part in split_compound(fold(word)):
        found += [part, lemma(part)]
    return tuple(dict.fromkeys(found))


def search_terms(text: str) -> str:
    """Extra words for the search index of one fragment (space-separated; empty: none).

    Pagefind stems Dutch itself but knows no irregular forms or compounds, which
    :mod:`pipeline.search.words` gives the CLI search. Each fragment's search record
    (:mod:`pipeline.site.records`) carries them after its words, so a browser search for ``toernooi`` finds the fragment about
    the ``sporttoernooi``; the search page strips them from the excerpts (``zoeken.js``).
    Words that Pagefind would match anyway (same stem as a word of the text) are left out.
    Related terms of the thesaurus are not added: a fragment would get several times its
    own length in extra words (a bigger index and slower first search), for a weak signal.
    """
    ws = words(text)
    stop = stopwords()  # "kon" -> "kunnen": no use to a search
    have = {stem(fold(w)) for w in ws}
    out: list[str] = []
    for w in dict.fromkeys(ws):
        if not w.isalpha() or fold(w) in stop:
            continue
        for term in _word_terms(w):
            s = stem(fold(term))
            if s not in have and fold(term) not in stop:
                have.add(s)
                out.append(term)
    return " ".join(out)


def _binary() -> Path:
    try:
        from pagefind_bin import get_executable
    except ImportError as exc:
        raise ToolError("Pagefind ontbreekt: installeer het pakket pagefind[bin]") from exc
    try:
        return Path(get_executable())
    except FileNotFoundError as exc:
        raise ToolError("het programma van Pagefind (pagefind[bin]) ontbreekt") from exc


async def _write_index(records: Sequence[SearchRecord], out: Path) -> None:
    from pagefind.index import IndexConfig, PagefindIndex

    config = IndexConfig(force_language=LANGUAGE, output_path=str(out))
    async with PagefindIndex(config=config) as index:
        await asyncio.gather(
            *(
                index.add_custom_record(
                    url=r.url,
                    content=r.content,
                    language=LANGUAGE,
                    meta={"title": r.title, **dict(r.meta)},
                    filters={name: list(values) for name, values in r.filters},
                )
                for r in records
            )
        )


def index_records(records: Sequence[SearchRecord], out: Path) -> None:
    """Index the search records of one shard into the bundle folder ``out`` (replaced whole:
    a search never sees half an index)."""
    new = out.with_name(f".{out.name}.new")
    old = out.with_name(f".{out.name}.old")
    for path in (new, old):
        shutil.rmtree(path, ignore_errors=True)
    # the Python API finds the program itself; checking first gives a clear line instead
    os.environ.setdefault("PAGEFIND_BINARY_PATH", str(_binary()))
    try:
        # in a thread of its own: the caller may be inside an event loop (the web app)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(lambda: asyncio.run(_write_index(records, new))).result()
    except Exception as exc:  # the service reports its own errors as plain exceptions
        shutil.rmtree(new, ignore_errors=True)
        raise ToolError(f"Pagefind faalde: {exc}") from exc
    if not (new / "pagefind-entry.json").is_file():
        shutil.rmtree(new, ignore_errors=True)
        raise ToolError("Pagefind schreef geen zoekindex")
    if out.exists():
        os.replace(out, old)
    os.replace(new, out)
    shutil.rmtree(old, ignore_errors=True)
