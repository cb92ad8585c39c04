"""The site's search records: one per fragment, so a search result is the fragment itself.

Each record is what Pagefind indexes for one fragment (or, for an episode that is not tagged
yet, one block of its transcript): its words (plus the extra index words of
:func:`pipeline.site.pagefind.search_terms`), a link that plays exactly that fragment
(``#t=START,END``) and the filters of that fragment, not of its whole episode: the speaker
filter finds the fragments where that person speaks, the ingredient filter the fragments tagged
with it. Built from the episode page's context, so the search shows what the page shows.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from .contexts import ChapterView, EpisodeContent, FragmentView, episode_href
from .pagefind import search_terms

# Filter names as the search page shows them (Pagefind's filter UI).
EPISODE, SPEAKER, INGREDIENT, VLINDER = "aflevering", "spreker", "ingrediënt", "vlinder"


@dataclass(frozen=True)
class SearchRecord:
    url: str  # root-relative: "/afleveringen/<slug>/#t=27,40"
    title: str
    content: str
    meta: tuple[tuple[str, str], ...]
    filters: tuple[tuple[str, tuple[str, ...]], ...]

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


def _speakers(fragment: FragmentView, content: EpisodeContent) -> tuple[str, ...]:
    """Who speaks in the fragment: its turns when the speakers were found, else the episode's
    speakers (a talk by one person)."""
    if fragment.turns:
        return tuple(dict.fromkeys(t.speaker for t in fragment.turns))
    return tuple(s.text for s in content.card.speakers)


def _record(content: EpisodeContent, chapter: ChapterView, f: FragmentView) -> SearchRecord:
    card = content.card
    speakers = _speakers(f, content)
    ingredients = tuple(dict.fromkeys(r.title for r in f.ingredients))
    vlinders = tuple(dict.fromkeys(r.vlinder_title for r in f.ingredients if r.vlinder_title))
    terms = search_terms(f.text)
    meta = [("datum", card.date_text)]
    if chapter.title:
        meta.append(("hoofdstuk", chapter.title))
    if speakers:
        meta.append(("sprekers", ", ".join(speakers)))
    filters = [(EPISODE, (card.title,)), (SPEAKER, speakers), (INGREDIENT, ingredients)]
    filters.append((VLINDER, vlinders))
    return SearchRecord(
        url=f"/{episode_href(card.slug)}#t={f.span}",
        title=f"{card.title} · {f.time}",
        content=f"{f.text} ⟦ {terms} ⟧" if terms else f.text,
        meta=tuple(meta),
        filters=tuple((name, values) for name, values in filters if values),
    )


def episode_records(content: EpisodeContent) -> tuple[SearchRecord, ...]:
    """The search records of one episode page: one per fragment, in the page's order."""
    return tuple(
        _record(content, chapter, f) for chapter in content.chapters for f in chapter.fragments
    )
