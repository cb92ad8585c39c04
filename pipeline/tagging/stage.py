"""The tag stage: an episode's transcript -> chapters and tagged fragments -> ``tags.json`` and
the catalogue (the ``tag`` verb).

Cached: the key is the transcript's hash, the taxonomy's version, the method version
(:func:`pipeline.tagging.semantic.method_version`) and the producer's corrections; when
``transcripts/<slug>.tags.json`` has that key, tagging again only puts its rows back in the
catalogue. Producer corrections: :mod:`pipeline.tagging.overrides`. The semantic tagger is
loaded once per process; its compiled taxonomy is cached in the workspace's ``.vlinder/cache``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.catalogue import Catalogue, open_catalogue
from pipeline.core.episodes import load_episode
from pipeline.core.errors import (
    NotFoundError,
)
from pipeline.core.models import Chapter, Episode, Fragment, Transcript
from pipeline.core.taxonomy import Taxonomy, load_taxonomy
from pipeline.core.workspace import Workspace
from pipeline.transcribe import load_transcript

from .overrides import Overrides, apply_overrides, parse_overrides
from .segment import segment, titles_from_tags
from .semantic import method_version, tag_fragments
from .store import from_data, read_tags_file_quiet, write_tags_file
from .turns import with_turns


def transcript_hash(transcript: Transcript) -> str:
    data = [[round(s.start, 3), round(s.end, 3), s.text, s.speaker] for s in transcript.segments]
    blob = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def _overrides_hash(raw: dict[str, Any]) -> str:
    data = {k: raw.get(k) for k in ("chapter_overrides", "tag_overrides") if raw.get(k)}
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:12]


def cache_key(transcript: Transcript, tax: Taxonomy, overrides: dict[str, Any]) -> str:
    """transcript hash + taxonomy version + method version (+ the producer's corrections)."""
    return ":".join(
        (transcript_hash(transcript), tax.version, method_version(), _overrides_hash(overrides))
    )


@dataclass(frozen=True)
class TagResult:
    """The chapters and tagged fragments of one episode."""

    slug: str
    key: str
    chapters: tuple[Chapter, ...]
    fragments: tuple[Fragment, ...]
    cached: bool = False  # the tags file was up to date

    @property
    def tagged(self) -> int:
        """How many fragments have at least one ingredient."""
        return sum(1 for f in self.fragments if f.tags)


def tag(ws: Workspace, slug: str, *, force: bool = False) -> TagResult:
    """Segment and tag one episode (skipped when its cache key is unchanged), apply the
    producer's corrections, write ``transcripts/<slug>.tags.json`` and the catalogue rows."""
    ep = load_episode(ws, slug)
    transcript = load_transcript(ws, slug)
    if transcript is None:
        raise NotFoundError(
            f"aflevering '{slug}' heeft nog geen transcript (draai eerst `vlinder transcribe {slug}`)"
        )
    tax = load_taxonomy(ws)
    ov = parse_overrides(ep.overrides, tax, str(ws.episode_file(slug)))
    key = cache_key(transcript, tax, ep.overrides)
    existing = None if force else read_tags_file_quiet(ws, slug)
    cached = existing is not None and existing.get("cache_key") == key
    if existing is not None and cached:
        chapters, fragments = from_data(existing, str(ws.transcript_path(slug, "tags.json")))
    else:
        chapters, fragments = segment_and_tag(transcript, tax, ov, ws.cache_dir)
        write_tags_file(ws, slug, key, chapters, fragments)
    with open_catalogue(ws) as cat:
        cat.upsert_episode(ep)
        cat.replace_fragments(ep.slug, chapters, fragments)
        cat.set_stage(ep.slug, "tag", "done", key)
    return TagResult(slug, key, tuple(chapters), tuple(fragments), cached)


def segment_and_tag(
    transcript: Transcript,
    tax: Taxonomy,
    ov: Overrides | None = None,
    cache_dir: Path | None = None,
) -> tuple[list[Chapter], list[Fragment]]:
    """Segment, tag, name the chapters that have no title from the text after their
    strongest ingredient, apply corrections, sum the chapter tags (``cache_dir``: where the
    semantic tagger keeps its compiled taxonomy)."""
    ov = ov or Overrides({}, {}, (), ())
    chapters, fragments = segment(transcript, tax, moves=ov.moves)
    fragments = tag_fragments(with_turns(fragments, transcript), tax, cache_dir)
    chapters = titles_from_tags(chapters, fragments, tax)
    return apply_overrides(chapters, fragments, ov)


def reindex(ws: Workspace, cat: Catalogue, ep: Episode) -> bool:
    """Put the chapters and fragments of ``tags.json`` back in the catalogue (``vlinder
    reindex``); False when the episode has no (readable) tags file."""
    data = read_tags_file_quiet(ws, ep.slug)
    if data is None:
        return False
    chapters, fragments = from_data(data, str(ws.transcript_path(ep.slug, "tags.json")))
    cat.replace_fragments(ep.slug, chapters, fragments)
    cat.set_stage(ep.slug, "tag", "done", str(data.get("cache_key", "")))
    return True
