"""The producer's soundbite form ("Hoogtepunten") on an episode's page: for each ingredient the
episode speaks about, keep the automatic choice, pick another fragment (one of those tagged
with the ingredient, or the one playing at a time the producer types) or drop it.

Stored as ``[[soundbite_overrides]]`` in ``episodes/<slug>/episode.toml`` (format in
:mod:`pipeline.tagging.soundbites`): they survive every re-run, and the site and feeds follow
when the producer publishes. Nothing needs tagging again: the soundbites are chosen at build.

Form fields for row ``n`` (1-based): ``ingredient_n`` (the id), ``choice_n`` (``auto``,
``drop`` or ``at:<seconds>``) and ``at_n`` (a time, mm:ss; wins over ``choice_n`` when given).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pipeline.core.episodes import load_episode, save_episode
from pipeline.core.errors import InputError, VlinderError
from pipeline.core.models import Fragment
from pipeline.core.taxonomy import load_taxonomy
from pipeline.core.timefmt import clock, parse_time
from pipeline.core.workspace import Workspace
from pipeline.tagging import Soundbite, load_fragments, select_soundbites
from pipeline.tagging.soundbites import (
    KEY,
    SoundbiteChoice,
    override_tables,
    parse_soundbite_overrides,
)

Form = Mapping[str, Any]
EXCERPT = 70  # characters of a fragment's text in the choice list


@dataclass(frozen=True)
class Option:
    value: str  # "at:<seconds>"
    label: str  # "12:40 · Na een paar maanden ..."
    selected: bool = False


@dataclass(frozen=True)
class SoundbiteRow:
    """One ingredient in the form."""

    ingredient: str
    title: str
    current: Soundbite | None  # None: dropped (or no fragment fits)
    mode: str  # auto | drop | at (the producer's choice so far)
    options: tuple[Option, ...]  # the fragments tagged with this ingredient


@dataclass(frozen=True)
class SoundbiteForm:
    rows: tuple[SoundbiteRow, ...] = ()
    problems: tuple[str, ...] = ()  # corrections in episode.toml that cannot be applied
    note: str = ""  # why there is nothing to choose


def _excerpt(f: Fragment) -> str:
    text = " ".join(f.text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def _titles(ws: Workspace) -> dict[str, str]:
    return {i.id: i.title for i in load_taxonomy(ws).ingredients}


def soundbite_form(ws: Workspace, slug: str) -> SoundbiteForm:
    """What the form shows: the soundbites as the site and feeds will have them."""
    ep = load_episode(ws, slug)
    try:
        loaded = load_fragments(ws, slug)
        titles = _titles(ws)
    except VlinderError as exc:
        return SoundbiteForm(note=f"De hoogtepunten kunnen niet bepaald worden: {exc}")
    if not loaded or not loaded[1]:
        return SoundbiteForm(note="Nog geen fragmenten, dus nog geen hoogtepunten.")
    fragments = sorted(loaded[1], key=lambda f: f.start)
    chosen = select_soundbites(fragments, ep.overrides, titles)
    current = {sb.ingredient: sb for sb in chosen.soundbites}
    try:
        choices = {c.ingredient: c for c in parse_soundbite_overrides(ep.overrides)}
    except InputError:
        choices = {}
    spoken = {t.ingredient for f in fragments for t in f.tags}
    order = sorted(spoken | set(choices), key=lambda i: (titles.get(i) or i).casefold())
    rows = []
    for ingredient in order:
        if ingredient not in titles:
            continue
        choice = choices.get(ingredient)
        mode = "auto" if choice is None else "drop" if choice.at is None else "at"
        sb = current.get(ingredient)
        tagged = [f for f in fragments if any(t.ingredient == ingredient for t in f.tags)]
        options = tuple(
            Option(
                f"at:{f.start:g}",
                f"{clock(f.start)} · {_excerpt(f)}",
                selected=mode == "at" and sb is not None and sb.fragment == f.index,
            )
            for f in tagged
        )
        rows.append(SoundbiteRow(ingredient, titles[ingredient], sb, mode, options))
    return SoundbiteForm(tuple(rows), chosen.problems)


def _choice(form: Form, n: int, ingredient: str) -> SoundbiteChoice | None:
    """The producer's choice in row ``n``; None keeps the automatic one."""
    typed = str(form.get(f"at_{n}", "")).strip()
    if typed:
        return SoundbiteChoice(ingredient, parse_time(typed, f"hoogtepunt '{ingredient}'"))
    value = str(form.get(f"choice_{n}", "auto")).strip()
    if value == "auto":
        return None
    if value == "drop":
        return SoundbiteChoice(ingredient, None)
    if value.startswith("at:"):
        return SoundbiteChoice(ingredient, parse_time(value[3:], f"hoogtepunt '{ingredient}'"))
    raise InputError(f"hoogtepunt '{ingredient}': ongeldige keuze")


def save_soundbites(ws: Workspace, slug: str, form: Form) -> str:
    """Store the form's choices as ``[[soundbite_overrides]]`` (checked first: a time with no
    fragment that fits 15 to 60 s is refused with one line, and nothing is written)."""
    titles = _titles(ws)
    posted: dict[str, SoundbiteChoice | None] = {}
    n = 1
    while f"ingredient_{n}" in form:
        ingredient = str(form.get(f"ingredient_{n}", "")).strip()
        if ingredient not in titles:
            raise InputError(f"onbekend ingrediënt '{ingredient}'")
        posted[ingredient] = _choice(form, n, ingredient)
        n += 1
    if not posted:
        raise InputError("er zijn geen hoogtepunten om aan te passen")
    with ws.lock():
        ep = load_episode(ws, slug)
        try:
            before = parse_soundbite_overrides(ep.overrides)
        except InputError:
            before = ()  # a broken hand edit is replaced by the form's choices
        kept = [c for c in before if c.ingredient not in posted]
        new = kept + [c for c in posted.values() if c is not None]
        tables = override_tables(new)
        overrides = {k: v for k, v in ep.overrides.items() if k != KEY}
        if tables:
            overrides[KEY] = tables
        loaded = load_fragments(ws, slug)
        fragments = loaded[1] if loaded else []
        for choice in posted.values():
            if choice is not None and choice.at is not None:
                alone = {KEY: override_tables([choice])}
                problems = select_soundbites(fragments, alone, titles).problems
                if problems:
                    reason = problems[0].rsplit(": ", 1)[-1]
                    raise InputError(f"hoogtepunt '{titles[choice.ingredient]}': {reason}")
        if overrides == ep.overrides:
            return "Er was niets veranderd aan de hoogtepunten."
        save_episode(ws, replace(ep, overrides=overrides))
    return "De hoogtepunten zijn opgeslagen. Publiceer om de site en feeds bij te werken."
