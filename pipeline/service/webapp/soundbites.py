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

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pipeline.core.episodes import load_episode, save_episode
from pipeline.core.errors import ConflictError, InputError, VlinderError
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
    loaded: str = "auto"  # the choice as the form was loaded (hidden ``was_n``): see save


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
        if choice is not None and choice.at is not None and not any(o.selected for o in options):
            # a typed time outside the list: offered as chosen, so saving another row keeps it
            typed = Option(_key(choice), f"{clock(choice.at)} · gekozen tijd", selected=True)
            options = (*options, typed)
        rows.append(SoundbiteRow(ingredient, titles[ingredient], sb, mode, options, _key(choice)))
    return SoundbiteForm(tuple(rows), chosen.problems)


def _key(choice: SoundbiteChoice | None) -> str:
    """A choice as text, to compare what the form loaded, what it posts and what is stored."""
    if choice is None:
        return "auto"
    return "drop" if choice.at is None else f"at:{choice.at:g}"


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
    tagged = load_fragments(ws, slug)
    fragments = sorted(tagged[1], key=lambda f: f.start) if tagged else []

    def same(key: str) -> str:
        """A choice by its effect: a time means the fragment playing then ("at:65" is the
        fragment from 62 s, as its entry in the list says)."""
        if key.startswith("at:"):
            with contextlib.suppress(ValueError):
                at = float(key[3:])
                hit = next((f for f in fragments if f.start <= at < f.end), None)
                return f"at:{hit.start:g}" if hit else key
        return key

    posted: dict[str, SoundbiteChoice | None] = {}
    loaded: dict[str, str] = {}  # what the form was loaded with, per ingredient
    n = 1
    while f"ingredient_{n}" in form:
        ingredient = str(form.get(f"ingredient_{n}", "")).strip()
        if ingredient not in titles:
            raise InputError(f"onbekend ingrediënt '{ingredient}'")
        was = form.get(f"was_{n}")
        if not isinstance(was, str):
            raise ConflictError(
                "dit formulier is verouderd; laad de pagina opnieuw, er is niets opgeslagen"
            )
        choice = _choice(form, n, ingredient)
        if same(_key(choice)) != same(was):  # only what this producer changed is applied
            posted[ingredient], loaded[ingredient] = choice, was
        n += 1
    if n == 1:
        raise InputError("er zijn geen hoogtepunten om aan te passen")
    with ws.lock():
        ep = load_episode(ws, slug)
        try:
            before = parse_soundbite_overrides(ep.overrides)
        except InputError:
            before = ()  # a broken hand edit is replaced by the form's choices
        now = {c.ingredient: c for c in before}
        clashes = [titles[i] for i, was in loaded.items() if same(_key(now.get(i))) != same(was)]
        if clashes:  # someone else changed the same ingredient meanwhile: never overwrite it
            raise ConflictError(
                f"de hoogtepunten van {', '.join(clashes)} zijn intussen door iemand anders "
                "gewijzigd; er is niets opgeslagen, bekijk ze en kies opnieuw"
            )
        kept = [c for c in before if c.ingredient not in posted]
        new = kept + [c for c in posted.values() if c is not None]
        tables = override_tables(new)
        overrides = {k: v for k, v in ep.overrides.items() if k != KEY}
        if tables:
            overrides[KEY] = tables
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
