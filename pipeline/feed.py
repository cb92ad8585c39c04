"""The ``feed`` stage: RSS feeds for podcast apps, written to ``feeds/``.

* ``feeds/podcast.xml``: the main feed, every episode with audio (newest first);
* ``feeds/<vlinder-id>.xml``: one feed per vlinder, with the episodes whose fragments carry any
  ingredient of that vlinder ("subscribe only to episodes about trust");
* ``feeds/chapters/<slug>.json``: Podcasting 2.0 JSON chapters (v1.2.0) for each episode
  with chapters; the same chapters go into the MP3 as ID3 CHAP/CTOC frames;
* ``feeds/cover.png``: the generated artwork when the settings name none.

Two phases: :func:`collect` gathers what the feeds need from the workspace (pure reads, apart
from the ID3 chapters and the cover), :func:`render_feeds` builds every output in memory with
feedgen, and :func:`build_feeds` validates them (:mod:`pipeline.check`) before writing only the
files whose bytes changed. An invalid feed raises :class:`FeedError` and writes nothing.

URLs, all absolute from ``settings.podcast.base_url`` (or ``--base-url``); the site serves the
same paths (it copies ``episodes/<slug>/<audio>``, ``transcripts/`` and ``feeds/`` into ``site/``)::

    <base>/feeds/podcast.xml                  main feed
    <base>/feeds/<vlinder>.xml                vlinder feed
    <base>/feeds/chapters/<slug>.json         chapters
    <base>/episodes/<slug>/<audio file>       enclosure
    <base>/transcripts/<slug>.vtt|.srt|.podcast.json
    <base>/afleveringen/<slug>/               show notes (also the HTML transcript)
    <base>/vlinders/<vlinder>/                the vlinder's page (link of its feed)

People (``podcast:person``, group ``cast``): in a talk every speaker is a ``guest`` of the series;
in an interview the first speaker is the interviewer (``host``) and the others are ``guest``.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from feedgen.feed import FeedEntry, FeedGenerator

from .chapters import (
    ChapterFrames,
    chapter_lines,
    chapters_json,
    chapters_json_bytes,
    mp3_duration,
    read_id3_chapters,
    wanted_frames,
    write_id3_chapters,
)
from .cover import Artwork, ensure_artwork
from .episodes import list_episodes
from .errors import FeedError, InputError
from .models import Chapter, Episode, Fragment
from .podcast_ext import (
    TRANSCRIPT_TYPES,
    Person,
    TranscriptLink,
    podcast_guid,
    register,
    register_entry,
)
from .settings import PodcastSettings
from .workspace import Workspace, atomic_write_bytes

MAIN_FEED = "podcast.xml"
CHAPTERS_DIR = "chapters"
GENERATOR = "Vlinder (python-feedgen)"
TIMEZONE = ZoneInfo("Europe/Amsterdam")
# Transcript files in the order they are listed: (file extension, type key, rel). The show-notes
# page (HTML) comes first and VTT last: podcastparser and feedparser keep only the last
# <podcast:transcript> of an item, and VTT is the format most apps play along with.
TRANSCRIPT_FILES = (
    ("podcast.json", "json", ""),
    ("srt", "srt", "captions"),
    ("vtt", "vtt", "captions"),
)

# The same with the MIME type, as the items need them.
_TRANSCRIPT_LINKS = tuple((ext, TRANSCRIPT_TYPES[kind], rel) for ext, kind, rel in TRANSCRIPT_FILES)
_HTML = TRANSCRIPT_TYPES["html"]

FragmentLoader = Callable[[Workspace, str], "tuple[Sequence[Chapter], Sequence[Fragment]] | None"]


# URLs ---------------------------------------------------------------------------------


def normalise_base_url(url: str) -> str:
    """``'https://example.org/podcast/'`` -> ``'https://example.org/podcast'``; checks the form."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(
            f"ongeldige basis-URL '{url}': gebruik bijvoorbeeld https://podcast.example.org"
        )
    return url


def feed_url(base: str, name: str) -> str:
    return f"{base}/feeds/{name}"


def episode_page_url(base: str, slug: str) -> str:
    return f"{base}/afleveringen/{slug}/"


def vlinder_page_url(base: str, vlinder_id: str) -> str:
    return f"{base}/vlinders/{vlinder_id}/"


def audio_url(base: str, ep: Episode) -> str:
    return f"{base}/episodes/{ep.slug}/{quote(ep.audio_file)}"


def transcript_url(base: str, slug: str, ext: str) -> str:
    return f"{base}/transcripts/{slug}.{ext}"


def chapters_url(base: str, slug: str) -> str:
    return f"{base}/feeds/{CHAPTERS_DIR}/{slug}.json"


def pub_date(date: dt.date) -> dt.datetime:
    """Noon in Amsterdam: the same calendar date in every time zone from UTC-11 to UTC+11."""
    return dt.datetime.combine(date, dt.time(12, 0), tzinfo=TIMEZONE)


# Data gathered from the workspace ------------------------------------------------------


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


@dataclass(frozen=True)
class FeedInput:
    base_url: str
    podcast: PodcastSettings
    artwork: Artwork
    episodes: tuple[EpisodeData, ...]
    vlinders: tuple[VlinderInfo, ...] = ()
    ingredient_titles: dict[str, str] = field(default_factory=dict, compare=False)
    skipped: tuple[str, ...] = ()  # Dutch lines: episodes left out, and why


@dataclass(frozen=True)
class FeedReport:
    feeds: tuple[str, ...]  # workspace-relative paths of the feeds
    written: tuple[str, ...]  # files (re)written this run
    unchanged: int
    removed: tuple[str, ...]
    id3_updated: tuple[str, ...]  # slugs whose MP3 got new chapter frames
    warnings: tuple[str, ...]
    main_url: str
    published: tuple[str, ...] = ()  # slugs of the episodes in the main feed


def _default_fragments(
    ws: Workspace, slug: str
) -> tuple[Sequence[Chapter], Sequence[Fragment]] | None:
    try:
        from .tag import load_fragments  # type: ignore[attr-defined]
    except ImportError:  # the tag stage is not installed yet
        return None
    return load_fragments(ws, slug)  # type: ignore[no-any-return]


def _default_taxonomy(ws: Workspace) -> tuple[VlinderInfo, ...]:
    try:
        from .taxonomy import DEFAULT_TAXONOMY, load_taxonomy
    except ImportError:
        return ()
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
    base = normalise_base_url(base_url or podcast.base_url)
    load = fragments or _default_fragments
    infos = tuple(vlinders) if vlinders is not None else _default_taxonomy(ws)
    titles = {iid: title for v in infos for iid, title in v.ingredients}
    index = AudioIndex(ws)
    data: list[EpisodeData] = []
    skipped: list[str] = []
    id3: list[str] = []
    for ep in list_episodes(ws):
        audio = ws.episode_dir(ep.slug) / ep.audio_file if ep.audio_file else None
        if audio is None or not audio.is_file():
            skipped.append(f"aflevering '{ep.slug}' staat niet in de feed: geen audiobestand")
            continue
        loaded = load(ws, ep.slug)
        chapters: tuple[Chapter, ...] = ()
        ingredients: tuple[str, ...] = ()
        if loaded is not None:
            chs, frs = loaded
            chapters = tuple(sorted(chs, key=lambda c: c.start))
            ingredients = _ingredient_weights(frs)
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
            )
        )
    index.save()
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


# Rendering ------------------------------------------------------------------------------


def _people(ep: Episode) -> Iterator[Person]:
    interview = ep.kind == "interview"
    for n, speaker in enumerate(ep.speakers):
        name = speaker.strip()
        if name:
            yield Person(name, "host" if interview and n == 0 else "guest")


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def episode_description(item: EpisodeData, inp: FeedInput) -> str:
    """The item description (HTML): summary, chapters as timestamps, ingredients, show notes."""
    ep = item.episode
    base = inp.base_url
    parts: list[str] = []
    if ep.description.strip():
        for para in re.split(r"\n\s*\n", ep.description.strip()):
            parts.append(f"<p>{_esc(para.strip())}</p>")
    meta = []
    if ep.speakers:
        label = "Spreker" if len(ep.speakers) == 1 else "Sprekers"
        meta.append(f"{label}: {_esc(', '.join(ep.speakers))}")
    if ep.event.strip():
        meta.append(f"Opgenomen tijdens {_esc(ep.event.strip())}")
    if meta:
        parts.append(f"<p>{'<br>'.join(meta)}</p>")
    if item.chapters:
        lines = "<br>".join(_esc(line) for line in chapter_lines(item.chapters))
        parts.append(f"<p>Hoofdstukken:<br>{lines}</p>")
    if item.ingredients:
        names = [inp.ingredient_titles.get(i, i) for i in item.ingredients]
        parts.append(f"<p>Ingrediënten: {_esc(', '.join(names))}</p>")
    page = episode_page_url(base, ep.slug)
    parts.append(f'<p><a href="{html.escape(page, quote=True)}">Shownotes en transcript</a></p>')
    return "\n".join(parts)


class SharedEntry(FeedEntry):  # type: ignore[misc]
    """A feedgen entry that is in several feeds: its ``<item>`` is built once and copied
    (lxml, in C) into every further feed instead of being rebuilt field by field.

    The first feed gets the built element itself; later feeds get copies of it (wherever it
    then lives: lxml copies the subtree and its namespace declarations, which the receiving
    channel finds redundant and drops)."""

    _item: Any = None

    def register_extension(
        self,
        namespace: str,
        extension_class_entry: type | None = None,
        atom: bool = True,
        rss: bool = True,
    ) -> None:
        # The entry already carries its extensions (``register_entry``): every feed it is added
        # to would otherwise try again and have feedgen raise and swallow an ImportError.
        current = getattr(self, namespace, None)
        if extension_class_entry is not None and isinstance(current, extension_class_entry):
            return
        super().register_extension(namespace, extension_class_entry, atom, rss)

    def rss_entry(self, extensions: bool = True) -> Any:
        if self._item is None:
            self._item = super().rss_entry(extensions=extensions)
            return self._item
        return copy.deepcopy(self._item)


def _entry(item: EpisodeData, inp: FeedInput) -> FeedEntry:
    """One feedgen entry; shared by every feed the episode is in."""
    ep = item.episode
    base = inp.base_url
    slug = ep.slug
    page = episode_page_url(base, slug)
    fe = SharedEntry()
    register_entry(fe)
    fe.title(ep.title)
    fe.guid(ep.guid, permalink=False)
    fe.link(href=page)
    fe.description(episode_description(item, inp))
    fe.enclosure(audio_url(base, ep), str(item.audio_bytes), "audio/mpeg")
    fe.dates.pub_date(pub_date(ep.date))  # not fe.pubDate: see podcast_ext
    itunes = fe.podcast
    itunes.itunes_duration(int(round(ep.duration)))
    itunes.itunes_explicit(ep.explicit)
    itunes.itunes_episode_type(ep.episode_type)
    if ep.speakers:
        itunes.itunes_author(", ".join(ep.speakers))
    if ep.season is not None:
        itunes.itunes_season(ep.season)
    if ep.episode_number is not None:
        itunes.itunes_episode(ep.episode_number)
    index = fe.podcastindex
    for person in _people(ep):
        index.person(person)
    transcripts = item.transcripts
    if transcripts:
        lang = inp.podcast.language
        # The show-notes page carries the full transcript.
        index.transcript(TranscriptLink(page, _HTML, lang))
        for ext, mime, rel in _TRANSCRIPT_LINKS:
            if ext in transcripts:
                index.transcript(TranscriptLink(transcript_url(base, slug, ext), mime, lang, rel))
    if item.chapters:
        index.chapters(chapters_url(base, slug))
    return fe


def _channel(inp: FeedInput, name: str, title: str, description: str, link: str) -> FeedGenerator:
    p = inp.podcast
    url = feed_url(inp.base_url, name)
    fg = FeedGenerator()
    register(fg)
    fg.title(title)
    # feedgen takes the *last* link as the RSS <link>: the self link must come first.
    fg.link(href=url, rel="self", type="application/rss+xml")
    fg.link(href=link, rel="alternate")
    fg.description(description)
    fg.language(p.language)
    fg.generator(GENERATOR)
    if p.copyright:
        fg.copyright(p.copyright)
    fg.image(url=inp.artwork.url, title=title, link=link)
    fg.podcast.itunes_image(inp.artwork.url)
    fg.podcast.itunes_author(p.author)
    fg.podcast.itunes_owner(name=p.owner_name, email=p.owner_email)
    fg.podcast.itunes_category(p.category, p.subcategory or None)
    fg.podcast.itunes_explicit(p.explicit)
    fg.podcast.itunes_type("episodic")
    if p.subtitle:
        fg.podcast.itunes_subtitle(p.subtitle)
    fg.podcastindex.guid(podcast_guid(url))
    fg.podcastindex.locked(p.locked, owner=p.owner_email)
    fg.podcastindex.medium(p.medium)
    return fg


def _serialise(
    fg: FeedGenerator, entries: Sequence[FeedEntry], items: Sequence[EpisodeData]
) -> bytes:
    for fe in entries:
        fg.add_entry(fe, order="append")
    if items:
        fg.lastBuildDate(pub_date(max(i.episode.date for i in items)))
    else:
        # An empty feed has no content date; leave lastBuildDate out (feedgen defaults to now,
        # which would rewrite the file on every build).
        fg._FeedGenerator__rss_lastBuildDate = None  # type: ignore[attr-defined]
    try:
        return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)  # type: ignore[no-any-return]
    except ValueError as exc:
        raise FeedError(f"feed kan niet worden opgebouwd: {exc}") from exc


def render_entries(inp: FeedInput) -> list[FeedEntry]:
    """One feedgen entry per episode, shared by every feed the episode is in."""
    return [_entry(item, inp) for item in inp.episodes]


def render_main_feed(inp: FeedInput, entries: Sequence[FeedEntry]) -> bytes:
    p = inp.podcast
    fg = _channel(inp, MAIN_FEED, p.title, p.description, f"{inp.base_url}/")
    return _serialise(fg, entries, inp.episodes)


def render_vlinder_feed(inp: FeedInput, v: VlinderInfo, entries: Sequence[FeedEntry]) -> bytes:
    """The feed of one vlinder: the episodes with any of its ingredients."""
    p = inp.podcast
    if f"{v.id}.xml" == MAIN_FEED:
        raise FeedError(f"vlinder-id '{v.id}' botst met de hoofdfeed; kies een andere id")
    wanted = {iid for iid, _ in v.ingredients}
    chosen = [
        (fe, item)
        for fe, item in zip(entries, inp.episodes, strict=True)
        if wanted.intersection(item.ingredients)
    ]
    desc = v.description or f"De afleveringen van {p.title} over '{v.title}'."
    if v.ingredients:
        desc += " Ingrediënten: " + ", ".join(t for _, t in v.ingredients) + "."
    fg = _channel(
        inp, f"{v.id}.xml", f"{p.title}: {v.title}", desc, vlinder_page_url(inp.base_url, v.id)
    )
    return _serialise(fg, [fe for fe, _ in chosen], [item for _, item in chosen])


def render_chapter_files(inp: FeedInput) -> dict[str, bytes]:
    """``feeds/chapters/<slug>.json`` for every episode with chapters."""
    out: dict[str, bytes] = {}
    for item in inp.episodes:
        if not item.chapters:
            continue
        slug = item.episode.slug
        page = episode_page_url(inp.base_url, slug)
        doc = chapters_json(
            item.chapters,
            title=item.episode.title,
            podcast_name=inp.podcast.title,
            url_for=lambda c, page=page: f"{page}#t={int(c.start)}",
        )
        out[f"feeds/{CHAPTERS_DIR}/{slug}.json"] = chapters_json_bytes(doc)
    return out


def render_feeds(inp: FeedInput) -> dict[str, bytes]:
    """Every output, keyed by workspace-relative path: the feeds and the chapter files."""
    entries = render_entries(inp)
    out = {f"feeds/{MAIN_FEED}": render_main_feed(inp, entries)}
    for v in inp.vlinders:
        out[f"feeds/{v.id}.xml"] = render_vlinder_feed(inp, v, entries)
    out.update(render_chapter_files(inp))
    return out


# Writing ----------------------------------------------------------------------------------


def _owned(ws: Workspace) -> set[str]:
    """Files in feeds/ that this stage writes (and so may remove when stale)."""
    found: set[str] = set()
    feeds = ws.feeds_dir
    if feeds.is_dir():
        found.update(f"feeds/{p.name}" for p in feeds.glob("*.xml"))
        found.update(
            f"feeds/{CHAPTERS_DIR}/{p.name}" for p in (feeds / CHAPTERS_DIR).glob("*.json")
        )
    return found


def write_outputs(ws: Workspace, outputs: dict[str, bytes]) -> tuple[list[str], int, list[str]]:
    """Write changed files atomically, remove stale ones; (written, unchanged, removed)."""
    written: list[str] = []
    unchanged = 0
    for rel, data in sorted(outputs.items()):
        path = ws.root / rel
        try:
            if path.read_bytes() == data:
                unchanged += 1
                continue
        except FileNotFoundError:
            pass
        atomic_write_bytes(path, data)
        os.chmod(path, 0o644)  # mkstemp makes 0600; web servers must read the feed
        written.append(rel)
    removed = sorted(_owned(ws) - set(outputs))
    for rel in removed:
        (ws.root / rel).unlink(missing_ok=True)
    return written, unchanged, removed


def build_feeds(
    ws: Workspace,
    *,
    base_url: str | None = None,
    fragments: FragmentLoader | None = None,
    vlinders: Sequence[VlinderInfo] | None = None,
    validate: bool = True,
) -> FeedReport:
    """The ``feed`` verb: collect, render, validate, write. Raises :class:`FeedError` when a
    feed is invalid (nothing of feeds/ is written then). A base URL over http is accepted here
    (a local demo); ``vlinder check`` reports it."""
    from .check import check_outputs

    ws.ensure()
    inp, id3 = collect(ws, base_url=base_url, fragments=fragments, vlinders=vlinders)
    outputs = render_feeds(inp)
    if validate:
        known = {item.audio_path: item.audio_duration for item in inp.episodes}
        problems = check_outputs(ws, outputs, allow_http=True, durations=known)
        if problems:
            more = f" (en nog {len(problems) - 1} probleem/problemen)" if len(problems) > 1 else ""
            raise FeedError(f"ongeldige feed: {problems[0]}{more}; zie `vlinder check`")
    written, unchanged, removed = write_outputs(ws, outputs)
    warnings = list(inp.skipped)
    if urlsplit(inp.base_url).scheme != "https":
        warnings.append(
            f"basis-URL {inp.base_url} is geen https: goed voor een lokale demo, "
            "maar Apple Podcasts en andere apps weigeren zo'n feed"
        )
    return FeedReport(
        feeds=tuple(sorted(k for k in outputs if k.endswith(".xml"))),
        written=tuple(written),
        unchanged=unchanged,
        removed=tuple(removed),
        id3_updated=id3,
        warnings=tuple(warnings),
        main_url=feed_url(inp.base_url, MAIN_FEED),
        published=tuple(item.episode.slug for item in inp.episodes),
    )
