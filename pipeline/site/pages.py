"""The pages of the site as typed contexts (:mod:`pipeline.site.contexts`), built from a
:class:`~pipeline.site.inputs.SiteInput` by :func:`plan` without any I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from pipeline.core.episodes import slugify
from pipeline.core.models import Chapter, Episode, Fragment, Segment
from pipeline.core.timefmt import clock, seconds_value
from pipeline.tagging.soundbites import select_soundbites

from .contexts import (
    ChapterView,
    EpisodeCard,
    EpisodeContent,
    EpisodeListContent,
    FragmentLink,
    FragmentListContent,
    FragmentView,
    HighlightView,
    HomeContent,
    IngredientListContent,
    IngredientRef,
    Link,
    Page,
    SearchContent,
    SiteInfo,
    SpeakerContent,
    SpeakerListContent,
    Subscribe,
    TimelineMark,
    TimelineRow,
    TurnView,
    VlinderListContent,
    VlinderView,
    app_links,
    episode_href,
    ingredient_href,
    speaker_href,
    time_span,
    vlinder_href,
)
from .inputs import SEGMENT_BLOCK, EpisodeSource, IngredientInfo, SiteInput, VlinderSource

LATEST = 10  # episodes on the home page


DOWNLOADS = (("vtt", "WebVTT"), ("srt", "SRT"), ("txt", "tekst"), ("json", "JSON"))


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


def fmt_date(date: dt.date) -> str:
    return f"{date.day} {MONTHS[date.month - 1]} {date.year}"


def fmt_duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} u {minutes % 60:02d} min"


@dataclass
class _Index:
    """Look-ups shared by the page builders."""

    inp: SiteInput
    ingredients: dict[str, IngredientInfo] = field(default_factory=dict)
    vlinders: dict[str, VlinderSource] = field(default_factory=dict)
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


def _episode_ingredients(item: EpisodeSource) -> tuple[str, ...]:
    weights: dict[str, float] = {}
    for f in item.fragments:
        for t in f.tags:
            weights[t.ingredient] = weights.get(t.ingredient, 0.0) + t.score
    return tuple(k for k, _ in sorted(weights.items(), key=lambda kv: (-kv[1], kv[0])))


def _card(item: EpisodeSource, idx: _Index) -> EpisodeCard:
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
        start=seconds_value(f.start),
        time=clock(f.start),
        text=f.text.strip(),
        ingredients=tuple(idx.ref(i) for i in _tag_ids(f)),
        number=f.index + 1,
        turns=_turns(f),
        end=seconds_value(f.end),
    )


def _turns(f: Fragment) -> tuple[TurnView, ...]:
    """The fragment's turns, when more than one person speaks in the episode's transcript."""
    return tuple(
        TurnView(t.speaker, seconds_value(t.start), clock(t.start), t.text) for t in f.turns
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
        start=seconds_value(first.start),
        time=clock(first.start),
        text=" ".join(s.text.strip() for s in segs),
        end=seconds_value(segs[-1].end),
    )


def _chapters(item: EpisodeSource, idx: _Index) -> tuple[ChapterView, ...]:
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
                start=seconds_value(c.start),
                time=clock(c.start),
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


def _timeline(item: EpisodeSource, idx: _Index) -> tuple[TimelineRow, ...]:
    duration = item.episode.duration or (item.fragments[-1].end if item.fragments else 0.0)
    if duration <= 0:
        return ()
    marks: dict[str, list[TimelineMark]] = {}
    for f in item.fragments:
        left = max(0.0, min(100.0, 100.0 * f.start / duration))
        width = max(0.6, min(100.0 - left, 100.0 * (f.end - f.start) / duration))
        mark = TimelineMark(
            f.anchor(),
            seconds_value(f.start),
            clock(f.start),
            round(left, 2),
            round(width, 2),
            end=seconds_value(f.end),
        )
        for ing in _tag_ids(f):
            marks.setdefault(ing, []).append(mark)
    order = [i for i in _episode_ingredients(item) if i in marks]
    return tuple(TimelineRow(idx.ref(i), tuple(marks[i])) for i in order)


def _highlights(item: EpisodeSource, idx: _Index) -> tuple[HighlightView, ...]:
    """The episode's soundbites, as the feed has them (corrections that cannot be applied are
    reported by the feed build)."""
    if not item.fragments or item.audio is None:
        return ()
    titles = {i.id: i.title for i in idx.inp.ingredients}
    chosen = select_soundbites(item.fragments, item.episode.overrides, titles)
    return tuple(
        HighlightView(
            title=sb.title,
            start=seconds_value(sb.start),
            end=seconds_value(sb.end),
            time=clock(sb.start),
            length=f"{round(sb.duration)} s",
            ingredient=idx.ref(sb.ingredient) if sb.ingredient in idx.ingredients else None,
        )
        for sb in chosen.soundbites
    )


def _downloads(item: EpisodeSource) -> tuple[Link, ...]:
    slug = item.episode.slug
    return tuple(
        Link(f"transcripts/{slug}.{ext}", label)
        for ext, label in DOWNLOADS
        if ext in item.transcript_files
    )


def _hits(items: Sequence[tuple[EpisodeSource, Fragment]], idx: _Index) -> tuple[FragmentLink, ...]:
    return tuple(
        FragmentLink(
            episode=idx.cards[item.episode.slug],
            href=f"{episode_href(item.episode.slug)}#t="
            + time_span(seconds_value(f.start), seconds_value(f.end)),
            time=clock(f.start),
            text=f.text.strip(),
            ingredients=tuple(idx.ref(i) for i in _tag_ids(f)),
        )
        for item, f in items
    )


def _episode_summary(ep: Episode, site_title: str) -> str:
    """The meta description of an episode without a description of its own."""
    kind = "Een interview" if ep.kind == "interview" else "Een lezing"
    who = f" met {', '.join(ep.speakers)}" if ep.speakers else ""
    return f"{kind}{who} in {site_title}, {fmt_date(ep.date)}: beluister het, met het transcript."


def _ingredient_list(
    inp: SiteInput,
    site: SiteInfo,
    idx: _Index,
    tagged: dict[str, list[tuple[EpisodeSource, Fragment]]],
) -> Page:
    """``ingredienten/``: every ingredient, A to Z."""
    items = sorted(inp.ingredients, key=lambda i: i.title.casefold())
    return Page(
        "ingredienten/index.html",
        "ingredients.html",
        "Ingrediënten",
        "vlinders",
        site,
        IngredientListContent(
            tuple((idx.ref(i.id), i.description, len(tagged.get(i.id, ()))) for i in items)
        ),
        description=f"Alle ingrediënten van de vlinders van {inp.title}, van A tot Z, "
        "elk met de fragmenten waarin het ter sprake komt.",
    )


def plan(inp: SiteInput, *, bundles: Sequence[str] = ()) -> list[Page]:
    """All pages of the site as typed contexts. Pure: no I/O."""
    idx = _Index(inp)
    idx.ingredients = {i.id: i for i in inp.ingredients}
    idx.vlinders = {v.id: v for v in inp.vlinders}
    for item in inp.episodes:
        idx.cards[item.episode.slug] = _card(item, idx)

    main_feed = "feeds/podcast.xml" if "podcast.xml" in inp.feeds else ""
    site = SiteInfo(
        inp.title,
        inp.subtitle,
        inp.description,
        inp.author,
        inp.base_url,
        main_feed,
        inp.image_url,
    )
    pages: list[Page] = []

    # Fragments per ingredient, in episode order (newest first) and time.
    tagged: dict[str, list[tuple[EpisodeSource, Fragment]]] = {}
    for item in inp.episodes:
        for f in item.fragments:
            for ing in _tag_ids(f):
                tagged.setdefault(ing, []).append((item, f))

    def vlinder_view(v: VlinderSource) -> VlinderView:
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
            description=f"Alle {len(cards)} afleveringen van {inp.title}: lezingen en "
            "interviews, elk met transcript en de ingrediënten per fragment.",
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
                    captions_href=f"transcripts/{ep.slug}.vtt"
                    if "vtt" in item.transcript_files
                    else "",
                    highlights=_highlights(item, idx),
                ),
                description=ep.description.strip() or _episode_summary(ep, inp.title),
                og_type="article",
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
                description=info.description
                or f"Alle fragmenten over '{info.title}' in de afleveringen van {inp.title}.",
            )
        )
    pages.append(_ingredient_list(inp, site, idx, tagged))
    pages.append(
        Page(
            "vlinders/index.html",
            "vlinders.html",
            "Vlinders en ingrediënten",
            "vlinders",
            site,
            VlinderListContent(vlinder_views),
            description=f"De vlinders van {inp.title}: korte lessen uit het project, elk met "
            "zijn ingrediënten en de fragmenten waarin die ter sprake komen.",
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
                description=v.description
                or f"De vlinder '{v.title}' en de fragmenten over zijn ingrediënten in {inp.title}.",
            )
        )
    speakers: dict[str, tuple[str, list[EpisodeSource]]] = {}
    for item in inp.episodes:
        for name in item.episode.speakers:
            speakers.setdefault(slugify(name), (name, []))[1].append(item)
    for slug, (name, items) in sorted(speakers.items()):
        counts: dict[str, int] = {}
        for item in items:
            for f in item.fragments:
                for ing in _tag_ids(f):
                    counts[ing] = counts.get(ing, 0) + 1
        topics = tuple(
            (idx.ref(i), n)
            for i, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            if i in idx.ingredients
        )
        about = ", ".join(ref.title for ref, _ in topics[:3])
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
                    ingredients=topics,
                ),
                description=f"De afleveringen met {name} in {inp.title}"
                + (f", over onder meer {about}." if about else "."),
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
            description=f"De sprekers in {inp.title}, met hun afleveringen.",
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
            description=f"Zoek in de transcripten van alle afleveringen van {inp.title}, en "
            "speel elk fragment af vanaf het moment waarop het gezegd wordt.",
        )
    )
    return pages
