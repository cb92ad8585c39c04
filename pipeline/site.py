"""Site: the static show-notes site in ``site/``, searchable with Pagefind.

Two phases (pelican, datasette): :func:`collect` reads the workspace into a :class:`SiteInput`,
:func:`plan` turns it into typed page contexts without any I/O, and :func:`write_site` is the one
writer: it renders the pages whose inputs changed, mirrors the audio, transcripts and feeds, and
(re)indexes the search shards whose episodes changed.

Incremental: ``.vlinder/site-manifest.json`` keeps, per page, a hash of its context and of the
templates; a page is rendered again only when that hash changes. The search index is split in
a base shard and a small delta shard (Pagefind has no incremental indexing): a new episode joins
the delta, so adding one re-indexes only the delta, until :data:`SHARD_EPISODES` episodes are
merged into the base; the browser merges the two (``mergeIndex``, sharing the WebAssembly).

Pagefind indexes only the transcripts of the episode pages (``data-pagefind-body``); each
fragment is a heading with ``id="f<index>"``, so a result points at the fragment
(Pagefind's sub-results). Filters: ingredient, vlinder, speaker and episode.

URLs inside the site are relative (``../../afleveringen/<slug>/``), so the site works from any
folder or host; ``base_url`` is used only for what must be absolute (feed and app links).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import shutil
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from .analysis import (
    ANALYSIS_VERSION,
    fold,
    lemma,
    split_compound,
    thesaurus,
    words,
)
from .episodes import list_episodes, slugify
from .errors import SiteError, ToolError
from .models import Chapter, Episode, Fragment, Segment, Transcript
from .text import stem
from .workspace import Workspace, atomic_write_bytes, atomic_write_text

#: Bump when the page contexts or the writer change in a way the templates hash cannot see.
SITE_VERSION = "2"
MANIFEST = "site-manifest.json"
SHARD_EPISODES = 20  # episodes in the delta search shard before it is merged into the base
LATEST = 10  # episodes on the home page
SEGMENT_BLOCK = 60.0  # seconds of transcript per block when an episode has no fragments yet
TRANSCRIPT_EXTS = ("vtt", "srt", "txt", "json", "podcast.json")
DOWNLOADS = (("vtt", "WebVTT"), ("srt", "SRT"), ("txt", "tekst"), ("json", "JSON"))
PACKAGE = Path(__file__).parent
TEMPLATES = PACKAGE / "templates" / "site"
STATIC = PACKAGE / "static" / "site"
MONTHS = [
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
]

FragmentLoader = Callable[[Workspace, str], "tuple[Sequence[Chapter], Sequence[Fragment]] | None"]
TranscriptLoader = Callable[[Workspace, str], "Transcript | None"]


# --- formatting -------------------------------------------------------------------------------


def fmt_time(seconds: float) -> str:
    """``754`` -> ``'12:34'``; ``3723`` -> ``'1:02:03'``."""
    total = max(0, int(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fmt_seconds(seconds: float) -> str:
    """The value of ``#t=`` and ``data-start``: seconds with at most one decimal."""
    value = round(max(0.0, seconds), 1)
    return f"{value:.1f}".rstrip("0").rstrip(".")


def fmt_date(date: dt.date) -> str:
    return f"{date.day} {MONTHS[date.month - 1]} {date.year}"


def fmt_duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} u {minutes % 60:02d} min"


# --- input: what the site is built from ---------------------------------------------------------


@dataclass(frozen=True)
class IngredientInfo:
    id: str
    title: str
    description: str
    vlinder: str  # vlinder id ("" when the taxonomy has no vlinder for it)


@dataclass(frozen=True)
class VlinderInfo:
    id: str
    title: str
    description: str
    ingredients: tuple[str, ...]  # ingredient ids


@dataclass(frozen=True)
class EpisodeInput:
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
    episodes: tuple[EpisodeInput, ...]  # newest first
    vlinders: tuple[VlinderInfo, ...]
    ingredients: tuple[IngredientInfo, ...]
    feeds: tuple[str, ...] = ()  # files in feeds/ (relative paths)


def _default_fragments(
    ws: Workspace, slug: str
) -> tuple[Sequence[Chapter], Sequence[Fragment]] | None:
    try:
        from .tag import load_fragments  # type: ignore[attr-defined]
    except ImportError:  # the tag stage is not installed
        return None
    return load_fragments(ws, slug)  # type: ignore[no-any-return]


def _default_transcript(ws: Workspace, slug: str) -> Transcript | None:
    try:
        from .transcripts import load_transcript
    except ImportError:
        return None
    return load_transcript(ws, slug)


def _taxonomy(ws: Workspace) -> tuple[tuple[VlinderInfo, ...], tuple[IngredientInfo, ...]]:
    try:
        from .taxonomy import load_taxonomy
    except ImportError:
        return (), ()
    tax = load_taxonomy(ws)
    ingredients = tuple(
        IngredientInfo(i.id, i.title, i.description, i.vlinder) for i in tax.ingredients
    )
    vlinders = tuple(
        VlinderInfo(v.id, v.title, v.description, tuple(i.id for i in tax.ingredients_of(v.id)))
        for v in tax.vlinders
    )
    return vlinders, ingredients


def _base_url(ws: Workspace, base_url: str | None) -> str:
    url = base_url or ws.settings.podcast.base_url
    try:
        from .feed import normalise_base_url
    except ImportError:
        return url.rstrip("/")
    return normalise_base_url(url)


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
) -> EpisodeInput:
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
    return EpisodeInput(
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
    cache: dict[str, tuple[Any, EpisodeInput]] = {}
    if use_cache and cache_path.exists():
        try:
            with open(cache_path, "rb") as fh:
                loaded = pickle.load(fh)
            if isinstance(loaded, dict) and loaded.get("version") == SITE_VERSION:
                cache = loaded["episodes"]
        except Exception:  # a broken or old cache is rebuilt
            cache = {}
    fresh: dict[str, tuple[Any, EpisodeInput]] = {}
    episodes = []
    for ep in list_episodes(ws):
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
    return SiteInput(
        title=podcast.title,
        subtitle=podcast.subtitle,
        description=podcast.description,
        author=podcast.author,
        base_url=_base_url(ws, base_url),
        episodes=tuple(episodes),
        vlinders=vlinders,
        ingredients=ingredients,
        feeds=feeds,
    )


# --- page contexts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    href: str  # relative to the site root, e.g. "afleveringen/x/"; or absolute (scheme://)
    text: str


@dataclass(frozen=True)
class IngredientRef:
    id: str
    title: str
    href: str
    vlinder_title: str = ""


@dataclass(frozen=True)
class FragmentView:
    anchor: str  # element id: "f12" (fragment) or "s3" (transcript block)
    start: str  # seconds, for data-start and #t=
    time: str  # "12:34"
    text: str
    ingredients: tuple[IngredientRef, ...] = ()
    number: int = 0  # 1-based, as the producer sees it


@dataclass(frozen=True)
class ChapterView:
    anchor: str  # "h1"
    number: int
    start: str
    time: str
    title: str
    summary: str
    fragments: tuple[FragmentView, ...]


@dataclass(frozen=True)
class TimelineMark:
    anchor: str
    start: str
    time: str
    left: float  # percentage of the episode
    width: float


@dataclass(frozen=True)
class TimelineRow:
    ingredient: IngredientRef
    marks: tuple[TimelineMark, ...]


@dataclass(frozen=True)
class EpisodeCard:
    slug: str
    href: str
    title: str
    date: str  # ISO
    date_text: str
    duration: str
    event: str
    description: str
    speakers: tuple[Link, ...]
    ingredients: tuple[IngredientRef, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A fragment on an ingredient, vlinder or speaker page: plays on the episode page."""

    episode: EpisodeCard
    href: str  # episode page + "#t=<start>"
    time: str
    text: str
    ingredients: tuple[IngredientRef, ...]


@dataclass(frozen=True)
class Subscribe:
    feed_url: str
    apps: tuple[Link, ...]  # "add to your podcast app" links
    vlinder_feeds: tuple[Link, ...]  # per-vlinder feeds (relative links)
    feed_href: str  # relative link to the main feed


@dataclass(frozen=True)
class SiteInfo:
    title: str
    subtitle: str
    description: str
    author: str
    base_url: str
    feed_href: str  # "" when there is no feed yet


@dataclass(frozen=True)
class VlinderView:
    id: str
    href: str
    title: str
    description: str
    ingredients: tuple[tuple[IngredientRef, str, int], ...]  # (ref, description, fragments)


@dataclass(frozen=True)
class HomeContent:
    latest: tuple[EpisodeCard, ...]
    episode_count: int
    vlinders: tuple[VlinderView, ...]
    subscribe: Subscribe


@dataclass(frozen=True)
class EpisodeContent:
    card: EpisodeCard
    audio_href: str
    audio_bytes: int
    chapters: tuple[ChapterView, ...]  # with their fragments (or transcript blocks)
    has_fragments: bool
    has_transcript: bool
    timeline: tuple[TimelineRow, ...]
    downloads: tuple[Link, ...]
    filters: tuple[tuple[str, str], ...]  # Pagefind: (filter, value)


@dataclass(frozen=True)
class EpisodeListContent:
    episodes: tuple[EpisodeCard, ...]


@dataclass(frozen=True)
class FragmentListContent:
    """An ingredient or vlinder page: every fragment on it, across the episodes."""

    kind: str  # "ingredient" | "vlinder"
    title: str
    description: str
    parent: Link | None  # the vlinder of an ingredient
    ingredients: tuple[tuple[IngredientRef, str, int], ...]  # a vlinder's ingredients
    hits: tuple[Hit, ...]
    episode_count: int


@dataclass(frozen=True)
class VlinderListContent:
    vlinders: tuple[VlinderView, ...]


@dataclass(frozen=True)
class SpeakerContent:
    name: str
    episodes: tuple[EpisodeCard, ...]
    ingredients: tuple[tuple[IngredientRef, int], ...]


@dataclass(frozen=True)
class SpeakerListContent:
    speakers: tuple[tuple[Link, int], ...]


@dataclass(frozen=True)
class SearchContent:
    bundles: tuple[str, ...]  # relative paths of the Pagefind bundles; the first is primary
    ingredients: tuple[IngredientRef, ...]


Content = (
    HomeContent
    | EpisodeContent
    | EpisodeListContent
    | FragmentListContent
    | VlinderListContent
    | SpeakerContent
    | SpeakerListContent
    | SearchContent
)


@dataclass(frozen=True)
class Page:
    path: str  # file inside site/, e.g. "afleveringen/x/index.html"
    template: str
    title: str
    section: str  # the navigation item that is current
    site: SiteInfo
    content: Content
    description: str = ""

    @property
    def root(self) -> str:
        """The relative way back to the site root: ``"../../"`` for ``a/b/index.html``."""
        return "../" * self.path.count("/")

    @property
    def url(self) -> str:
        return self.path.removesuffix("index.html")


def episode_href(slug: str) -> str:
    return f"afleveringen/{slug}/"


def ingredient_href(ingredient_id: str) -> str:
    return f"ingredienten/{ingredient_id}/"


def vlinder_href(vlinder_id: str) -> str:
    return f"vlinders/{vlinder_id}/"


def speaker_href(name: str) -> str:
    return f"sprekers/{slugify(name)}/"


def app_links(feed_url: str) -> tuple[Link, ...]:
    """The usual "add to your podcast app" routes for a feed URL."""
    bare = feed_url.split("://", 1)[-1]
    return (
        Link(f"podcast://{bare}", "Apple Podcasts"),
        Link(f"overcast://x-callback-url/add?url={quote(feed_url, safe='')}", "Overcast"),
        Link(f"pktc://subscribe/{bare}", "Pocket Casts"),
        Link(f"antennapod-subscribe://{bare}", "AntennaPod"),
        Link(f"castro://subscribe/{bare}", "Castro"),
    )


@dataclass
class _Index:
    """Look-ups shared by the page builders."""

    inp: SiteInput
    ingredients: dict[str, IngredientInfo] = field(default_factory=dict)
    vlinders: dict[str, VlinderInfo] = field(default_factory=dict)
    refs: dict[str, IngredientRef] = field(default_factory=dict)
    cards: dict[str, EpisodeCard] = field(default_factory=dict)

    def ref(self, ingredient_id: str) -> IngredientRef:
        if ingredient_id not in self.refs:
            info = self.ingredients.get(ingredient_id)
            vlinder = self.vlinders.get(info.vlinder) if info else None
            self.refs[ingredient_id] = IngredientRef(
                id=ingredient_id,
                title=info.title if info else ingredient_id,
                href=ingredient_href(ingredient_id),
                vlinder_title=vlinder.title if vlinder else "",
            )
        return self.refs[ingredient_id]


def _tag_ids(fragment: Fragment) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in sorted(fragment.tags, key=lambda t: -t.score):
        seen.setdefault(tag.ingredient, None)
    return tuple(seen)


def _episode_ingredients(item: EpisodeInput) -> tuple[str, ...]:
    weights: dict[str, float] = {}
    for f in item.fragments:
        for t in f.tags:
            weights[t.ingredient] = weights.get(t.ingredient, 0.0) + t.score
    return tuple(k for k, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])))


def _card(item: EpisodeInput, idx: _Index) -> EpisodeCard:
    ep = item.episode
    return EpisodeCard(
        slug=ep.slug,
        href=episode_href(ep.slug),
        title=ep.title,
        date=ep.date.isoformat(),
        date_text=fmt_date(ep.date),
        duration=fmt_duration(ep.duration) if ep.duration else "",
        event=ep.event,
        description=ep.description,
        speakers=tuple(Link(speaker_href(s), s) for s in ep.speakers),
        ingredients=tuple(idx.ref(i) for i in _episode_ingredients(item) if i in idx.ingredients),
    )


def _fragment_view(f: Fragment, idx: _Index) -> FragmentView:
    return FragmentView(
        anchor=f.anchor(),
        start=fmt_seconds(f.start),
        time=fmt_time(f.start),
        text=f.text.strip(),
        ingredients=tuple(idx.ref(i) for i in _tag_ids(f)),
        number=f.index + 1,
    )


def _blocks(segments: Sequence[Segment]) -> list[FragmentView]:
    """Transcript segments in blocks of about a minute, for episodes without fragments."""
    blocks: list[FragmentView] = []
    current: list[Segment] = []
    for seg in segments:
        if not seg.text.strip():
            continue
        if current and seg.start - current[0].start >= SEGMENT_BLOCK:
            blocks.append(_block(current))
            current = []
        current.append(seg)
    if current:
        blocks.append(_block(current))
    return blocks


def _block(segs: list[Segment]) -> FragmentView:
    first = segs[0]
    return FragmentView(
        anchor=f"s{first.id}",
        start=fmt_seconds(first.start),
        time=fmt_time(first.start),
        text=" ".join(s.text.strip() for s in segs),
    )


def _chapters(item: EpisodeInput, idx: _Index) -> tuple[ChapterView, ...]:
    if item.fragments:
        views = [_fragment_view(f, idx) for f in item.fragments]
        chapters = sorted(item.chapters, key=lambda c: c.start)
        if not chapters:
            first = item.fragments[0]
            chapters = [Chapter(index=0, start=first.start, end=item.fragments[-1].end, title="")]
        by_chapter: dict[int, list[FragmentView]] = {c.index: [] for c in chapters}
        for f, view in zip(item.fragments, views, strict=True):
            key = f.chapter if f.chapter in by_chapter else _chapter_at(chapters, f.start)
            by_chapter[key].append(view)
        return tuple(
            ChapterView(
                anchor=f"h{n}",
                number=n,
                start=fmt_seconds(c.start),
                time=fmt_time(c.start),
                title=c.title,
                summary=c.summary,
                fragments=tuple(by_chapter[c.index]),
            )
            for n, c in enumerate(chapters, start=1)
        )
    if item.segments:
        blocks = _blocks(item.segments)
        return (ChapterView("h1", 1, "0", "0:00", "", "", tuple(blocks)),) if blocks else ()
    return ()


def _chapter_at(chapters: Sequence[Chapter], start: float) -> int:
    key = chapters[0].index
    for c in chapters:
        if c.start <= start + 0.01:
            key = c.index
    return key


def _timeline(item: EpisodeInput, idx: _Index) -> tuple[TimelineRow, ...]:
    duration = item.episode.duration or (item.fragments[-1].end if item.fragments else 0.0)
    if duration <= 0:
        return ()
    marks: dict[str, list[TimelineMark]] = {}
    for f in item.fragments:
        left = max(0.0, min(100.0, 100.0 * f.start / duration))
        width = max(0.6, min(100.0 - left, 100.0 * (f.end - f.start) / duration))
        mark = TimelineMark(
            f.anchor(), fmt_seconds(f.start), fmt_time(f.start), round(left, 2), round(width, 2)
        )
        for ing in _tag_ids(f):
            marks.setdefault(ing, []).append(mark)
    order = [i for i in _episode_ingredients(item) if i in marks]
    return tuple(TimelineRow(idx.ref(i), tuple(marks[i])) for i in order)


def _downloads(item: EpisodeInput) -> tuple[Link, ...]:
    slug = item.episode.slug
    return tuple(
        Link(f"transcripts/{slug}.{ext}", label)
        for ext, label in DOWNLOADS
        if ext in item.transcript_files
    )


def _filters(item: EpisodeInput, card: EpisodeCard, idx: _Index) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = [("aflevering", card.title)]
    out += [("spreker", s.text) for s in card.speakers]
    vlinders: dict[str, None] = {}
    for ref in card.ingredients:
        out.append(("ingrediënt", ref.title))
        if ref.vlinder_title:
            vlinders.setdefault(ref.vlinder_title, None)
    out += [("vlinder", v) for v in vlinders]
    return tuple(out)


def _hits(items: Sequence[tuple[EpisodeInput, Fragment]], idx: _Index) -> tuple[Hit, ...]:
    return tuple(
        Hit(
            episode=idx.cards[item.episode.slug],
            href=f"{episode_href(item.episode.slug)}#t={fmt_seconds(f.start)}",
            time=fmt_time(f.start),
            text=f.text.strip(),
            ingredients=tuple(idx.ref(i) for i in _tag_ids(f)),
        )
        for item, f in items
    )


def plan(inp: SiteInput, *, bundles: Sequence[str] = ()) -> list[Page]:
    """All pages of the site as typed contexts. Pure: no I/O."""
    idx = _Index(inp)
    idx.ingredients = {i.id: i for i in inp.ingredients}
    idx.vlinders = {v.id: v for v in inp.vlinders}
    for item in inp.episodes:
        idx.cards[item.episode.slug] = _card(item, idx)

    main_feed = "feeds/podcast.xml" if "podcast.xml" in inp.feeds else ""
    site = SiteInfo(inp.title, inp.subtitle, inp.description, inp.author, inp.base_url, main_feed)
    pages: list[Page] = []

    # Fragments per ingredient, in episode order (newest first) and time.
    tagged: dict[str, list[tuple[EpisodeInput, Fragment]]] = {}
    for item in inp.episodes:
        for f in item.fragments:
            for ing in _tag_ids(f):
                tagged.setdefault(ing, []).append((item, f))

    def vlinder_view(v: VlinderInfo) -> VlinderView:
        return VlinderView(
            id=v.id,
            href=vlinder_href(v.id),
            title=v.title,
            description=v.description,
            ingredients=tuple(
                (idx.ref(i), idx.ingredients[i].description, len(tagged.get(i, ())))
                for i in v.ingredients
                if i in idx.ingredients
            ),
        )

    vlinder_views = tuple(vlinder_view(v) for v in inp.vlinders)
    feed_url = f"{inp.base_url}/feeds/podcast.xml"
    subscribe = Subscribe(
        feed_url=feed_url,
        apps=app_links(feed_url),
        vlinder_feeds=tuple(
            Link(f"feeds/{v.id}.xml", v.title) for v in inp.vlinders if f"{v.id}.xml" in inp.feeds
        ),
        feed_href=main_feed,
    )
    cards = tuple(idx.cards[item.episode.slug] for item in inp.episodes)
    pages.append(
        Page(
            "index.html",
            "home.html",
            inp.title,
            "home",
            site,
            HomeContent(cards[:LATEST], len(cards), vlinder_views, subscribe),
            description=inp.description,
        )
    )
    pages.append(
        Page(
            "afleveringen/index.html",
            "episodes.html",
            "Alle afleveringen",
            "afleveringen",
            site,
            EpisodeListContent(cards),
        )
    )
    for item in inp.episodes:
        card = idx.cards[item.episode.slug]
        ep = item.episode
        pages.append(
            Page(
                f"afleveringen/{ep.slug}/index.html",
                "episode.html",
                ep.title,
                "afleveringen",
                site,
                EpisodeContent(
                    card=card,
                    audio_href=f"episodes/{ep.slug}/{quote(ep.audio_file)}" if item.audio else "",
                    audio_bytes=ep.audio_bytes,
                    chapters=_chapters(item, idx),
                    has_fragments=bool(item.fragments),
                    has_transcript=item.has_transcript,
                    timeline=_timeline(item, idx),
                    downloads=_downloads(item),
                    filters=_filters(item, card, idx),
                ),
                description=ep.description,
            )
        )
    for info in inp.ingredients:
        hits = tagged.get(info.id, [])
        vlinder = idx.vlinders.get(info.vlinder)
        pages.append(
            Page(
                f"ingredienten/{info.id}/index.html",
                "fragments.html",
                info.title,
                "vlinders",
                site,
                FragmentListContent(
                    kind="ingredient",
                    title=info.title,
                    description=info.description,
                    parent=Link(vlinder_href(vlinder.id), vlinder.title) if vlinder else None,
                    ingredients=(),
                    hits=_hits(hits, idx),
                    episode_count=len({item.episode.slug for item, _ in hits}),
                ),
                description=info.description,
            )
        )
    pages.append(
        Page(
            "vlinders/index.html",
            "vlinders.html",
            "Vlinders en ingrediënten",
            "vlinders",
            site,
            VlinderListContent(vlinder_views),
        )
    )
    for v, view in zip(inp.vlinders, vlinder_views, strict=True):
        own = set(v.ingredients)
        hits_v = [
            (item, f)
            for item in inp.episodes
            for f in item.fragments
            if own.intersection(t.ingredient for t in f.tags)
        ]
        pages.append(
            Page(
                f"vlinders/{v.id}/index.html",
                "fragments.html",
                v.title,
                "vlinders",
                site,
                FragmentListContent(
                    kind="vlinder",
                    title=v.title,
                    description=v.description,
                    parent=None,
                    ingredients=view.ingredients,
                    hits=_hits(hits_v, idx),
                    episode_count=len({item.episode.slug for item, _ in hits_v}),
                ),
                description=v.description,
            )
        )
    speakers: dict[str, tuple[str, list[EpisodeInput]]] = {}
    for item in inp.episodes:
        for name in item.episode.speakers:
            speakers.setdefault(slugify(name), (name, []))[1].append(item)
    for slug, (name, items) in sorted(speakers.items()):
        counts: dict[str, int] = {}
        for item in items:
            for f in item.fragments:
                for ing in _tag_ids(f):
                    counts[ing] = counts.get(ing, 0) + 1
        pages.append(
            Page(
                f"sprekers/{slug}/index.html",
                "speaker.html",
                name,
                "sprekers",
                site,
                SpeakerContent(
                    name=name,
                    episodes=tuple(idx.cards[i.episode.slug] for i in items),
                    ingredients=tuple(
                        (idx.ref(i), n)
                        for i, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
                        if i in idx.ingredients
                    ),
                ),
            )
        )
    pages.append(
        Page(
            "sprekers/index.html",
            "speakers.html",
            "Sprekers",
            "sprekers",
            site,
            SpeakerListContent(
                tuple(
                    (Link(f"sprekers/{slug}/", name), len(items))
                    for slug, (name, items) in sorted(
                        speakers.items(), key=lambda kv: kv[1][0].lower()
                    )
                )
            ),
        )
    )
    pages.append(
        Page(
            "zoeken/index.html",
            "search.html",
            "Zoeken",
            "zoeken",
            site,
            SearchContent(tuple(bundles), tuple(idx.ref(i.id) for i in inp.ingredients)),
        )
    )
    return pages


# --- search shards ----------------------------------------------------------------------------


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


# --- search terms -----------------------------------------------------------------------------


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
    :mod:`pipeline.analysis` gives the CLI search. The episode page adds these words to each
    fragment in a hidden element, so a browser search for ``toernooi`` finds the fragment about
    the ``sporttoernooi``; the search page strips them from the excerpts (``zoeken.js``).
    Words that Pagefind would match anyway (same stem as a word of the text) are left out.
    Related terms of the thesaurus are not added: a fragment would get several times its
    own length in extra words (a bigger index and slower first search), for a weak signal.
    """
    ws = words(text)
    stop = thesaurus().stopwords  # "kon" -> "kunnen": no use to a search
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


# --- the writer -------------------------------------------------------------------------------


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["search_terms"] = search_terms
    return env


def _templates_hash() -> str:
    h = hashlib.sha256(f"{SITE_VERSION}/{ANALYSIS_VERSION}".encode())
    for path in sorted(TEMPLATES.rglob("*.html")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def page_hash(page: Page, templates: str) -> str:
    """What a page's output depends on: its context and the templates."""
    # pickle is ~10x faster than repr() on these nested dataclasses, and as deterministic for
    # contexts built by the same code; a spurious difference only costs one extra render.
    blob = pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL)
    return hashlib.sha256(templates.encode() + blob).hexdigest()[:24]


def render_page(page: Page) -> str:
    try:
        return _environment().get_template(page.template).render(page=page, c=page.content)
    except jinja2.TemplateError as exc:
        raise SiteError(f"pagina {page.path} kan niet worden gemaakt: {exc}") from exc


@dataclass(frozen=True)
class SiteReport:
    pages: int
    written: tuple[str, ...]
    removed: tuple[str, ...]
    shards: int
    indexed: tuple[str, ...]  # shard ids indexed again
    search_bytes: int

    def lines(self) -> list[str]:
        lines = [
            f"site: {self.pages} pagina's, {len(self.written)} bijgewerkt, "
            f"{self.pages - len(self.written)} ongewijzigd"
            + (f", {len(self.removed)} verwijderd" if self.removed else "")
        ]
        if self.shards:
            lines.append(
                f"zoekindex: {self.shards} deel/delen, {len(self.indexed)} opnieuw geïndexeerd, "
                f"{self.search_bytes / 1_000_000:.1f} MB"
            )
        else:
            lines.append("zoekindex: nog niets om te doorzoeken")
        return lines


def _load_manifest(ws: Workspace) -> dict[str, Any]:
    path = ws.state_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == SITE_VERSION else {}


def _same_file(src: Path, dst: Path) -> bool:
    try:
        a, b = src.stat(), dst.stat()
    except FileNotFoundError:
        return False
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        return True
    return a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)


def _mirror(src: Path, dst: Path, *, link: bool = False) -> bool:
    """Make ``dst`` a copy of ``src`` (a hard link when ``link`` and possible); True if changed."""
    if _same_file(src, dst):
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        if link:
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copy2(src, tmp)
        else:
            shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SiteError(f"kan {src.name} niet naar de site kopiëren: {exc}") from exc
    return True


def _sync_tree(files: dict[str, Path], target: Path, *, link: bool = False) -> list[str]:
    """Mirror ``files`` (relative path -> source) into ``target``; remove what is not there."""
    changed = [rel for rel, src in files.items() if _mirror(src, target / rel, link=link)]
    if target.is_dir():
        for path in sorted(target.rglob("*"), reverse=True):
            rel = path.relative_to(target).as_posix()
            if path.is_file() and rel not in files:
                path.unlink()
                changed.append(rel)
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return changed


def pagefind_binary() -> Path:
    try:
        from pagefind_bin import get_executable
    except ImportError as exc:
        raise ToolError("Pagefind ontbreekt: installeer het pakket pagefind[bin]") from exc
    try:
        return Path(get_executable())
    except FileNotFoundError as exc:
        raise ToolError("het programma van Pagefind (pagefind[bin]) ontbreekt") from exc


def _index_shard(site: Path, shard: Sequence[str], out: Path) -> None:
    """Index the episode pages of one shard into the bundle folder ``out`` (replaced)."""
    names = ",".join(shard)
    glob = (
        f"afleveringen/{{{names}}}/index.html"
        if len(shard) > 1
        else f"afleveringen/{names}/index.html"
    )
    new = out.with_name(f".{out.name}.new")
    old = out.with_name(f".{out.name}.old")
    for path in (new, old):
        shutil.rmtree(path, ignore_errors=True)
    cmd = [str(pagefind_binary()), "--site", str(site), "--glob", glob]
    cmd += ["--output-path", str(new), "--force-language", "nl", "--silent"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(new, ignore_errors=True)
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()
        raise ToolError(f"Pagefind faalde: {detail[-1] if detail else exc}") from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(new, ignore_errors=True)
        raise ToolError(f"Pagefind kon niet draaien: {exc}") from exc
    if out.exists():
        os.replace(out, old)
    os.replace(new, out)
    shutil.rmtree(old, ignore_errors=True)


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def write_site(ws: Workspace, inp: SiteInput) -> SiteReport:
    """Render the changed pages, mirror the assets and refresh the search shards."""
    site_dir = ws.site_dir
    site_dir.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(ws)
    templates = _templates_hash()

    # Shards, in the order episodes were added (oldest first) so new ones join the last shard.
    added = sorted(inp.episodes, key=lambda e: (e.episode.created, e.episode.date, e.episode.slug))
    shards = assign_shards(manifest.get("shards", []), [e.episode.slug for e in added])
    bundles = [f"pagefind/{shard_id(s)}/" for s in shards]
    pages = plan(inp, bundles=bundles)

    old_pages: dict[str, str] = manifest.get("pages", {})
    new_pages: dict[str, str] = {}
    written: list[str] = []
    for page in pages:
        digest = page_hash(page, templates)
        new_pages[page.path] = digest
        target = site_dir / page.path
        if old_pages.get(page.path) == digest and target.exists():
            continue
        atomic_write_text(target, render_page(page))
        written.append(page.path)
    removed = []
    for path in sorted(set(old_pages) - set(new_pages)):
        target = site_dir / path
        if target.exists():
            target.unlink()
            removed.append(path)
        parent = target.parent
        while parent != site_dir and parent.exists() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    # Assets: the site's CSS and JS, the audio (hard links), transcripts and feeds.
    _sync_tree(
        {p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file()},
        site_dir / "static",
    )
    audio = {
        f"{e.episode.slug}/{e.episode.audio_file}": e.audio
        for e in inp.episodes
        if e.audio is not None
    }
    _sync_tree(audio, site_dir / "episodes", link=True)
    transcripts = {
        f"{e.episode.slug}.{ext}": ws.transcript_path(e.episode.slug, ext)
        for e in inp.episodes
        for ext in e.transcript_files
    }
    _sync_tree(transcripts, site_dir / "transcripts")
    _sync_tree({rel: ws.feeds_dir / rel for rel in inp.feeds}, site_dir / "feeds")

    # Search: re-index the shards whose episode pages changed.
    page_of = {
        e.episode.slug: new_pages[f"afleveringen/{e.episode.slug}/index.html"] for e in inp.episodes
    }
    old_shards: dict[str, str] = manifest.get("shard_hashes", {})
    new_shards: dict[str, str] = {}
    todo: list[tuple[list[str], Path]] = []
    pagefind_dir = site_dir / "pagefind"
    for shard in shards:
        sid = shard_id(shard)
        digest = hashlib.sha256(json.dumps([(s, page_of[s]) for s in shard]).encode()).hexdigest()[
            :24
        ]
        new_shards[sid] = digest
        if (
            old_shards.get(sid) != digest
            or not (pagefind_dir / sid / "pagefind-entry.json").exists()
        ):
            todo.append((shard, pagefind_dir / sid))
    if todo:
        pagefind_dir.mkdir(parents=True, exist_ok=True)
        workers = max(1, min(len(todo), (os.cpu_count() or 2) // 2 or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(_index_shard, site_dir, s, out) for s, out in todo]:
                future.result()
    if pagefind_dir.is_dir():
        for child in pagefind_dir.iterdir():
            if child.name not in new_shards:
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()

    atomic_write_text(
        ws.state_dir / MANIFEST,
        json.dumps(
            {
                "version": SITE_VERSION,
                "pages": new_pages,
                "shards": shards,
                "shard_hashes": new_shards,
            },
            indent=1,
        ),
    )
    return SiteReport(
        pages=len(pages),
        written=tuple(written),
        removed=tuple(removed),
        shards=len(shards),
        indexed=tuple(out.name for _, out in todo),
        search_bytes=_dir_bytes(pagefind_dir),
    )


def build_site(
    ws: Workspace,
    *,
    base_url: str | None = None,
    fragment_loader: FragmentLoader | None = None,
    transcript_loader: TranscriptLoader | None = None,
) -> list[str]:
    """Build ``site/`` (incrementally); returns Dutch status lines for the CLI."""
    inp = collect(
        ws, base_url=base_url, fragment_loader=fragment_loader, transcript_loader=transcript_loader
    )
    with ws.lock("site"):
        report = write_site(ws, inp)
    return report.lines()


__all__ = [
    "Page",
    "SiteInput",
    "SiteReport",
    "build_site",
    "collect",
    "fmt_time",
    "plan",
    "render_page",
    "write_site",
]
