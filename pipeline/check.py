"""``vlinder check``: validate the built feeds against Apple's required tags and the
Podcasting 2.0 namespace, and against the files they point at.

Each problem is one Dutch line, prefixed with the feed's path. URLs under the feed's own base
(taken from its ``atom:link rel="self"``) are checked against the workspace files: the
enclosure's length and extension, the duration, the artwork's size, the transcripts and the
chapter files. URLs elsewhere are only checked for their form.

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

from .chapters import mp3_duration
from .errors import FeedError
from .podcast_ext import ITUNES_NS, MEDIUMS, PODCAST_NS, PODCAST_NS_OLD, podcast_guid
from .workspace import Workspace

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
    """Local files behind the feed's URLs: pending outputs first, then the workspace."""

    ws: Workspace
    pending: Mapping[str, bytes]
    sizes: dict[Path, int] = field(default_factory=dict)
    lengths: dict[Path, float | None] = field(default_factory=dict)
    chapters: dict[str, list[str]] = field(default_factory=dict)  # rel -> problems
    present: dict[str, bool] = field(default_factory=dict)

    def rel(self, base: str, url: str) -> str | None:
        if not base or not url.startswith(base + "/"):
            return None
        return unquote(url[len(base) + 1 :].split("#", 1)[0])

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
    if root.tag != "rss" or root.find("channel") is None:
        return [f"{name}: geen RSS-feed (<rss><channel> ontbreekt)"]
    ns = dict(NS)
    if PODCAST_NS_OLD in root.nsmap.values() and PODCAST_NS not in root.nsmap.values():
        ns["podcast"] = PODCAST_NS_OLD  # the spec's old URI, to be treated as identical
    ch = root.find("channel")
    problems: list[str] = []
    add = problems.append
    urls: list[str] = []

    for tag, label in (
        ("title", "titel"),
        ("description", "beschrijving"),
        ("language", "taal"),
        ("link", "link"),
    ):
        if not _text(ch.find(tag)):
            add(f"{name}: kanaal mist <{tag}> ({label})")
    urls.append(_text(ch.find("link")))
    author = _text(ch.find("itunes:author", ns))
    if not author:
        add(f"{name}: kanaal mist <itunes:author>")
    email_el = ch.find("itunes:owner/itunes:email", ns)
    if "@" not in _text(email_el):
        add(f"{name}: kanaal mist <itunes:owner> met e-mailadres")
    if ch.find("itunes:category", ns) is None or not ch.find("itunes:category", ns).get("text"):
        add(f"{name}: kanaal mist <itunes:category>")
    explicit = _text(ch.find("itunes:explicit", ns))
    if explicit not in ("true", "false"):
        add(f"{name}: <itunes:explicit> van het kanaal moet true of false zijn, niet '{explicit}'")

    self_link = ch.find("atom:link[@rel='self']", ns)
    self_url = self_link.get("href", "") if self_link is not None else ""
    if not self_url:
        add(f'{name}: kanaal mist <atom:link rel="self"> met de URL van de feed')
    urls.append(self_url)
    base = ""
    feeds_part = "/" + name  # e.g. /feeds/podcast.xml
    if self_url.endswith(feeds_part):
        base = self_url[: -len(feeds_part)]
    elif self_url:
        add(f"{name}: de self-link {self_url} wijst niet naar dit bestand")

    guid = _text(ch.find("podcast:guid", ns))
    if not guid:
        add(f"{name}: kanaal mist <podcast:guid>")
    elif self_url and guid != podcast_guid(self_url):
        add(f"{name}: <podcast:guid> {guid} klopt niet met de feed-URL ({podcast_guid(self_url)})")
    locked = ch.find("podcast:locked", ns)
    if locked is not None:
        if _text(locked) not in ("yes", "no"):
            add(f"{name}: <podcast:locked> moet yes of no zijn")
        elif _text(locked) == "yes" and "@" not in locked.get("owner", ""):
            add(f"{name}: <podcast:locked> mist het e-mailadres van de eigenaar (owner)")
    medium = ch.find("podcast:medium", ns)
    if medium is not None and _text(medium) not in MEDIUMS:
        add(f"{name}: onbekend <podcast:medium> '{_text(medium)}'")

    image = ch.find("itunes:image", ns)
    image_url = image.get("href", "") if image is not None else ""
    if not image_url:
        add(f"{name}: kanaal mist <itunes:image>")
    else:
        urls.append(image_url)
        rel = files.rel(base, image_url)
        if rel is not None:
            problems += _check_image(files.read(rel), f"{name}: {rel}")
    rss_image = ch.find("image/url")
    if rss_image is not None:
        urls.append(_text(rss_image))

    seen: dict[str, str] = {}
    for n, item in enumerate(ch.findall("item"), start=1):
        title = _text(item.find("title"))
        label = f"{name}: aflevering '{title or n}'"
        if not title:
            add(f"{name}: aflevering {n} mist <title>")
        guid_el = item.find("guid")
        item_guid = _text(guid_el)
        if not item_guid:
            add(f"{label}: mist <guid>")
        elif item_guid in seen:
            add(f"{label}: guid '{item_guid}' komt dubbel voor (ook bij '{seen[item_guid]}')")
        else:
            seen[item_guid] = title
        if item.find("link") is not None:
            urls.append(_text(item.find("link")))
        pub = _text(item.find("pubDate"))
        try:
            email.utils.parsedate_to_datetime(pub)
        except (TypeError, ValueError):
            add(f"{label}: <pubDate> '{pub}' is geen RFC 2822-datum")
        item_explicit = item.find("itunes:explicit", ns)
        if item_explicit is not None and _text(item_explicit) not in ("true", "false"):
            add(f"{label}: <itunes:explicit> moet true of false zijn")

        enc = item.find("enclosure")
        local_audio: Path | None = None
        if enc is None:
            add(f"{label}: mist <enclosure>")
        else:
            url, etype, length = enc.get("url", ""), enc.get("type", ""), enc.get("length", "")
            urls.append(url)
            suffix = _suffix(url)
            expected = AUDIO_TYPES.get(suffix)
            if expected is None:
                add(f"{label}: enclosure-extensie '{suffix}' is geen podcastformaat")
            elif etype != expected:
                add(f"{label}: enclosure-type '{etype}' past niet bij {suffix} ({expected})")
            if not length.isdigit():
                add(f"{label}: enclosure-lengte '{length}' is geen aantal bytes")
            rel = files.rel(base, url)
            if rel is not None:
                local_audio = ws.root / rel
                size = files.size(local_audio)
                if size is None:
                    add(f"{label}: audiobestand {rel} bestaat niet")
                    local_audio = None
                elif length.isdigit() and int(length) != size:
                    add(
                        f"{label}: enclosure-lengte {length} klopt niet met het bestand "
                        f"({size} bytes)"
                    )

        duration = _text(item.find("itunes:duration", ns))
        if not duration.isdigit():
            add(f"{label}: <itunes:duration> '{duration}' is geen geheel aantal seconden")
        elif local_audio is not None and local_audio.suffix.lower() == ".mp3":
            real = files.audio_length(local_audio)
            if real is None:
                add(f"{label}: audiobestand is geen leesbare MP3")
            elif abs(int(duration) - real) > max(2.0, real * 0.01):
                add(
                    f"{label}: <itunes:duration> {duration} s klopt niet met het bestand "
                    f"({real:.0f} s)"
                )

        for tr in item.findall("podcast:transcript", ns):
            url, ttype = tr.get("url", ""), tr.get("type", "")
            urls.append(url)
            if ttype not in TRANSCRIPT_TYPES:
                add(f"{label}: onbekend transcripttype '{ttype}'")
            if ttype == "text/html":
                continue
            rel = files.rel(base, url)
            if rel is not None and not files.exists(rel):
                add(f"{label}: transcript {rel} bestaat niet")
        chapters = item.find("podcast:chapters", ns)
        if chapters is not None:
            url = chapters.get("url", "")
            urls.append(url)
            if chapters.get("type") != "application/json+chapters":
                add(f"{label}: <podcast:chapters> moet type application/json+chapters hebben")
            rel = files.rel(base, url)
            if rel is not None:
                if rel not in files.chapters:
                    files.chapters[rel] = _check_chapters_json(files.read(rel), "")
                problems += [f"{label}: {rel}{p}" for p in files.chapters[rel]]
        for person in item.findall("podcast:person", ns):
            if not _text(person):
                add(f"{label}: <podcast:person> zonder naam")

    schemes = [(u, _scheme(u)) for u in urls if u]
    for u, scheme in schemes:
        if scheme not in ("http", "https"):
            add(f"{name}: '{u}' is geen absolute URL")
    plain = [u for u, scheme in schemes if scheme == "http"]
    if plain and not allow_http:
        add(
            f"{name}: {len(plain)} URL('s) gebruiken http in plaats van https "
            f"(bijv. {plain[0]}); Apple Podcasts eist https"
        )
    return problems


def check_outputs(
    ws: Workspace,
    outputs: Mapping[str, bytes],
    *,
    allow_http: bool = False,
    durations: Mapping[Path, float] | None = None,
) -> list[str]:
    """Check feeds that are built but not yet written (``outputs``: path -> bytes).
    ``durations``: audio durations the caller has just measured (path -> seconds)."""
    files = _Files(ws, outputs)
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
