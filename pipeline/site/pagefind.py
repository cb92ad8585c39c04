"""The search index of the site, built with Pagefind.

Pagefind indexes one record per fragment (:mod:`pipeline.site.records`, sent to Pagefind's
indexing service: :class:`_Service`), so a result is the fragment: its link plays it (``#t=START,END``) and its filters
(ingredient, vlinder, speaker, episode) are the fragment's own.

The search index is split in
a base shard and a small delta shard (Pagefind has no incremental indexing): a new episode joins
the delta, so adding one re-indexes only the delta, until :data:`SHARD_EPISODES` episodes are
merged into the base; the browser merges the two (``mergeIndex``, sharing the WebAssembly).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


SERVICE_TIMEOUT = 900  # seconds for Pagefind to answer everything of one shard


class _Service:
    """Pagefind's indexing service (``pagefind --service``), spoken to directly.

    The protocol of Pagefind's own Python API: each message is base64 of a JSON object
    ``{"message_id", "payload"}`` followed by a comma, both ways. That API polls for each answer
    after a 0.1 s sleep (a quarter of an hour for 10,000 fragments); here a reader thread takes
    the answers as they come, and all records of a shard are sent at once.
    """

    def __init__(self) -> None:
        try:
            self.proc = subprocess.Popen(
                [str(_binary()), "--service"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise ToolError(f"Pagefind kon niet draaien: {exc}") from exc
        self.answers: dict[int, dict[str, Any]] = {}
        self.closed = False
        self.next_id = 0
        self.cond = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        buffer = b""
        while chunk := os.read(self.proc.stdout.fileno(), 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b",")
            answers = [json.loads(base64.b64decode(m)) for m in messages if m.strip()]
            with self.cond:
                for answer in answers:
                    if isinstance(answer, dict) and answer.get("message_id") is not None:
                        self.answers[int(answer["message_id"])] = answer.get("payload") or {}
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def send(self, payloads: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send the payloads and wait for all their answers (in order)."""
        assert self.proc.stdin is not None
        ids = []
        try:
            for payload in payloads:
                self.next_id += 1
                ids.append(self.next_id)
                message = {"message_id": self.next_id, "payload": payload}
                self.proc.stdin.write(base64.b64encode(json.dumps(message).encode()) + b",")
            self.proc.stdin.flush()
        except OSError as exc:
            raise ToolError(f"Pagefind stopte onverwacht ({exc})") from exc
        with self.cond:
            done = self.cond.wait_for(
                lambda: self.closed or all(i in self.answers for i in ids), SERVICE_TIMEOUT
            )
            if not done or not all(i in self.answers for i in ids):
                raise ToolError("Pagefind gaf geen antwoord; de zoekindex is niet bijgewerkt")
            answers = [self.answers.pop(i) for i in ids]
        for answer in answers:
            if answer.get("type") == "Error":
                raise ToolError(f"Pagefind faalde: {answer.get('message', answer)}")
        return answers

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(10)


def _write_index(records: Sequence[SearchRecord], out: Path) -> None:
    service = _Service()
    try:
        (created,) = service.send([{"type": "NewIndex", "config": {"force_language": LANGUAGE}}])
        index_id = created["index_id"]
        service.send(
            [
                {
                    "type": "AddRecord",
                    "index_id": index_id,
                    "url": r.url,
                    "content": r.content,
                    "language": LANGUAGE,
                    "meta": {"title": r.title, **dict(r.meta)},
                    "filters": {name: list(values) for name, values in r.filters},
                    "sort": None,
                }
                for r in records
            ]
        )
        service.send([{"type": "WriteFiles", "index_id": index_id, "output_path": str(out)}])
    finally:
        service.close()


def index_records(records: Sequence[SearchRecord], out: Path) -> None:
    """Index the search records of one shard into the bundle folder ``out`` (replaced whole:
    a search never sees half an index)."""
    new = out.with_name(f".{out.name}.new")
    old = out.with_name(f".{out.name}.old")
    for path in (new, old):
        shutil.rmtree(path, ignore_errors=True)
    try:
        _write_index(records, new)
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    if not (new / "pagefind-entry.json").is_file():
        shutil.rmtree(new, ignore_errors=True)
        raise ToolError("Pagefind schreef geen zoekindex")
    if out.exists():
        os.replace(out, old)
    os.replace(new, out)
    shutil.rmtree(old, ignore_errors=True)
