"""Rendering: every feed and chapters file in memory, with feedgen and its ``podcast:``
extension (:mod:`pipeline.feed.podcast_ext`).

People (``podcast:person``, group ``cast``): in a talk every speaker is a ``guest`` of the series;
in an interview the first speaker is the interviewer (``host``) and the others are ``guest``.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from feedgen.feed import FeedEntry, FeedGenerator

from pipeline.core.errors import FeedError
from pipeline.core.models import Episode

from .chapters import (
    chapter_lines,
    chapters_json,
    chapters_json_bytes,
)
from .inputs import EpisodeData, FeedInput, VlinderInfo
from .podcast_ext import (
    TRANSCRIPT_TYPES,
    Person,
    SoundbiteMark,
    TranscriptLink,
    podcast_guid,
    register,
    register_entry,
)
from .urls import (
    CHAPTERS_DIR,
    MAIN_FEED,
    TRANSCRIPT_FILES,
    audio_url,
    chapters_url,
    episode_page_url,
    feed_url,
    pub_date,
    transcript_url,
    vlinder_audio_path,
    vlinder_audio_url,
    vlinder_item_guid,
    vlinder_page_url,
)
from .xmlsafe import cleaned

GENERATOR = "Vlinder (python-feedgen)"


_TRANSCRIPT_LINKS = tuple((ext, TRANSCRIPT_TYPES[kind], rel) for ext, kind, rel in TRANSCRIPT_FILES)


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

    def _built(self) -> Any:
        if self._item is None:
            self._item = super().rss_entry()
        return self._item

    def rss_entry(self, extensions: bool = True) -> Any:
        if self._item is None:
            return self._built()
        return copy.deepcopy(self._item)

    def item_copy(self) -> Any:
        """A copy of the ``<item>``, for a feed that changes it (:class:`EntryCopy`)."""
        return copy.deepcopy(self._built())


class EntryCopy(FeedEntry):  # type: ignore[misc]
    """A :class:`SharedEntry` in a further show (a vlinder feed), under a guid and an enclosure
    URL of its own: Apple Podcasts ignores an episode whose enclosure URL it has seen in
    another show."""

    def __init__(self, shared: SharedEntry, guid: str, enclosure_url: str):
        super().__init__()
        self.shared = shared
        self.guid_text = guid
        self.enclosure_url = enclosure_url

    def register_extension(self, *args: Any, **kwargs: Any) -> None:
        return  # the shared entry carries the extensions

    def rss_entry(self, extensions: bool = True) -> Any:
        item = self.shared.item_copy()
        item.find("guid").text = self.guid_text
        item.find("enclosure").set("url", self.enclosure_url)
        return item


def _entry(item: EpisodeData, inp: FeedInput) -> SharedEntry:
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
    # The show notes as HTML in CDATA (feedgen: content without a description), as Apple wants.
    fe.content(episode_description(item, inp), type="CDATA")
    fe.enclosure(audio_url(base, ep), str(item.audio_bytes), "audio/mpeg")
    fe.dates.pub_date(pub_date(ep.date))  # not fe.pubDate: see podcast_ext
    itunes = fe.podcast
    itunes.itunes_duration(int(round(ep.duration)))
    itunes.itunes_explicit(ep.explicit)
    itunes.itunes_episode_type(ep.episode_type)
    if ep.speakers:
        itunes.itunes_author(", ".join(ep.speakers))
    numbers = item.numbers
    if numbers.season is not None:
        itunes.itunes_season(numbers.season)
    if numbers.number is not None:
        itunes.itunes_episode(numbers.number)
    index = fe.podcastindex
    for person in _people(ep):
        index.person(person)
    transcripts = item.transcripts
    if transcripts:
        lang = inp.podcast.language
        for ext, mime, rel in _TRANSCRIPT_LINKS:
            if ext in transcripts:
                index.transcript(TranscriptLink(transcript_url(base, slug, ext), mime, lang, rel))
    if item.chapters:
        index.chapters(chapters_url(base, slug))
    for sb in item.soundbites:
        index.soundbite(SoundbiteMark(sb.start, sb.duration, sb.title))
    if numbers.season is not None:
        index.season(numbers.season, numbers.season_name)
    if numbers.number is not None:
        index.episode(numbers.number)
    return fe


def copyright_line(inp: FeedInput) -> str:
    """``[podcast] copyright``, or ``© <years of the episodes> <owner>``."""
    p = inp.podcast
    if p.copyright.strip():
        return p.copyright.strip()
    holder = p.owner_name.strip() or p.author.strip()
    years = sorted({item.episode.date.year for item in inp.episodes})
    if not years:
        return f"© {holder}"
    span = str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"
    return f"© {span} {holder}"


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
    fg.copyright(copyright_line(inp))
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
    if p.websub_hub.strip():
        fg.podcastindex.hub(p.websub_hub)
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


def render_entries(inp: FeedInput) -> list[SharedEntry]:
    """One feedgen entry per episode, shared by every feed the episode is in."""
    return [_entry(item, inp) for item in inp.episodes]


def render_main_feed(inp: FeedInput, entries: Sequence[FeedEntry]) -> bytes:
    p = inp.podcast
    fg = _channel(inp, MAIN_FEED, p.title, p.description, f"{inp.base_url}/")
    return _serialise(fg, entries, inp.episodes)


def vlinder_items(inp: FeedInput, v: VlinderInfo) -> list[int]:
    """The indices in ``inp.episodes`` of the episodes in a vlinder's feed: those with any of
    its ingredients."""
    wanted = {iid for iid, _ in v.ingredients}
    return [n for n, item in enumerate(inp.episodes) if wanted.intersection(item.ingredients)]


def vlinder_feed_title(podcast_title: str, vlinder_title: str) -> str:
    """``'Het klompje goud: Vertrouwen winnen'``, but a vlinder title that already starts with
    the podcast's (``'Het klompje goud – de alliantie ...'``) is not said twice."""
    if vlinder_title.casefold().startswith(podcast_title.strip().casefold()):
        return vlinder_title
    return f"{podcast_title}: {vlinder_title}"


def render_vlinder_feed(inp: FeedInput, v: VlinderInfo, entries: Sequence[SharedEntry]) -> bytes:
    """The feed of one vlinder: the episodes with any of its ingredients, each under a guid and
    an enclosure URL of its own (:func:`pipeline.feed.urls.vlinder_item_guid`)."""
    p = inp.podcast
    if f"{v.id}.xml" == MAIN_FEED:
        raise FeedError(f"vlinder-id '{v.id}' botst met de hoofdfeed; kies een andere id")
    chosen = vlinder_items(inp, v)
    copies = [
        EntryCopy(
            entries[n],
            vlinder_item_guid(inp.episodes[n].episode.guid, v.id),
            vlinder_audio_url(inp.base_url, v.id, inp.episodes[n].episode),
        )
        for n in chosen
    ]
    desc = v.description or f"De afleveringen van {p.title} over '{v.title}'."
    if v.ingredients:
        desc += " Ingrediënten: " + ", ".join(t for _, t in v.ingredients) + "."
    fg = _channel(
        inp,
        f"{v.id}.xml",
        vlinder_feed_title(p.title, v.title),
        desc,
        vlinder_page_url(inp.base_url, v.id),
    )
    return _serialise(fg, copies, [inp.episodes[n] for n in chosen])


def vlinder_audio_links(inp: FeedInput) -> dict[str, Path]:
    """The audio of the vlinder feeds: workspace-relative path -> the episode's audio file."""
    return {
        vlinder_audio_path(v.id, inp.episodes[n].episode): inp.episodes[n].audio_path
        for v in inp.vlinders
        for n in vlinder_items(inp, v)
    }


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
    """Every output, keyed by workspace-relative path: the feeds (a vlinder's only when it has
    episodes) and the chapter files (every text cleaned again for XML first:
    :mod:`pipeline.feed.xmlsafe`)."""
    inp = cleaned(inp)
    entries = render_entries(inp)
    out = {f"feeds/{MAIN_FEED}": render_main_feed(inp, entries)}
    for v in inp.vlinders:
        # A vlinder without episodes gets no feed (yet): Apple Podcasts and Podcast Index
        # reject an empty feed, and the site offers only the feeds there are.
        if vlinder_items(inp, v):
            out[f"feeds/{v.id}.xml"] = render_vlinder_feed(inp, v, entries)
    out.update(render_chapter_files(inp))
    return out
