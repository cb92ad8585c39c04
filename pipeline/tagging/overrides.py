"""Producer corrections (``episodes/<slug>/episode.toml``; they survive every re-run)::

    [[chapter_overrides]]
    chapter = 2                  # chapter number, counting from 1 as on the site
    title = "Samen de risico's dragen"   # optional: rename
    summary = "..."              # optional: replace the summary
    start = "5:12"               # optional: move its start to the sentence nearest 5:12

    [[tag_overrides]]
    at = "12:40"                 # the fragment playing at 12:40 (or seconds: 760)
    add = ["bestuurlijk-lef"]    # add ingredients (score 1.0, source "manual")
    remove = ["een-team"]        # remove ingredients

    [[tag_overrides]]
    chapter = 3                  # a whole chapter: add puts the ingredient on the chapter,
    remove = ["sociale-binding"] # remove takes it off the chapter and all its fragments

Times are addressed by time, not by fragment number, so a correction still points at the same
words when a changed taxonomy or method cuts the fragments differently. Chapters are numbered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import (
    InputError,
)
from pipeline.core.models import Chapter, Fragment, Tag
from pipeline.core.taxonomy import Taxonomy
from pipeline.core.timefmt import parse_time

if TYPE_CHECKING:
    pass
from .lexicon import chapters_with_tags


# --- producer corrections -------------------------------------------------------------------
@dataclass(frozen=True)
class Overrides:
    renames: dict[int, tuple[str | None, str | None]]  # chapter index -> (title, summary)
    moves: dict[int, float]  # chapter index -> start seconds
    fragment_tags: tuple[tuple[float, tuple[str, ...], tuple[str, ...]], ...]  # at, add, remove
    chapter_tags: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...]


def _ids(table: dict[str, Any], key: str, where: str, tax: Taxonomy) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: '{key}' moet een lijst met ingrediënt-id's zijn")
    for v in value:
        if v not in tax.ingredient_ids:
            raise InputError(f"{where}: onbekend ingrediënt '{v}' (zie taxonomy.toml)")
    return tuple(value)


def _chapter_no(table: dict[str, Any], where: str) -> int:
    n = table.get("chapter")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise InputError(f"{where}: 'chapter' moet een hoofdstuknummer zijn (1, 2, ...)")
    return n - 1


def parse_overrides(raw: dict[str, Any], tax: Taxonomy, origin: str = "episode.toml") -> Overrides:
    """Validate the ``[[chapter_overrides]]`` and ``[[tag_overrides]]`` tables."""
    renames: dict[int, tuple[str | None, str | None]] = {}
    moves: dict[int, float] = {}
    frag_tags = []
    chap_tags = []
    for key in ("chapter_overrides", "tag_overrides"):
        tables = raw.get(key, [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise InputError(f"{origin}: '{key}' moet een lijst van tabellen zijn ([[{key}]])")
    for n, table in enumerate(raw.get("chapter_overrides", []), start=1):
        where = f"{origin}: [[chapter_overrides]] nr. {n}"
        ci = _chapter_no(table, where)
        title, summary = table.get("title"), table.get("summary")
        for name, value in (("title", title), ("summary", summary)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InputError(f"{where}: '{name}' moet tekst zijn")
        if title is not None or summary is not None:
            renames[ci] = (title.strip() if title else None, summary.strip() if summary else None)
        if "start" in table:
            if ci == 0:
                raise InputError(f"{where}: het eerste hoofdstuk begint altijd aan het begin")
            moves[ci] = parse_time(table["start"], where)
    for n, table in enumerate(raw.get("tag_overrides", []), start=1):
        where = f"{origin}: [[tag_overrides]] nr. {n}"
        add, remove = _ids(table, "add", where, tax), _ids(table, "remove", where, tax)
        if "at" in table:
            frag_tags.append((parse_time(table["at"], where), add, remove))
        elif "chapter" in table:
            chap_tags.append((_chapter_no(table, where), add, remove))
        else:
            raise InputError(f"{where}: geef 'at' (tijd van het fragment) of 'chapter'")
    return Overrides(renames, moves, tuple(frag_tags), tuple(chap_tags))


def _edit_tags(tags: tuple[Tag, ...], add: Iterable[str], remove: Iterable[str]) -> tuple[Tag, ...]:
    drop = set(remove)
    kept = [t for t in tags if t.ingredient not in drop]
    have = {t.ingredient for t in kept}
    for i in add:
        if i not in have and i not in drop:
            kept = [t for t in kept if t.ingredient != i]
            kept.insert(0, Tag(i, 1.0, ("handmatig toegevoegd",), "manual"))
            have.add(i)
    return tuple(kept)


def apply_overrides(
    chapters: Sequence[Chapter], fragments: Sequence[Fragment], ov: Overrides
) -> tuple[list[Chapter], list[Fragment]]:
    """Pure: tag corrections on fragments and chapters, summed chapter tags, renames."""
    frags = list(fragments)
    for at, add, remove in ov.fragment_tags:
        for k, f in enumerate(frags):
            last = k == len(frags) - 1
            if f.start <= at < f.end or (last and f.start <= at <= f.end + 1e-6):
                frags[k] = replace(f, tags=_edit_tags(f.tags, add, remove))
                break
    chapter_manual: dict[int, tuple[Tag, ...]] = {}
    for ci, add, remove in ov.chapter_tags:
        for k, f in enumerate(frags):
            if f.chapter == ci and remove:
                frags[k] = replace(f, tags=_edit_tags(f.tags, (), remove))
        chapter_manual[ci] = _edit_tags(chapter_manual.get(ci, ()), add, remove)
    chaps = [replace(c, tags=chapter_manual.get(c.index, ())) for c in chapters]
    chaps = chapters_with_tags(chaps, frags)
    removed = {ci: set(remove) for ci, _, remove in ov.chapter_tags}
    out = []
    for c in chaps:
        tags = tuple(t for t in c.tags if t.ingredient not in removed.get(c.index, set()))
        title, summary = ov.renames.get(c.index, (None, None))
        out.append(replace(c, tags=tags, title=title or c.title, summary=summary or c.summary))
    return out, frags
