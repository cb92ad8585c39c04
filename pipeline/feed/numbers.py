"""Season and episode numbers (``itunes:season``, ``itunes:episode``, ``podcast:season``,
``podcast:episode``), set by ``[podcast] seasons``:

* ``"year"`` (the default): the season is the year of the recording (``2025``), named so;
* ``"event"``: one season per event (``event`` in episode.toml), numbered 1, 2, ... in the
  order of each event's first episode and named after the event; an episode without an event
  has no season;
* ``"none"``: only the numbers written in episode.toml.

Within a season (or among the episodes without one) the full episodes are numbered 1, 2, ...
from the oldest; bonus episodes and trailers get the season but no number. A ``season`` or
``episode`` written in episode.toml always wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.core.models import Episode


@dataclass(frozen=True)
class EpisodeNumber:
    season: int | None = None
    season_name: str = ""  # podcast:season's name; "" for a season from episode.toml
    number: int | None = None


def _season(ep: Episode, mode: str, events: dict[str, int]) -> tuple[int | None, str]:
    if mode == "year":
        return ep.date.year, str(ep.date.year)
    if mode == "event" and ep.event.strip():
        return events[ep.event.strip()], ep.event.strip()
    return None, ""


def number_episodes(episodes: Sequence[Episode], mode: str) -> dict[str, EpisodeNumber]:
    """Per slug, the episode's season and number (pure)."""
    oldest = sorted(episodes, key=lambda e: (e.date, e.created, e.slug))
    events: dict[str, int] = {}
    for ep in oldest:
        name = ep.event.strip()
        if name and name not in events:
            events[name] = len(events) + 1
    counters: dict[int | None, int] = {}
    out: dict[str, EpisodeNumber] = {}
    for ep in oldest:
        season, name = _season(ep, mode, events) if mode != "none" else (None, "")
        number = None
        if mode != "none" and ep.episode_type == "full":
            counters[season] = number = counters.get(season, 0) + 1
        if ep.season is not None:
            season, name = ep.season, ""
        if ep.episode_number is not None:
            number = ep.episode_number
        out[ep.slug] = EpisodeNumber(season, name, number)
    return out
