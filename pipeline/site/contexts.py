"""Page contexts: one typed, frozen dataclass per kind of page, built by
:func:`pipeline.site.pages.plan` and rendered by the templates (``templates/``)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from pipeline.core.episodes import slugify


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
class TurnView:
    """What one person says in a fragment (when the speakers are known)."""

    speaker: str
    start: str  # seconds, for data-start and #t=
    time: str
    text: str


@dataclass(frozen=True)
class FragmentView:
    anchor: str  # element id: "f12" (fragment) or "s3" (transcript block)
    start: str  # seconds, for data-start and #t=
    time: str  # "12:34"
    text: str
    ingredients: tuple[IngredientRef, ...] = ()
    number: int = 0  # 1-based, as the producer sees it
    turns: tuple[TurnView, ...] = ()  # who says what; empty when the speakers are not known
    end: str = ""  # seconds; with start the fragment's link "#t=START,END"

    @property
    def span(self) -> str:
        """The fragment's media-fragment time: ``27,40`` (plays from 27 s and stops at 40 s)."""
        return time_span(self.start, self.end)


@dataclass(frozen=True)
class HighlightView:
    """A soundbite on the episode page ("Hoogtepunten"): plays from ``start`` to ``end``."""

    title: str  # the ingredient's name
    start: str  # seconds, for data-start and #t=
    end: str
    time: str  # "12:34"
    length: str  # "25 s"
    ingredient: IngredientRef | None = None


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
    end: str = ""

    @property
    def span(self) -> str:
        return time_span(self.start, self.end)


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
class FragmentLink:
    """A fragment on an ingredient, vlinder or speaker page: plays on the episode page."""

    episode: EpisodeCard
    href: str  # episode page + "#t=<start>,<end>"
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
    image_url: str = ""  # the podcast's artwork (absolute), for Open Graph and Twitter cards


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
    captions_href: str = ""  # the WebVTT transcript, as the audio's captions track
    highlights: tuple[HighlightView, ...] = ()  # the soundbites (pipeline.tagging.soundbites)


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
    hits: tuple[FragmentLink, ...]
    episode_count: int


@dataclass(frozen=True)
class VlinderListContent:
    vlinders: tuple[VlinderView, ...]


@dataclass(frozen=True)
class IngredientListContent:
    """Every ingredient, A to Z: (ref, description, fragments)."""

    ingredients: tuple[tuple[IngredientRef, str, int], ...]


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
    | IngredientListContent
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
    description: str = ""  # the meta description (and of the Open Graph and Twitter cards)
    og_type: str = "website"

    @property
    def root(self) -> str:
        """The relative way back to the site root: ``"../../"`` for ``a/b/index.html``."""
        return "../" * self.path.count("/")

    @property
    def url(self) -> str:
        return self.path.removesuffix("index.html")


def time_span(start: str, end: str = "") -> str:
    """A media-fragment time as Podlove and Podigee link it: ``START`` or ``START,END``
    (seconds), the part after ``#t=``."""
    return f"{start},{end}" if end else start


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
