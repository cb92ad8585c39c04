"""What the site is built from: :func:`collect` reads the workspace into a :class:`SiteInput`.

What is read per episode is cached in ``.vlinder/cache/site-input.pickle``, keyed on the
modification times and sizes of its files, so a rebuild reads only what changed.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.baseurl import base_url as resolve_base_url
from pipeline.core.episodes import scan_episodes
from pipeline.core.models import Chapter, Episode, Fragment, Segment, Transcript
from pipeline.core.workspace import Workspace, atomic_write_bytes
from pipeline.feed.cover import published_artwork
from pipeline.core.taxonomy import load_taxonomy
from pipeline.tagging import load_fragments
from pipeline.transcribe import load_transcript

#: Bump when the page contexts or the writer change in a way the templates hash cannot see.
SITE_VERSION = "3"


SEGMENT_BLOCK = 60.0  # seconds of transcript per block when an episode has no fragments yet


TRANSCRIPT_EXTS = ("vtt", "srt", "txt", "json", "podcast.json", "html")


FragmentLoader = Callable[[Workspace, str], "tuple[Sequence[Chapter], Sequence[Fragment]] | None"]


TranscriptLoader = Callable[[Workspace, str], "Transcript | None"]


@dataclass(frozen=True)
class IngredientInfo:
    id: str
    title: str
    description: str
    vlinder: str  # vlinder id ("" when the taxonomy has no vlinder for it)


@dataclass(frozen=True)
class VlinderSource:
    id: str
    title: str
    description: str
    ingredients: tuple[str, ...]  # ingredient ids


@dataclass(frozen=True)
class EpisodeSource:
    episode: Episode
    has_transcript: bool
    chapters: tuple[Chapter, ...] = ()
    fragments: tuple[Fragment, ...] = ()
    segments: tuple[Segment, ...] = ()  # only for episodes without fragments (no word timings)
    audio: Path | None = None  # the MP3 in the workspace, when it exists
    transcript_files: tuple[str, ...] = ()  # extensions present in transcripts/


@dataclass(frozen=True)
class SiteInput:
    title: str
    subtitle: str
    description: str
    author: str
    base_url: str
    episodes: tuple[EpisodeSource, ...]  # newest first
    vlinders: tuple[VlinderSource, ...]
    ingredients: tuple[IngredientInfo, ...]
    feeds: tuple[str, ...] = ()  # files in feeds/ (relative paths)
    image_url: str = ""  # the podcast's artwork (absolute), for sharing; "" before a feed build


def _default_fragments(
    ws: Workspace, slug: str
) -> tuple[Sequence[Chapter], Sequence[Fragment]] | None:
    return load_fragments(ws, slug)


def _default_transcript(ws: Workspace, slug: str) -> Transcript | None:
    return load_transcript(ws, slug)


def _taxonomy(ws: Workspace) -> tuple[tuple[VlinderSource, ...], tuple[IngredientInfo, ...]]:
    tax = load_taxonomy(ws)
    ingredients = tuple(
        IngredientInfo(i.id, i.title, i.description, i.vlinder) for i in tax.ingredients
    )
    vlinders = tuple(
        VlinderSource(v.id, v.title, v.description, tuple(i.id for i in tax.ingredients_of(v.id)))
        for v in tax.vlinders
    )
    return vlinders, ingredients


def _stamp(paths: Sequence[Path]) -> tuple[tuple[int, int] | None, ...]:
    out: list[tuple[int, int] | None] = []
    for path in paths:
        try:
            st = path.stat()
        except FileNotFoundError:
            out.append(None)
        else:
            out.append((st.st_mtime_ns, st.st_size))
    return tuple(out)


def _load_episode_input(
    ws: Workspace, ep: Episode, load_fragments: FragmentLoader, load_transcript: TranscriptLoader
) -> EpisodeSource:
    loaded = load_fragments(ws, ep.slug)
    chapters, fragments = loaded if loaded else ((), ())
    segments: tuple[Segment, ...] = ()
    has_transcript = bool(fragments)
    if not fragments:  # only then is the transcript itself shown (it is large: word timings)
        transcript = load_transcript(ws, ep.slug)
        has_transcript = transcript is not None
        if transcript is not None:
            segments = tuple(
                Segment(s.id, s.start, s.end, s.text, speaker=s.speaker)
                for s in transcript.segments
            )
    audio = ws.episode_dir(ep.slug) / ep.audio_file if ep.audio_file else None
    return EpisodeSource(
        episode=ep,
        has_transcript=has_transcript,
        chapters=tuple(chapters),
        fragments=tuple(fragments),
        segments=segments,
        audio=audio if audio is not None and audio.is_file() else None,
        transcript_files=tuple(
            e for e in TRANSCRIPT_EXTS if ws.transcript_path(ep.slug, e).exists()
        ),
    )


def collect(
    ws: Workspace,
    *,
    base_url: str | None = None,
    fragment_loader: FragmentLoader | None = None,
    transcript_loader: TranscriptLoader | None = None,
) -> SiteInput:
    """Read everything the site shows from the workspace.

    What is read per episode is cached in ``.vlinder/cache/site-input.pickle``, keyed on the
    modification times and sizes of its files, so a rebuild reads only what changed.
    """
    load_fragments = fragment_loader or _default_fragments
    load_transcript = transcript_loader or _default_transcript
    use_cache = fragment_loader is None and transcript_loader is None
    vlinders, ingredients = _taxonomy(ws)
    cache_path = ws.state_dir / "cache" / "site-input.pickle"
    cache: dict[str, tuple[Any, EpisodeSource]] = {}
    if use_cache and cache_path.exists():
        try:
            with open(cache_path, "rb") as fh:
                loaded = pickle.load(fh)
            if isinstance(loaded, dict) and loaded.get("version") == SITE_VERSION:
                cache = loaded["episodes"]
        except Exception:  # a broken or old cache is rebuilt
            cache = {}
    fresh: dict[str, tuple[Any, EpisodeSource]] = {}
    episodes = []
    for ep in scan_episodes(ws).episodes:  # a broken one is left out (flows.build says so)
        files = [ws.episode_file(ep.slug)]
        files += [ws.transcript_path(ep.slug, e) for e in (*TRANSCRIPT_EXTS, "tags.json")]
        if ep.audio_file:
            files.append(ws.episode_dir(ep.slug) / ep.audio_file)
        stamp = (_stamp(files), ep)
        hit = cache.get(ep.slug)
        item = hit[1] if hit is not None and hit[0] == stamp else None
        if item is None:
            item = _load_episode_input(ws, ep, load_fragments, load_transcript)
        fresh[ep.slug] = (stamp, item)
        episodes.append(item)
    if use_cache and fresh != cache:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(
            cache_path,
            pickle.dumps(
                {"version": SITE_VERSION, "episodes": fresh}, protocol=pickle.HIGHEST_PROTOCOL
            ),
        )
    feeds: tuple[str, ...] = ()
    if ws.feeds_dir.is_dir():
        feeds = tuple(
            sorted(
                p.relative_to(ws.feeds_dir).as_posix()
                for p in ws.feeds_dir.rglob("*")
                if p.is_file() and not p.name.startswith(".")
            )
        )
    podcast = ws.settings.podcast
    base = resolve_base_url(ws, base_url)
    return SiteInput(
        title=podcast.title,
        subtitle=podcast.subtitle,
        description=podcast.description,
        author=podcast.author,
        base_url=base,
        episodes=tuple(episodes),
        vlinders=vlinders,
        ingredients=ingredients,
        feeds=feeds,
        image_url=published_artwork(ws, base),
    )
