"""Soundbites: for each ingredient an episode speaks about, its best fragment, 15 to 60 s of
whole sentences, titled with the ingredient's name. The feed writes them as
``<podcast:soundbite>``, the site shows them as highlights ("Hoogtepunten"); both take them
from :func:`select_soundbites`, so they always agree.

The choice: for each ingredient, the fragment with the strongest tag (its score; the earlier
fragment on a tie). Fragments are cut on sentence boundaries from the word timings
(:mod:`.segment`), so a soundbite is whole sentences: a fragment shorter than 15 s is joined
with the fragment after it (or before it, at the end), up to 60 s; a fragment that cannot be
brought within 15 to 60 s that way (one sentence longer than a minute) is passed over. Each
ingredient gets a fragment of its own while there is one: the ingredient with the fewest
fragments chooses first (the strongest first among equals), and the next takes its strongest
fragment that is still free.

The producer's corrections in ``episodes/<slug>/episode.toml`` survive every re-run::

    [[soundbite_overrides]]
    ingredient = "een-team"      # the soundbite of this ingredient ...
    at = "12:40"                 # ... is the fragment playing at 12:40 (or seconds: 760)

    [[soundbite_overrides]]
    ingredient = "bestuurlijk-lef"
    drop = true                  # no soundbite for this ingredient

Like the tag corrections, a choice is addressed by time, not by fragment number, so it still
points at the same words when the fragments are cut differently.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.core.errors import InputError
from pipeline.core.models import Fragment
from pipeline.core.timefmt import clock, parse_time

KEY = "soundbite_overrides"
MIN_SECONDS = 15.0
MAX_SECONDS = 60.0


@dataclass(frozen=True)
class Soundbite:
    """One soundbite: ``start`` and ``end`` in seconds (on a tenth of a second, never cutting
    into the first or last word), the ingredient and its title."""

    ingredient: str
    title: str
    start: float
    end: float
    fragment: int  # index of the (first) fragment it is made of
    source: str = "auto"  # auto | manual (the producer chose the fragment)

    @property
    def duration(self) -> float:
        return round(self.end - self.start, 1)


@dataclass(frozen=True)
class SoundbiteChoice:
    """A producer's correction: ``at`` picks the fragment playing then; ``at=None`` drops."""

    ingredient: str
    at: float | None


@dataclass(frozen=True)
class Selection:
    """The soundbites of an episode, in time order, and the corrections that could not be
    applied (Dutch lines; the automatic choice stands for those)."""

    soundbites: tuple[Soundbite, ...]
    problems: tuple[str, ...] = ()


def parse_soundbite_overrides(
    raw: Mapping[str, Any], origin: str = "episode.toml"
) -> tuple[SoundbiteChoice, ...]:
    """Validate the ``[[soundbite_overrides]]`` tables; raises :class:`InputError`."""
    tables = raw.get(KEY, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise InputError(f"{origin}: '{KEY}' moet een lijst van tabellen zijn ([[{KEY}]])")
    out = []
    for n, table in enumerate(tables, start=1):
        where = f"{origin}: [[{KEY}]] nr. {n}"
        ingredient = table.get("ingredient")
        if not isinstance(ingredient, str) or not ingredient.strip():
            raise InputError(f"{where}: 'ingredient' moet een ingrediënt-id zijn")
        drop = table.get("drop", False)
        if not isinstance(drop, bool):
            raise InputError(f"{where}: 'drop' moet true of false zijn")
        if drop == ("at" in table):
            raise InputError(f"{where}: geef 'at' (tijd van het fragment) of 'drop = true'")
        at = None if drop else parse_time(table["at"], where)
        out.append(SoundbiteChoice(ingredient.strip(), at))
    return tuple(out)


def override_tables(choices: Sequence[SoundbiteChoice]) -> list[dict[str, Any]]:
    """The corrections as ``episode.toml`` tables (one per ingredient, the last one wins)."""
    last = {c.ingredient: c for c in choices}
    return [
        {"ingredient": c.ingredient, "drop": True}
        if c.at is None
        else {"ingredient": c.ingredient, "at": clock(c.at)}
        for c in last.values()
    ]


def span_of(fragments: Sequence[Fragment], k: int) -> tuple[int, int] | None:
    """The fragments ``k..j`` (indices into ``fragments``, in time order) that make fragment
    ``k``'s soundbite: ``k`` itself, joined with its neighbours (after it first) until it lasts
    at least :data:`MIN_SECONDS`, never more than :data:`MAX_SECONDS`; None when impossible."""
    lo = hi = k

    def length(a: int, b: int) -> float:
        return fragments[b].end - fragments[a].start

    if length(lo, hi) > MAX_SECONDS:
        return None
    while length(lo, hi) < MIN_SECONDS:
        if hi + 1 < len(fragments) and length(lo, hi + 1) <= MAX_SECONDS:
            hi += 1
        elif lo > 0 and length(lo - 1, hi) <= MAX_SECONDS:
            lo -= 1
        else:
            return None
    return lo, hi


def _fragment_at(fragments: Sequence[Fragment], at: float) -> int | None:
    for k, f in enumerate(fragments):
        last = k == len(fragments) - 1
        if f.start <= at < f.end or (last and f.start <= at <= f.end + 1e-6):
            return k
    before = [k for k, f in enumerate(fragments) if f.start <= at]
    if before and at <= fragments[-1].end:  # in a pause between fragments
        return before[-1]
    return None


def _make(
    fragments: Sequence[Fragment], span: tuple[int, int], ingredient: str, title: str, source: str
) -> Soundbite:
    lo, hi = span
    start = math.floor(fragments[lo].start * 10 + 1e-6) / 10
    end = math.ceil(fragments[hi].end * 10 - 1e-6) / 10
    return Soundbite(ingredient, title, start, end, fragments[lo].index, source)


def _overlaps(span: tuple[int, int], used: Sequence[tuple[int, int]]) -> bool:
    return any(span[0] <= b and a <= span[1] for a, b in used)


def _auto_choices(fragments: Sequence[Fragment]) -> dict[str, list[int]]:
    """Per ingredient, its fragments (indices), strongest tag first (earlier on a tie)."""
    scored: dict[str, list[tuple[float, int]]] = {}
    for k, f in enumerate(fragments):
        for t in f.tags:
            scored.setdefault(t.ingredient, []).append((-t.score, k))
    return {i: [k for _, k in sorted(pairs)] for i, pairs in scored.items()}


def select_soundbites(
    fragments: Sequence[Fragment],
    overrides: Mapping[str, Any],
    titles: Mapping[str, str],
    origin: str = "episode.toml",
) -> Selection:
    """Pure: the soundbites of an episode from its tagged fragments and the producer's
    corrections (``overrides``: the episode's extra TOML tables); ``titles``: ingredient id ->
    its name. A correction that cannot be applied is reported in ``problems``."""
    frags = sorted(fragments, key=lambda f: f.start)
    problems: list[str] = []
    try:
        choices = {c.ingredient: c for c in parse_soundbite_overrides(overrides, origin)}
    except InputError as exc:
        choices, problems = {}, [str(exc)]
    chosen: dict[str, Soundbite] = {}
    used: list[tuple[int, int]] = []
    for ingredient, choice in choices.items():
        if choice.at is None:
            continue
        where = f"{origin}: [[{KEY}]] {ingredient}"
        if ingredient not in titles:
            problems.append(f"{where}: onbekend ingrediënt (zie taxonomy.toml)")
            continue
        k = _fragment_at(frags, choice.at)
        span = span_of(frags, k) if k is not None else None
        if k is None:
            problems.append(f"{where}: geen fragment op {clock(choice.at)}")
        elif span is None:
            problems.append(
                f"{where}: het fragment op {clock(choice.at)} past niet in "
                f"{MIN_SECONDS:.0f} tot {MAX_SECONDS:.0f} seconden"
            )
        if span is not None:
            chosen[ingredient] = _make(frags, span, ingredient, titles[ingredient], "manual")
            used.append(span)
    candidates: dict[str, list[tuple[int, int]]] = {}
    for ingredient, ks in _auto_choices(frags).items():
        dropped = ingredient in choices and choices[ingredient].at is None
        spans = [s for s in (span_of(frags, k) for k in ks) if s is not None]
        if spans and ingredient not in chosen and not dropped:
            candidates[ingredient] = spans
    # The ingredient with the fewest fragments chooses first, then the strongest.
    order = sorted(candidates, key=lambda i: (len(candidates[i]), -max(_scores(frags, i)), i))
    for ingredient in order:
        spans = candidates[ingredient]
        span = next((s for s in spans if not _overlaps(s, used)), spans[0])
        used.append(span)
        chosen[ingredient] = _make(
            frags, span, ingredient, titles.get(ingredient, ingredient), "auto"
        )
    ordered = sorted(chosen.values(), key=lambda s: (s.start, s.ingredient))
    return Selection(tuple(ordered), tuple(problems))


def _scores(fragments: Sequence[Fragment], ingredient: str) -> list[float]:
    return [t.score for f in fragments for t in f.tags if t.ingredient == ingredient]
