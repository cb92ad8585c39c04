"""Snippets: the words of a fragment that match a query, and a window of the text around them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pipeline.core.text import fold

from .analysis import Analyser, QueryAnalysis
from .words import words

SNIPPET_CHARS = 220


def html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_WORD_RE = re.compile(r"[0-9A-Za-zÀ-ÿ]+(?:['’][A-Za-z]+)?")


def match_spans(text: str, qa: QueryAnalysis, analyser: Analyser) -> tuple[tuple[int, int], ...]:
    """Character ranges of the words in ``text`` that match the query (by key, compound part,
    or surface form)."""
    wanted = qa.highlight_keys
    surface = set(qa.content_words)
    spans = []
    for m in _WORD_RE.finditer(text):
        ws = words(m.group(0))
        if not ws:
            continue
        w = ws[0]
        if (
            fold(w) in surface
            or analyser.key(w) in wanted
            or any(p in wanted for p in analyser.part_keys(w))
        ):
            spans.append((m.start(), m.end()))
    return tuple(spans)


def snippet(
    text: str,
    spans: Sequence[tuple[int, int]],
    open_mark: str = "[",
    close_mark: str = "]",
    width: int = SNIPPET_CHARS,
    escape: Any = None,
) -> str:
    """The part of ``text`` (about ``width`` characters, on word boundaries) with the most
    matches, matches wrapped in the marks; ``…`` where text was cut."""
    esc = escape or (lambda s: s)
    if len(text) <= width:
        lo, hi = 0, len(text)
    else:
        best_start, best_count = 0, -1
        for s, _ in spans or [(0, 0)]:
            start = max(0, s - width // 4)
            count = sum(1 for a, b in spans if a >= start and b <= start + width)
            if count > best_count:
                best_start, best_count = start, count
        lo = best_start
        hi = min(len(text), lo + width)
        if lo > 0:  # start on a word boundary
            space = text.find(" ", lo)
            lo = space + 1 if 0 <= space < lo + 30 else lo
        if hi < len(text):
            space = text.rfind(" ", lo, hi)
            hi = space if space > lo else hi
    out = ["…" if lo > 0 else ""]
    pos = lo
    for a, b in spans:
        if a < lo or b > hi:
            continue
        out.append(esc(text[pos:a]))
        out.append(open_mark + esc(text[a:b]) + close_mark)
        pos = b
    out.append(esc(text[pos:hi]))
    if hi < len(text):
        out.append("…")
    return "".join(out).strip()
