"""``vlinder check``: validate the built feeds against Apple's required tags and the
Podcasting 2.0 namespace, and against the files they point at.

Each problem is one Dutch line, prefixed with the feed's path. URLs under the feed's own base
(taken from its ``atom:link rel="self"``) are checked against the workspace files: the
enclosure's length and extension, the duration, the artwork's size, the transcripts and the
chapter files. URLs elsewhere are only checked for their form. Across the feeds, an episode's
guid and enclosure URL must be its own in each show: Apple ignores an episode whose enclosure
URL it has seen in another show.

http: ``vlinder check`` reports http URLs as a problem (Apple requires https);
``--allow-http`` accepts them, and so does ``vlinder build`` (a localhost demo must build).
"""

from __future__ import annotations

import email.utils
import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from lxml import etree
from PIL import Image, UnidentifiedImageError

from pipeline.core.errors import FeedError
from pipeline.core.workspace import Workspace

from .chapters import mp3_duration
from .podcast_ext import ITUNES_NS, MEDIUMS, PODCAST_NS, PODCAST_NS_OLD, podcast_guid

ATOM_NS = "http://www.w3.org/2005/Atom"
NS = {"itunes": ITUNES_NS, "podcast": PODCAST_NS, "atom": ATOM_NS}
AUDIO_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/x-m4a",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
}
TRANSCRIPT_TYPES = {
    "text/vtt",
    "application/x-subrip",
    "application/json",
    "text/html",
    "text/plain",
}
IMAGE_MIN, IMAGE_MAX = 1400, 3000
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass
class _Files:
    """Local files behind the feed's URLs: pending outputs and links first, then the
    workspace. It also remembers which feed each guid and enclosure URL was seen in first."""

    ws: Workspace
    pending: Mapping[str, bytes]
    links: Mapping[str, Path] = field(default_factory=dict)  # pending hard links -> source
    shows: dict[str, str] = field(default_factory=dict)  # guid or enclosure URL -> feed
    sizes: dict[Path, int] = field(default_factory=dict)
    lengths: dict[Path, float | None] = field(default_factory=dict)
    chapters: dict[str, list[str]] = field(default_factory=dict)  # rel -> problems
    present: dict[str, bool] = field(default_factory=dict)

    def rel(self, base: str, url: str) -> str | None:
        if not base or not url.startswith(base + "/"):
            return None
        return unquote(url[len(base) + 1 :].split("#", 1)[0])

    def local(self, rel: str) -> Path:
        """The file behind ``rel`` (the source of a link not yet made)."""
        return self.links.get(rel) or self.ws.root / rel

    def exists(self, rel: str) -> bool:
        if rel not in self.present:
            self.present[rel] = rel in self.pending or os.path.isfile(f"{self.ws.root}/{rel}")
        return self.present[rel]

    def read(self, rel: str) -> bytes | None:
        if rel in self.pending:
            return self.pending[rel]
        try:
            return (self.ws.root / rel).read_bytes()
        except OSError:
            return None

    def size(self, path: Path) -> int | None:
        if path not in self.sizes:
            try:
                self.sizes[path] = path.stat().st_size
            except OSError:
                return None
        return self.sizes[path]

    def audio_length(self, path: Path) -> float | None:
        if path not in self.lengths:
            try:
                self.lengths[path] = mp3_duration(path)
            except FeedError:
                self.lengths[path] = None
        return self.lengths[path]


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def _suffix(url: str) -> str:
    path = url.split("#", 1)[0].split("?", 1)[0].rsplit("/", 1)[-1]
    return ("." + path.rsplit(".", 1)[1].lower()) if "." in path else ""


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _check_image(data: bytes | None, where: str) -> list[str]:
    if data is None:
        return [f"{where}: afbeeldingsbestand ontbreekt"]
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt, (w, h), mode = img.format, img.size, img.mode
    except (UnidentifiedImageError, OSError):
        return [f"{where}: afbeelding is geen leesbare PNG of JPEG"]
    problems = []
    if fmt not in ("PNG", "JPEG"):
        problems.append(f"{where}: afbeelding is {fmt}, Apple wil PNG of JPEG")
    if w != h:
        problems.append(f"{where}: afbeelding is niet vierkant ({w}x{h} px)")
    if not min(w, h) >= IMAGE_MIN or max(w, h) > IMAGE_MAX:
        problems.append(
            f"{where}: afbeelding is {w}x{h} px; Apple wil {IMAGE_MIN}-{IMAGE_MAX} px vierkant"
        )
    if mode not in ("RGB", "P", "L"):
        problems.append(f"{where}: afbeelding heeft kleurmodus {mode}; Apple wil RGB")
    return problems


def _check_chapters_json(data: bytes | None, where: str) -> list[str]:
    if data is None:
        return [f"{where}: hoofdstukkenbestand ontbreekt"]
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return [f"{where}: hoofdstukkenbestand is geen geldige JSON"]
    if not isinstance(doc, dict) or not isinstance(doc.get("version"), str):
        return [f"{where}: hoofdstukkenbestand mist 'version'"]
    chapters = doc.get("chapters")
    if not isinstance(chapters, list):
        return [f"{where}: hoofdstukkenbestand mist de lijst 'chapters'"]
    last = -1.0
    for n, ch in enumerate(chapters, start=1):
        start = ch.get("startTime") if isinstance(ch, dict) else None
        if not isinstance(start, int | float) or isinstance(start, bool) or start < 0:
            return [f"{where}: hoofdstuk {n} heeft geen geldige startTime"]
        if start < last:
            return [f"{where}: hoofdstukken staan niet op volgorde van startTime"]
        if not isinstance(ch.get("title"), str) or not ch["title"].strip():
            return [f"{where}: hoofdstuk {n} heeft geen titel"]
        last = float(start)
    return []


def check_feed(
    name: str,
    data: bytes,
    ws: Workspace,
    *,
    allow_http: bool = False,
    pending: Mapping[str, bytes] | None = None,
    files: _Files | None = None,
) -> list[str]:
    """The problems of one feed (``name`` is its workspace-relative path)."""
    files = files or _Files(ws, pending or {})
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        return [f"{name}: geen geldige XML ({exc})"]
    ch = root.find("channel")
    if root.tag != "rss" or ch is None:
        return [f"{name}: geen RSS-feed (<rss><channel> ontbreekt)"]
    ns = dict(NS)
    if PODCAST_NS_OLD in root.nsmap.values() and PODCAST_NS not in root.nsmap.values():
        ns["podcast"] = PODCAST_NS_OLD  # the spec's old URI, to be treated as identical
    check = _FeedCheck(name, ws, files, ns)
    check.channel(ch)
    seen: dict[str, str] = {}
    for n, item in enumerate(ch.findall("item"), start=1):
        check.item(item, n, seen)
    check.url_schemes(allow_http)
    return check.problems


@dataclass
class _FeedCheck:
    """The checks of one feed; each adds its Dutch problem lines and the URLs it saw."""

    name: str
    ws: Workspace
    files: _Files
    ns: dict[str, str]
    problems: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    base: str = ""  # the base URL of the site, from the self link

    def add(self, line: str) -> None:
        self.problems.append(line)

    def find(self, el: etree._Element, path: str) -> etree._Element | None:
        return el.find(path, self.ns)

    # the channel ---------------------------------------------------------------------------
    def channel(self, ch: etree._Element) -> None:
        name = self.name
        for tag, label in (
            ("title", "titel"),
            ("description", "beschrijving"),
            ("language", "taal"),
            ("link", "link"),
        ):
            if not _text(ch.find(tag)):
                self.add(f"{name}: kanaal mist <{tag}> ({label})")
        self.urls.append(_text(ch.find("link")))
        if not _text(self.find(ch, "itunes:author")):
            self.add(f"{name}: kanaal mist <itunes:author>")
        if "@" not in _text(self.find(ch, "itunes:owner/itunes:email")):
            self.add(f"{name}: kanaal mist <itunes:owner> met e-mailadres")
        category = self.find(ch, "itunes:category")
        if category is None or not category.get("text"):
            self.add(f"{name}: kanaal mist <itunes:category>")
        explicit = _text(self.find(ch, "itunes:explicit"))
        if explicit not in ("true", "false"):
            self.add(
                f"{name}: <itunes:explicit> van het kanaal moet true of false zijn, "
                f"niet '{explicit}'"
            )
        self.self_link(ch)
        hub = self.find(ch, "atom:link[@rel='hub']")
        if hub is not None:
            self.urls.append(hub.get("href", "") or "(leeg)")
        self.podcast_tags(ch)
        self.image(ch)

    def self_link(self, ch: etree._Element) -> None:
        name = self.name
        link = self.find(ch, "atom:link[@rel='self']")
        self_url = link.get("href", "") if link is not None else ""
        if not self_url:
            self.add(f'{name}: kanaal mist <atom:link rel="self"> met de URL van de feed')
        self.urls.append(self_url)
        feeds_part = "/" + name  # e.g. /feeds/podcast.xml
        if self_url.endswith(feeds_part):
            self.base = self_url[: -len(feeds_part)]
        elif self_url:
            self.add(f"{name}: de self-link {self_url} wijst niet naar dit bestand")
        guid = _text(self.find(ch, "podcast:guid"))
        if not guid:
            self.add(f"{name}: kanaal mist <podcast:guid>")
        elif self_url and guid != podcast_guid(self_url):
            self.add(
                f"{name}: <podcast:guid> {guid} klopt niet met de feed-URL "
                f"({podcast_guid(self_url)})"
            )

    def podcast_tags(self, ch: etree._Element) -> None:
        name = self.name
        locked = self.find(ch, "podcast:locked")
        if locked is not None:
            if _text(locked) not in ("yes", "no"):
                self.add(f"{name}: <podcast:locked> moet yes of no zijn")
            elif _text(locked) == "yes" and "@" not in locked.get("owner", ""):
                self.add(f"{name}: <podcast:locked> mist het e-mailadres van de eigenaar (owner)")
        medium = self.find(ch, "podcast:medium")
        if medium is not None and _text(medium) not in MEDIUMS:
            self.add(f"{name}: onbekend <podcast:medium> '{_text(medium)}'")

    def image(self, ch: etree._Element) -> None:
        image = self.find(ch, "itunes:image")
        image_url = image.get("href", "") if image is not None else ""
        if not image_url:
            self.add(f"{self.name}: kanaal mist <itunes:image>")
        else:
            self.urls.append(image_url)
            rel = self.files.rel(self.base, image_url)
            if rel is not None:
                self.problems += _check_image(self.files.read(rel), f"{self.name}: {rel}")
        rss_image = ch.find("image/url")
        if rss_image is not None:
            self.urls.append(_text(rss_image))

    # the items -----------------------------------------------------------------------------
    def item(self, item: etree._Element, n: int, seen: dict[str, str]) -> None:
        title = _text(item.find("title"))
        label = f"{self.name}: aflevering '{title or n}'"
        if not title:
            self.add(f"{self.name}: aflevering {n} mist <title>")
        item_guid = _text(item.find("guid"))
        if not item_guid:
            self.add(f"{label}: mist <guid>")
        elif item_guid in seen:
            self.add(f"{label}: guid '{item_guid}' komt dubbel voor (ook bij '{seen[item_guid]}')")
        else:
            seen[item_guid] = title
            self.own_to_show(label, "guid", item_guid)
        if item.find("link") is not None:
            self.urls.append(_text(item.find("link")))
        pub = _text(item.find("pubDate"))
        try:
            email.utils.parsedate_to_datetime(pub)
        except (TypeError, ValueError):
            self.add(f"{label}: <pubDate> '{pub}' is geen RFC 2822-datum")
        item_explicit = self.find(item, "itunes:explicit")
        if item_explicit is not None and _text(item_explicit) not in ("true", "false"):
            self.add(f"{label}: <itunes:explicit> moet true of false zijn")
        local_audio = self.enclosure(item, label)
        self.duration(item, label, local_audio)
        self.transcripts(item, label)
        self.chapters(item, label)
        self.soundbites(item, label)
        self.numbers(item, label)
        for person in item.findall("podcast:person", self.ns):
            if not _text(person):
                self.add(f"{label}: <podcast:person> zonder naam")

    def enclosure(self, item: etree._Element, label: str) -> Path | None:
        """Check the enclosure; the audio file in the workspace, when it is there."""
        enc = item.find("enclosure")
        if enc is None:
            self.add(f"{label}: mist <enclosure>")
            return None
        url, etype, length = enc.get("url", ""), enc.get("type", ""), enc.get("length", "")
        self.urls.append(url)
        self.own_to_show(label, "enclosure-URL", url)
        suffix = _suffix(url)
        expected = AUDIO_TYPES.get(suffix)
        if expected is None:
            self.add(f"{label}: enclosure-extensie '{suffix}' is geen podcastformaat")
        elif etype != expected:
            self.add(f"{label}: enclosure-type '{etype}' past niet bij {suffix} ({expected})")
        if not length.isdigit():
            self.add(f"{label}: enclosure-lengte '{length}' is geen aantal bytes")
        rel = self.files.rel(self.base, url)
        if rel is None:
            return None
        local_audio = self.files.local(rel)
        size = self.files.size(local_audio)
        if size is None:
            self.add(f"{label}: audiobestand {rel} bestaat niet")
            return None
        if length.isdigit() and int(length) != size:
            self.add(
                f"{label}: enclosure-lengte {length} klopt niet met het bestand ({size} bytes)"
            )
        return local_audio

    def own_to_show(self, label: str, what: str, value: str) -> None:
        """An episode's guid and enclosure URL belong to one show (one feed)."""
        first = self.files.shows.setdefault(value, self.name)
        if value and first != self.name:
            self.add(
                f"{label}: {what} {value} staat ook in {first}; Apple negeert een aflevering "
                "waarvan het die al in een andere show zag"
            )

    def duration(self, item: etree._Element, label: str, local_audio: Path | None) -> None:
        duration = _text(self.find(item, "itunes:duration"))
        if not duration.isdigit():
            self.add(f"{label}: <itunes:duration> '{duration}' is geen geheel aantal seconden")
        elif local_audio is not None and local_audio.suffix.lower() == ".mp3":
            real = self.files.audio_length(local_audio)
            if real is None:
                self.add(f"{label}: audiobestand is geen leesbare MP3")
            elif abs(int(duration) - real) > max(2.0, real * 0.01):
                self.add(
                    f"{label}: <itunes:duration> {duration} s klopt niet met het bestand "
                    f"({real:.0f} s)"
                )

    def transcripts(self, item: etree._Element, label: str) -> None:
        for tr in item.findall("podcast:transcript", self.ns):
            url, ttype = tr.get("url", ""), tr.get("type", "")
            self.urls.append(url)
            if ttype not in TRANSCRIPT_TYPES:
                self.add(f"{label}: onbekend transcripttype '{ttype}'")
            if ttype == "text/html":
                continue
            rel = self.files.rel(self.base, url)
            if rel is not None and not self.files.exists(rel):
                self.add(f"{label}: transcript {rel} bestaat niet")

    def chapters(self, item: etree._Element, label: str) -> None:
        chapters = self.find(item, "podcast:chapters")
        if chapters is None:
            return
        url = chapters.get("url", "")
        self.urls.append(url)
        if chapters.get("type") != "application/json+chapters":
            self.add(f"{label}: <podcast:chapters> moet type application/json+chapters hebben")
        rel = self.files.rel(self.base, url)
        if rel is not None:
            if rel not in self.files.chapters:
                self.files.chapters[rel] = _check_chapters_json(self.files.read(rel), "")
            self.problems += [f"{label}: {rel}{p}" for p in self.files.chapters[rel]]

    def soundbites(self, item: etree._Element, label: str) -> None:
        """``podcast:soundbite``: a start and a duration in seconds, inside the episode."""
        total = _number(_text(self.find(item, "itunes:duration")))
        for n, sb in enumerate(item.findall("podcast:soundbite", self.ns), start=1):
            start, duration = _number(sb.get("startTime", "")), _number(sb.get("duration", ""))
            if start is None or start < 0 or duration is None or duration <= 0:
                self.add(f"{label}: soundbite {n} heeft geen geldige startTime en duration")
            elif total is not None and start + duration > total + 1:
                self.add(f"{label}: soundbite {n} loopt voorbij het einde van de aflevering")

    def numbers(self, item: etree._Element, label: str) -> None:
        """Season and episode numbers: whole numbers from 1 (Apple's and the namespace's)."""
        for tag in ("itunes:season", "itunes:episode", "podcast:season", "podcast:episode"):
            el = self.find(item, tag)
            if el is not None and not (_text(el).isdigit() and int(_text(el)) > 0):
                self.add(f"{label}: <{tag}> '{_text(el)}' is geen geheel getal vanaf 1")
        kind = self.find(item, "itunes:episodeType")
        if kind is not None and _text(kind) not in ("full", "trailer", "bonus"):
            self.add(f"{label}: <itunes:episodeType> moet full, trailer of bonus zijn")

    # every URL -----------------------------------------------------------------------------
    def url_schemes(self, allow_http: bool) -> None:
        schemes = [(u, _scheme(u)) for u in self.urls if u]
        for u, scheme in schemes:
            if scheme not in ("http", "https"):
                self.add(f"{self.name}: '{u}' is geen absolute URL")
        plain = [u for u, scheme in schemes if scheme == "http"]
        if plain and not allow_http:
            self.add(
                f"{self.name}: {len(plain)} URL('s) gebruiken http in plaats van https "
                f"(bijv. {plain[0]}); Apple Podcasts eist https"
            )


def check_outputs(
    ws: Workspace,
    outputs: Mapping[str, bytes],
    *,
    allow_http: bool = False,
    durations: Mapping[Path, float] | None = None,
    links: Mapping[str, Path] | None = None,
) -> list[str]:
    """Check feeds that are built but not yet written (``outputs``: path -> bytes; ``links``:
    hard links to be made, path -> source). ``durations``: audio durations the caller has
    just measured (path -> seconds)."""
    files = _Files(ws, outputs, links or {})
    files.lengths.update(durations or {})
    problems: list[str] = []
    for rel in sorted(outputs):
        if rel.endswith(".xml"):
            problems += check_feed(rel, outputs[rel], ws, allow_http=allow_http, files=files)
    return problems


def check_feeds(ws: Workspace, *, allow_http: bool = False) -> list[str]:
    """The problems of every feed in ``feeds/``, one Dutch line each; empty when all is well."""
    feeds = sorted(ws.feeds_dir.glob("*.xml")) if ws.feeds_dir.is_dir() else []
    if not feeds:
        return ["feeds/: geen feeds gevonden; draai eerst `vlinder build`"]
    files = _Files(ws, {})
    problems: list[str] = []
    for path in feeds:
        rel = f"feeds/{path.name}"
        problems += check_feed(rel, path.read_bytes(), ws, allow_http=allow_http, files=files)
    return problems
