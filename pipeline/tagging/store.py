"""The tags file ``transcripts/<slug>.tags.json``: the chapters and tagged fragments of an episode,
written by the tag stage and read by the feed, the site and ``vlinder reindex``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pipeline.core.errors import (
    WorkspaceError,
)
from pipeline.core.models import Chapter, Fragment, SpeakerTurn, Tag
from pipeline.core.workspace import Workspace, atomic_write_text

from .lexicon import sum_tags
from .semantic import method_version

if TYPE_CHECKING:
    pass


def _tag_dict(t: Tag) -> dict[str, Any]:
    return {
        "ingredient": t.ingredient,
        "score": t.score,
        "evidence": list(t.evidence),
        "source": t.source,
    }


def _tag_from(d: dict[str, Any]) -> Tag:
    return Tag(
        str(d["ingredient"]),
        float(d["score"]),
        tuple(d.get("evidence", ())),
        str(d.get("source", "auto")),
    )


def _turn_dict(t: SpeakerTurn) -> dict[str, Any]:
    return {"start": round(t.start, 3), "speaker": t.speaker, "text": t.text}


def _turn_from(d: dict[str, Any]) -> SpeakerTurn:
    return SpeakerTurn(float(d["start"]), str(d["speaker"]), str(d["text"]))


def tags_data(
    slug: str, key: str, chapters: Sequence[Chapter], fragments: Sequence[Fragment]
) -> dict[str, Any]:
    return {
        "slug": slug,
        "cache_key": key,
        "method": method_version(),
        "episode_tags": [_tag_dict(t) for t in sum_tags(f.tags for f in fragments)],
        "chapters": [
            {
                "index": c.index,
                "start": round(c.start, 3),
                "end": round(c.end, 3),
                "title": c.title,
                "summary": c.summary,
                "tags": [_tag_dict(t) for t in c.tags],
            }
            for c in chapters
        ],
        "fragments": [
            {
                "index": f.index,
                "chapter": f.chapter,
                "start": round(f.start, 3),
                "end": round(f.end, 3),
                "text": f.text,
                "tags": [_tag_dict(t) for t in f.tags],
                **({"turns": [_turn_dict(t) for t in f.turns]} if f.turns else {}),
            }
            for f in fragments
        ],
    }


def _read_tags_file(ws: Workspace, slug: str) -> dict[str, Any] | None:
    path = ws.transcript_path(slug, "tags.json")
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(
            f"{path}: geen geldige JSON; draai `vlinder tag {slug} --force`"
        ) from exc
    if not isinstance(data, dict):
        raise WorkspaceError(
            f"{path}: verwacht een JSON-object; draai `vlinder tag {slug} --force`"
        )
    return data


def from_data(data: dict[str, Any], origin: str) -> tuple[list[Chapter], list[Fragment]]:
    try:
        chapters = [
            Chapter(
                int(c["index"]),
                float(c["start"]),
                float(c["end"]),
                str(c["title"]),
                str(c.get("summary", "")),
                tuple(_tag_from(t) for t in c.get("tags", ())),
            )
            for c in data["chapters"]
        ]
        fragments = [
            Fragment(
                int(f["index"]),
                float(f["start"]),
                float(f["end"]),
                str(f["text"]),
                tuple(_tag_from(t) for t in f.get("tags", ())),
                int(f.get("chapter", 0)),
                tuple(_turn_from(t) for t in f.get("turns", ())),
            )
            for f in data["fragments"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkspaceError(
            f"{origin}: onvolledig bestand ({exc}); draai `vlinder tag --force`"
        ) from exc
    return chapters, fragments


def load_fragments(ws: Workspace, slug: str) -> tuple[list[Chapter], list[Fragment]] | None:
    """The chapters and tagged fragments of an episode, or None when it is not tagged yet."""
    data = _read_tags_file(ws, slug)
    if data is None:
        return None
    return from_data(data, str(ws.transcript_path(slug, "tags.json")))


def read_tags_file_quiet(ws: Workspace, slug: str) -> dict[str, Any] | None:
    try:
        return _read_tags_file(ws, slug)
    except WorkspaceError:
        return None  # a broken file is simply rebuilt


def write_tags_file(
    ws: Workspace, slug: str, key: str, chapters: Sequence[Chapter], fragments: Sequence[Fragment]
) -> None:
    """Write ``transcripts/<slug>.tags.json`` (atomically)."""
    atomic_write_text(
        ws.transcript_path(slug, "tags.json"),
        json.dumps(tags_data(slug, key, chapters, fragments), ensure_ascii=False, indent=1) + "\n",
    )
