"""Domain vocabulary: the workspace's ``glossary.txt`` becomes the decoder's initial prompt.

``initial_prompt`` is supported by both engines, and faster-whisper's batched mode applies it to
every 30 s window. Hotwords are not used as well: faster-whisper puts them in the same prompt
slot, so both would only repeat the list.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.core.workspace import Workspace

DEFAULT_GLOSSARY = Path(__file__).parent / "data" / "glossary.txt"


MAX_PROMPT_CHARS = 250


def load_glossary(ws: Workspace) -> tuple[str, ...]:
    """Terms from ``<workspace>/glossary.txt`` (the bundled default when it does not exist).

    One term a line; empty lines and lines starting with ``#`` are skipped. An empty file turns
    the vocabulary prompt off.
    """
    path = ws.glossary_path if ws.glossary_path.exists() else DEFAULT_GLOSSARY
    if not path.exists():
        return ()
    terms = []
    for line in path.read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip()
        if term and term not in terms:
            terms.append(term)
    return tuple(terms)


def glossary_prompt(terms: tuple[str, ...]) -> str:
    """``'Gorinchem, Waardenburg, ...'``: the first terms that fit in ~250 characters."""
    out: list[str] = []
    length = 0
    for term in terms:
        if length + len(term) + 2 > MAX_PROMPT_CHARS:
            break
        out.append(term)
        length += len(term) + 2
    return ", ".join(out) + "." if out else ""
