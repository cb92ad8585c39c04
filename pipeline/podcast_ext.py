"""feedgen extensions: the Podcasting 2.0 ``podcast:`` namespace and Apple's ``itunes:explicit``.

Both go through feedgen's extension API (``BaseExtension``/``BaseEntryExtension`` and
``FeedGenerator.register_extension``); nothing is spliced into the serialised XML.

* :class:`PodcastIndexExtension` / :class:`PodcastIndexEntryExtension`: ``podcast:guid``,
  ``podcast:locked`` (with ``owner``), ``podcast:medium`` on the channel; ``podcast:person``,
  ``podcast:transcript`` and ``podcast:chapters`` on items. Registered as ``podcastindex``, so
  ``fg.podcastindex.guid(...)`` and ``fe.podcastindex.transcript(...)``.
* :class:`AppleExtension` / :class:`AppleEntryExtension`: feedgen's own iTunes extension
  (registered as ``podcast``, as ``fg.load_extension("podcast")`` would), except that
  ``itunes_explicit`` takes a bool and writes Apple's current values ``true``/``false``
  (feedgen only knows ``yes``/``no``/``clean``).

The namespace URI is the spec's current one, ``https://podcastindex.org/namespace/1.0``. Clients
must treat the old GitHub URI as identical; podcastparser 0.6.11 only knows the old one (see
``tests/test_feed.py``).
"""

from __future__ import annotations

import uuid
from typing import Any, NamedTuple

# feedgen.util uses ``lxml.etree`` without importing it: import feedgen.feed (which does) first.
from feedgen.feed import FeedEntry, FeedGenerator  # isort: skip
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.ext.podcast import PodcastExtension
from feedgen.ext.podcast_entry import PodcastEntryExtension
from feedgen.util import xml_elem
from lxml.etree import SubElement

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
PODCAST_NS_OLD = "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
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


# Immutable values, NamedTuples rather than frozen dataclasses: a feed builds several per
# episode, and a NamedTuple is a few times cheaper to make.
class Person(NamedTuple):
    name: str
    role: str = "guest"
    group: str = "cast"
    href: str = ""
    img: str = ""


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

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
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

    def extend_rss(self, entry: Any) -> Any:
        # Attributes in a dict made up front: one lxml call per element (this runs once per
        # item and feed). Attribute order as written: role, group, href, img; url, type,
        # language, rel.
        for name, role, group, href, img in self._persons:
            attrib = {"role": role, "group": group}
            if href:
                attrib["href"] = href
            if img:
                attrib["img"] = img
            SubElement(entry, PERSON_TAG, attrib).text = name
        for url, type_, language, rel in self._transcripts:
            attrib = {"url": url, "type": type_}
            if language:
                attrib["language"] = language
            if rel:
                attrib["rel"] = rel
            SubElement(entry, TRANSCRIPT_TAG, attrib)
        if self._chapters:
            url, type_ = self._chapters
            SubElement(entry, CHAPTERS_TAG, {"url": url, "type": type_})
        return entry

    def extend_atom(self, entry: Any) -> Any:
        return entry


def _explicit(value: bool | str) -> bool:
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "explicit"):
        return True
    if lowered in ("false", "no", "clean"):
        return False
    raise ValueError(f"invalid itunes:explicit value {value!r}")


class AppleExtension(PodcastExtension):
    """feedgen's iTunes channel extension, with ``itunes:explicit`` as Apple's true/false."""

    def __init__(self) -> None:
        super().__init__()
        self._apple_explicit: bool | None = None

    def itunes_explicit(self, itunes_explicit: bool | str | None = None) -> bool | None:  # type: ignore[override]
        if itunes_explicit is not None:
            self._apple_explicit = _explicit(itunes_explicit)
        return self._apple_explicit

    def extend_rss(self, rss_feed: Any) -> Any:
        rss_feed = super().extend_rss(rss_feed)
        if self._apple_explicit is not None:
            el = xml_elem(f"{{{ITUNES_NS}}}explicit", rss_feed[0])
            el.text = "true" if self._apple_explicit else "false"
        return rss_feed


class AppleEntryExtension(PodcastEntryExtension):
    """feedgen's iTunes item extension, with ``itunes:explicit`` as Apple's true/false."""

    def __init__(self) -> None:
        super().__init__()
        self._apple_explicit: bool | None = None

    def itunes_explicit(self, itunes_explicit: bool | str | None = None) -> bool | None:  # type: ignore[override]
        if itunes_explicit is not None:
            self._apple_explicit = _explicit(itunes_explicit)
        return self._apple_explicit

    def extend_rss(self, entry: Any) -> Any:
        entry = super().extend_rss(entry)
        if self._apple_explicit is not None:
            el = xml_elem(f"{{{ITUNES_NS}}}explicit", entry)
            el.text = "true" if self._apple_explicit else "false"
        return entry


def register_entry(fe: FeedEntry) -> None:
    """Load both entry extensions on an entry made on its own (to share it between feeds)."""
    fe.register_extension("podcast", AppleEntryExtension, atom=False)
    fe.register_extension("podcastindex", PodcastIndexEntryExtension, atom=False)


def register(fg: FeedGenerator) -> None:
    """Load both extensions: ``fg.podcast`` (iTunes) and ``fg.podcastindex`` (Podcasting 2.0)."""
    fg.register_extension("podcast", AppleExtension, AppleEntryExtension, atom=False)
    fg.register_extension(
        "podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension, atom=False
    )
