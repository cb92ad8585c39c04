"""feedgen extensions: the Podcasting 2.0 ``podcast:`` namespace and Apple's ``itunes:explicit``.

Both go through feedgen's extension API (``BaseExtension``/``BaseEntryExtension`` and
``FeedGenerator.register_extension``); nothing is spliced into the serialised XML.

* :class:`PodcastIndexExtension` / :class:`PodcastIndexEntryExtension`: ``podcast:guid``,
  ``podcast:locked`` (with ``owner``), ``podcast:medium`` and the WebSub hub
  (``<atom:link rel="hub">``, which feedgen's RSS output leaves out) on the channel;
  ``podcast:person``, ``podcast:transcript``, ``podcast:chapters``, ``podcast:soundbite``,
  ``podcast:season`` and ``podcast:episode`` on items. Registered as ``podcastindex``, so
  ``fg.podcastindex.guid(...)`` and ``fe.podcastindex.transcript(...)``.
* :class:`AppleExtension` / :class:`AppleEntryExtension`: feedgen's own iTunes extension
  (registered as ``podcast``, as ``fg.load_extension("podcast")`` would), except that
  ``itunes_explicit`` takes a bool and writes Apple's current values ``true``/``false``
  (feedgen only knows ``yes``/``no``/``clean``).
* :class:`PubDateEntryExtension`: the item's ``<pubDate>``, formatted here rather than by
  feedgen, whose formatter switches the process-wide locale three times per item (slow, and
  not thread-safe). Registered as ``dates`` before the others, so the element lands where
  feedgen would put it (after ``<enclosure>``): ``fe.dates.pub_date(...)``.

The namespace URI is the spec's current one, ``https://podcastindex.org/namespace/1.0``. Clients
must treat the old GitHub URI as identical; podcastparser 0.6.11 only knows the old one (see
``tests/test_feed.py``).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any, NamedTuple

# feedgen.util uses ``lxml.etree`` without importing it: import feedgen.feed (which does) first.
from feedgen.feed import FeedEntry, FeedGenerator  # isort: skip
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.ext.podcast import PodcastExtension
from feedgen.ext.podcast_entry import PodcastEntryExtension
from feedgen.util import xml_elem
from lxml.etree import Element

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
PODCAST_NS_OLD = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ITUNES_EXPLICIT = f"{{{ITUNES_NS}}}explicit"
# The spec's UUIDv5 namespace for podcast:guid.
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

MEDIUMS = (
    "podcast",
    "music",
    "video",
    "film",
    "audiobook",
    "newsletter",
    "blog",
    "publisher",
    "course",
)
TRANSCRIPT_TYPES = {
    "vtt": "text/vtt",
    "srt": "application/x-subrip",
    "json": "application/json",
    "html": "text/html",
    "txt": "text/plain",
}
CHAPTERS_TYPE = "application/json+chapters"


def podcast_guid(feed_url: str) -> str:
    """The spec's ``podcast:guid``: UUIDv5 of the feed URL without scheme and trailing slashes.

    >>> podcast_guid("https://mp3s.nashownotes.com/pc20rss.xml")
    '917393e3-1b1e-5cef-ace4-edaa54e1f810'
    """
    url = feed_url.strip()
    if "://" in url:
        url = url.split("://", 1)[1]
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, url.rstrip("/")))


def _tag(name: str) -> str:
    return f"{{{PODCAST_NS}}}{name}"


PERSON_TAG = _tag("person")
TRANSCRIPT_TAG = _tag("transcript")
CHAPTERS_TAG = _tag("chapters")
SOUNDBITE_TAG = _tag("soundbite")


@functools.lru_cache(maxsize=256)
def _prototype(tag: str, *attrib: str) -> Any:
    """A detached ``<tag>`` with the attributes given as name, value, name, value, ... in that
    order, empty ones left out (``url`` excepted: a placeholder the copies overwrite). Never
    handed out: callers take a copy (``__copy__``, a deep copy in lxml)."""
    pairs = zip(attrib[::2], attrib[1::2], strict=True)
    return Element(tag, {k: v for k, v in pairs if v or k == "url"})


# Immutable values, NamedTuples rather than frozen dataclasses: a feed builds several per
# episode, and a NamedTuple is a few times cheaper to make.
class Person(NamedTuple):
    name: str
    role: str = "guest"
    group: str = "cast"
    href: str = ""
    img: str = ""


class SoundbiteMark(NamedTuple):
    start: float  # seconds
    duration: float  # seconds
    title: str = ""


class TranscriptLink(NamedTuple):
    url: str
    type: str
    language: str = ""
    rel: str = ""  # "captions" for timed formats meant as closed captions


class PodcastIndexExtension(BaseExtension):
    """Channel-level ``podcast:`` tags."""

    def __init__(self) -> None:
        self._guid: str | None = None
        self._locked: bool | None = None
        self._locked_owner: str = ""
        self._medium: str | None = None
        self._hub: str = ""

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def guid(self, value: str | None = None) -> str | None:
        if value is not None:
            uuid.UUID(value)  # raises ValueError for anything but a UUID
            self._guid = value
        return self._guid

    def locked(self, value: bool | None = None, owner: str = "") -> bool | None:
        if value is not None:
            self._locked = bool(value)
            self._locked_owner = owner
        return self._locked

    def medium(self, value: str | None = None) -> str | None:
        if value is not None:
            if value not in MEDIUMS:
                raise ValueError(f"unknown podcast:medium {value!r}")
            self._medium = value
        return self._medium

    def hub(self, url: str | None = None) -> str:
        """The WebSub hub that announces new versions of the feed (``atom:link rel="hub"``)."""
        if url is not None:
            self._hub = url.strip()
        return self._hub

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        if self._hub:
            xml_elem(f"{{{ATOM_NS}}}link", channel, href=self._hub, rel="hub")
        if self._guid:
            xml_elem(_tag("guid"), channel).text = self._guid
        if self._locked is not None:
            locked = xml_elem(_tag("locked"), channel)
            locked.text = "yes" if self._locked else "no"
            if self._locked_owner:
                locked.attrib["owner"] = self._locked_owner
        if self._medium:
            xml_elem(_tag("medium"), channel).text = self._medium
        return rss_feed

    def extend_atom(self, atom_feed: Any) -> Any:
        return atom_feed


class PodcastIndexEntryExtension(BaseEntryExtension):
    """Item-level ``podcast:`` tags."""

    def __init__(self) -> None:
        self._persons: list[Person] = []
        self._transcripts: list[TranscriptLink] = []
        self._chapters: tuple[str, str] | None = None
        self._soundbites: list[SoundbiteMark] = []
        self._season: tuple[int, str] | None = None
        self._episode: int | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def person(self, person: Person | None = None) -> list[Person]:
        if person is not None:
            if not person.name.strip():
                raise ValueError("podcast:person needs a name")
            self._persons.append(person)
        return list(self._persons)

    def transcript(self, link: TranscriptLink | None = None) -> list[TranscriptLink]:
        if link is not None:
            self._transcripts.append(link)
        return list(self._transcripts)

    def chapters(self, url: str | None = None, type: str = CHAPTERS_TYPE) -> tuple[str, str] | None:
        if url is not None:
            self._chapters = (url, type)
        return self._chapters

    def soundbite(self, mark: SoundbiteMark | None = None) -> list[SoundbiteMark]:
        if mark is not None:
            if mark.start < 0 or mark.duration <= 0:
                raise ValueError("podcast:soundbite needs startTime >= 0 and a duration")
            self._soundbites.append(mark)
        return list(self._soundbites)

    def season(self, number: int | None = None, name: str = "") -> tuple[int, str] | None:
        if number is not None:
            self._season = (int(number), name)
        return self._season

    def episode(self, number: int | None = None) -> int | None:
        if number is not None:
            self._episode = int(number)
        return self._episode

    def extend_rss(self, entry: Any) -> Any:
        # Each element is a copy of a template that already carries the attributes shared by
        # many items (lxml copies them in C); only the per-item value is set. Setting an
        # attribute through lxml's API costs as much as making an element, and an item has
        # about twenty of them. Attribute order as written: role, group, href, img; url,
        # type, language, rel.
        append = entry.append
        for name, role, group, href, img in self._persons:
            el = _prototype(PERSON_TAG, "role", role, "group", group).__copy__()
            if href:
                el.set("href", href)
            if img:
                el.set("img", img)
            el.text = name
            append(el)
        for url, type_, language, rel in self._transcripts:
            el = _prototype(
                TRANSCRIPT_TAG, "url", "", "type", type_, "language", language, "rel", rel
            ).__copy__()
            el.set("url", url)
            append(el)
        if self._chapters:
            url, type_ = self._chapters
            el = _prototype(CHAPTERS_TAG, "url", "", "type", type_).__copy__()
            el.set("url", url)
            append(el)
        for start, duration, title in self._soundbites:
            el = Element(SOUNDBITE_TAG, startTime=_seconds(start), duration=_seconds(duration))
            if title:
                el.text = title
            append(el)
        if self._season is not None:
            number, name = self._season
            el = Element(_tag("season"), {"name": name} if name else {})
            el.text = str(number)
            append(el)
        if self._episode is not None:
            xml_elem(_tag("episode"), entry).text = str(self._episode)
        return entry

    def extend_atom(self, entry: Any) -> Any:
        return entry


def _seconds(value: float) -> str:
    """``73.0`` -> ``'73'``, ``73.25`` -> ``'73.3'``: seconds with at most one decimal."""
    return f"{round(value, 1):.1f}".removesuffix(".0")


def _explicit(value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "explicit"):
        return True
    if lowered in ("false", "no", "clean"):
        return False
    raise ValueError(f"invalid itunes:explicit value {value!r}")


class _AppleExplicit:
    """``itunes:explicit`` as Apple's true/false, shared by the channel and item extensions."""

    _apple_explicit: bool | None = None

    def itunes_explicit(self, itunes_explicit: bool | str | None = None) -> bool | None:
        if itunes_explicit is not None:
            self._apple_explicit = _explicit(itunes_explicit)
        return self._apple_explicit

    def _write_explicit(self, parent: Any) -> None:
        if self._apple_explicit is not None:
            el = xml_elem(ITUNES_EXPLICIT, parent)
            el.text = "true" if self._apple_explicit else "false"


class AppleExtension(_AppleExplicit, PodcastExtension):  # type: ignore[misc]
    """feedgen's iTunes channel extension, with ``itunes:explicit`` as Apple's true/false."""

    def extend_rss(self, rss_feed: Any) -> Any:
        rss_feed = super().extend_rss(rss_feed)
        self._write_explicit(rss_feed[0])
        return rss_feed


class AppleEntryExtension(_AppleExplicit, PodcastEntryExtension):  # type: ignore[misc]
    """feedgen's iTunes item extension, with ``itunes:explicit`` as Apple's true/false."""

    def extend_rss(self, entry: Any) -> Any:
        entry = super().extend_rss(entry)
        self._write_explicit(entry)
        return entry


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc2822(when: dt.datetime) -> str:
    """``'Wed, 01 Jan 2020 12:00:00 +0100'``: what feedgen writes (``strftime`` in the C
    locale), without touching the locale."""
    offset = when.utcoffset()
    if offset is None:
        raise ValueError("a pubDate needs a time zone")
    minutes = (offset.days * 86400 + offset.seconds) // 60
    sign = "+"
    if minutes < 0:
        sign, minutes = "-", -minutes
    return "%s, %02d %s %04d %02d:%02d:%02d %s%02d%02d" % (  # noqa: UP031 (faster here)
        _DAYS[when.weekday()],
        when.day,
        _MONTHS[when.month - 1],
        when.year,
        when.hour,
        when.minute,
        when.second,
        sign,
        minutes // 60,
        minutes % 60,
    )


class PubDateExtension(BaseExtension):
    """Nothing on the channel (feedgen's ``lastBuildDate`` is written once per feed): it only
    lets ``fg.add_entry()`` give new entries the ``dates`` extension."""

    def extend_rss(self, rss_feed: Any) -> Any:
        return rss_feed

    def extend_atom(self, atom_feed: Any) -> Any:
        return atom_feed


class PubDateEntryExtension(BaseEntryExtension):
    """The item's ``<pubDate>`` (set it here, not with ``fe.pubDate``)."""

    def __init__(self) -> None:
        self._text: str | None = None
        self._date: dt.datetime | None = None

    def pub_date(self, value: dt.datetime | None = None) -> dt.datetime | None:
        if value is not None:
            self._text = rfc2822(value)  # raises ValueError without a time zone
            self._date = value
        return self._date

    def extend_rss(self, entry: Any) -> Any:
        if self._text is not None:
            xml_elem("pubDate", entry).text = self._text
        return entry

    def extend_atom(self, entry: Any) -> Any:
        return entry


def register_entry(fe: FeedEntry) -> None:
    """Load the entry extensions on an entry made on its own (to share it between feeds);
    ``dates`` first, so its ``<pubDate>`` comes before the ``itunes:`` and ``podcast:`` tags."""
    fe.register_extension("dates", PubDateEntryExtension, atom=False)
    fe.register_extension("podcast", AppleEntryExtension, atom=False)
    fe.register_extension("podcastindex", PodcastIndexEntryExtension, atom=False)


def register(fg: FeedGenerator) -> None:
    """Load the extensions: ``fg.dates`` (item pubDate), ``fg.podcast`` (iTunes) and
    ``fg.podcastindex`` (Podcasting 2.0)."""
    fg.register_extension("dates", PubDateExtension, PubDateEntryExtension, atom=False)
    fg.register_extension("podcast", AppleExtension, AppleEntryExtension, atom=False)
    fg.register_extension(
        "podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False
    )
