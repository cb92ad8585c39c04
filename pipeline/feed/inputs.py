"""What the feeds are built from: the episodes with audio, their chapters and fragments, the
vlinders (pure reads of the workspace, apart from the ID3 chapter frames and the cover)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from pipeline.core.baseurl import base_url as resolve_base_url
from pipeline.core.episodes import scan_episodes
from pipeline.core.errors import FeedError
from pipeline.core.models import Chapter, Episode, Fragment
from pipeline.core.settings import PodcastSettings
from pipeline.core.taxonomy import DEFAULT_TAXONOMY, load_taxonomy
from pipeline.core.workspace import Workspace, atomic_write_bytes
from pipeline.tagging import Soundbite, load_fragments, select_soundbites

from .chapters import (
    ChapterFrames,
    mp3_duration,
    read_id3_chapters,
    wanted_frames,
    write_id3_chapters,
)
from .cover import Artwork, ensure_artwork
from .numbers import EpisodeNumber, number_episodes
from .urls import TRANSCRIPT_FILES

FragmentLoader = Callable[[Workspace, str], "tuple[Sequence[Chapter], Sequence[Fragment]] | None"]


@dataclass(frozen=True)
class VlinderInfo:
    id: str
    title: str
    description: str = ""
    ingredients: tuple[tuple[str, str], ...] = ()  # (ingredient id, title)


@dataclass(frozen=True)
class EpisodeData:
    """What the feeds need of one episode."""

    episode: Episode
    audio_path: Path
    audio_bytes: int
    audio_duration: float  # measured from the file
    chapters: tuple[Chapter, ...] = ()
    ingredients: tuple[str, ...] = ()  # ingredient ids, the most weighty first
    transcripts: tuple[str, ...] = ()  # extensions present in transcripts/: vtt, srt, ...
    soundbites: tuple[Soundbite, ...] = ()
    numbers: EpisodeNumber = EpisodeNumber()  # season and episode number (numbers.py)


@dataclass(frozen=True)
class FeedInput:
    base_url: str
    podcast: PodcastSettings
    artwork: Artwork
    episodes: tuple[EpisodeData, ...]
    vlinders: tuple[VlinderInfo, ...] = ()
    ingredient_titles: dict[str, str] = field(default_factory=dict, compare=False)
    skipped: tuple[str, ...] = ()  # Dutch lines: episodes left out (and why), corrections ignored


def _default_fragments(
    ws: Workspace, slug: str
) -> tuple[Sequence[Chapter], Sequence[Fragment]] | None:
    return load_fragments(ws, slug)


def _default_taxonomy(ws: Workspace) -> tuple[VlinderInfo, ...]:
    if not ws.taxonomy_path.exists() and not DEFAULT_TAXONOMY.exists():
        return ()
    tax = load_taxonomy(ws)
    return tuple(
        VlinderInfo(
            id=v.id,
            title=v.title,
            description=v.description,
            ingredients=tuple((i.id, i.title) for i in tax.ingredients_of(v.id)),
        )
        for v in tax.vlinders
    )


def _ingredient_weights(fragments: Sequence[Fragment]) -> tuple[str, ...]:
    weights: dict[str, float] = {}
    for f in fragments:
        for t in f.tags:
            weights[t.ingredient] = weights.get(t.ingredient, 0.0) + t.score
    return tuple(k for k, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])))


class AudioIndex:
    """What the feed needs of each MP3 (duration, the ID3 chapter frames in it), keyed on the
    file's size, mtime and inode and kept in ``.vlinder/cache/feed-audio.json``: a rebuild
    reads no MP3 that did not change."""

    VERSION = 1

    def __init__(self, ws: Workspace):
        self.path = ws.cache_dir / "feed-audio.json"
        self.root = ws.root
        self.changed = False
        try:
            data = json.loads(self.path.read_text("utf-8"))
            self.entries: dict[str, dict] = (
                data["entries"] if data.get("version") == self.VERSION else {}
            )
        except (OSError, ValueError, KeyError, AttributeError):
            self.entries = {}

    @staticmethod
    def _key(st: os.stat_result) -> list[int]:
        return [st.st_size, st.st_mtime_ns, st.st_ino]

    def get(self, audio: Path, st: os.stat_result) -> tuple[float, ChapterFrames] | None:
        entry = self.entries.get(str(audio.relative_to(self.root)))
        if not entry or entry.get("key") != self._key(st):
            return None
        return float(entry["duration"]), [tuple(f) for f in entry["chapters"]]  # type: ignore[misc]

    def put(self, audio: Path, st: os.stat_result, duration: float, frames: ChapterFrames) -> None:
        entry = {"key": self._key(st), "duration": duration, "chapters": [list(f) for f in frames]}
        rel = str(audio.relative_to(self.root))
        if self.entries.get(rel) != entry:
            self.entries[rel] = entry
            self.changed = True

    def save(self) -> None:
        if self.changed:
            blob = json.dumps(
                {"version": self.VERSION, "entries": self.entries}, ensure_ascii=False
            )
            atomic_write_bytes(self.path, blob.encode("utf-8"))
            self.changed = False


def collect(
    ws: Workspace,
    *,
    base_url: str | None = None,
    fragments: FragmentLoader | None = None,
    vlinders: Sequence[VlinderInfo] | None = None,
    write_id3: bool = True,
) -> tuple[FeedInput, tuple[str, ...]]:
    """Gather the feeds' input; writes ID3 chapters into MP3s where they changed.

    Returns the input and the slugs whose MP3 was rewritten. An episode whose audio is missing
    or unreadable is left out with a warning; the others go on.
    """
    podcast = ws.settings.podcast
    base = resolve_base_url(ws, base_url)
    load = fragments or _default_fragments
    infos = tuple(vlinders) if vlinders is not None else _default_taxonomy(ws)
    titles = {iid: title for v in infos for iid, title in v.ingredients}
    index = AudioIndex(ws)
    data: list[EpisodeData] = []
    skipped: list[str] = []
    id3: list[str] = []
    for ep in scan_episodes(ws).episodes:  # a broken one is left out (flows.build says so)
        audio = ws.episode_dir(ep.slug) / ep.audio_file if ep.audio_file else None
        if audio is None or not audio.is_file():
            skipped.append(f"aflevering '{ep.slug}' staat niet in de feed: geen audiobestand")
            continue
        loaded = load(ws, ep.slug)
        chapters: tuple[Chapter, ...] = ()
        ingredients: tuple[str, ...] = ()
        soundbites: tuple[Soundbite, ...] = ()
        if loaded is not None:
            chs, frs = loaded
            chapters = tuple(sorted(chs, key=lambda c: c.start))
            ingredients = _ingredient_weights(frs)
            chosen = select_soundbites(frs, ep.overrides, titles, str(ws.episode_file(ep.slug)))
            soundbites = chosen.soundbites
            skipped.extend(f"soundbite-correctie genegeerd: {p}" for p in chosen.problems)
        st = audio.stat()
        try:
            cached = index.get(audio, st)
            if cached is not None:
                duration, frames = cached
            else:
                duration, frames = mp3_duration(audio), read_id3_chapters(audio)
            if write_id3 and audio.suffix.lower() == ".mp3":
                wanted = wanted_frames(chapters, duration)
                if frames != wanted:
                    write_id3_chapters(audio, chapters, duration=duration, current=frames)
                    id3.append(ep.slug)
                    frames = wanted
                    st = audio.stat()
        except FeedError as exc:
            skipped.append(f"aflevering '{ep.slug}' staat niet in de feed: {exc}")
            continue
        index.put(audio, st, duration, frames)
        transcripts = tuple(
            ext for ext, _, _ in TRANSCRIPT_FILES if ws.transcript_path(ep.slug, ext).is_file()
        )
        data.append(
            EpisodeData(
                episode=ep,
                audio_path=audio,
                audio_bytes=st.st_size,
                audio_duration=duration,
                chapters=chapters,
                ingredients=ingredients,
                transcripts=transcripts,
                soundbites=soundbites,
            )
        )
    index.save()
    numbers = number_episodes([item.episode for item in data], podcast.seasons)
    data = [replace(item, numbers=numbers[item.episode.slug]) for item in data]
    artwork = ensure_artwork(ws, base)
    feed_input = FeedInput(
        base_url=base,
        podcast=podcast,
        artwork=artwork,
        episodes=tuple(data),
        vlinders=infos,
        ingredient_titles=titles,
        skipped=tuple(skipped),
    )
    return feed_input, tuple(id3)
