"""The producer's speaker corrections in ``episodes/<slug>/episode.toml``: they survive every
re-run, like the chapter and tag corrections::

    [[speaker_overrides]]
    rename = "Spreker 3"          # a name, for the whole episode
    to = "Cees de Wit"

    [[speaker_overrides]]
    swap = ["Anna Jansen", "Bram de Vries"]   # the two names change places everywhere

    [[speaker_overrides]]
    at = "12:40"                  # the turn playing at 12:40 (or seconds: 760) ...
    speaker = "Bram de Vries"     # ... is Bram's

A turn is the run of consecutive segments of one speaker. Corrections are applied in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pipeline.core.errors import InputError
from pipeline.core.models import Segment
from pipeline.core.timefmt import parse_time

KEY = "speaker_overrides"


@dataclass(frozen=True)
class Rename:
    old: str
    new: str


@dataclass(frozen=True)
class Swap:
    a: str
    b: str


@dataclass(frozen=True)
class Reassign:
    at: float
    speaker: str


Correction = Rename | Swap | Reassign


def _name(value: object, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: '{key}' moet een naam zijn")
    if "<" in value or ">" in value:
        raise InputError(f"{where}: '{key}' bevat < of >: geef alleen de naam")
    return value.strip()


def _parse_one(table: dict[str, Any], where: str) -> Correction:
    if "rename" in table:
        return Rename(_name(table["rename"], where, "rename"), _name(table.get("to"), where, "to"))
    if "swap" in table:
        pair = table["swap"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise InputError(f'{where}: \'swap\' moet twee namen zijn, bijv. ["Anna", "Bram"]')
        return Swap(_name(pair[0], where, "swap"), _name(pair[1], where, "swap"))
    if "at" in table:
        return Reassign(
            parse_time(table["at"], where), _name(table.get("speaker"), where, "speaker")
        )
    raise InputError(f"{where}: geef 'rename' en 'to', 'swap', of 'at' en 'speaker'")


def parse_speaker_overrides(raw: dict[str, Any], origin: str = "episode.toml") -> list[Correction]:
    """Validate the ``[[speaker_overrides]]`` tables of an episode file."""
    tables = raw.get(KEY, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise InputError(f"{origin}: '{KEY}' moet een lijst van tabellen zijn ([[{KEY}]])")
    return [_parse_one(table, f"{origin}: [[{KEY}]] nr. {n}") for n, table in enumerate(tables, 1)]


def _renamed(name: str | None, c: Rename | Swap) -> str | None:
    if isinstance(c, Rename):
        return c.new if name == c.old else name
    return c.b if name == c.a else c.a if name == c.b else name


def _turn_at(segments: Sequence[Segment], at: float) -> range:
    """The indices of the turn (run of one speaker's segments) playing at ``at``."""
    hit = next((i for i, s in enumerate(segments) if s.start <= at < s.end), None)
    if hit is None:  # in a pause: the segment that ends last before it
        before = [i for i, s in enumerate(segments) if s.end <= at]
        hit = before[-1] if before else 0
    speaker = segments[hit].speaker
    lo = hit
    while lo > 0 and segments[lo - 1].speaker == speaker:
        lo -= 1
    hi = hit + 1
    while hi < len(segments) and segments[hi].speaker == speaker:
        hi += 1
    return range(lo, hi)


def _with_speaker(seg: Segment, speaker: str | None) -> Segment:
    words = tuple(replace(w, speaker=speaker) for w in seg.words)
    return replace(seg, speaker=speaker, words=words)


def apply_speaker_overrides(
    segments: Sequence[Segment], corrections: Sequence[Correction]
) -> list[Segment]:
    """Pure: the segments (and their words) with the corrections applied, in order."""
    out = list(segments)
    for c in corrections:
        if isinstance(c, Reassign):
            if out:
                for i in _turn_at(out, c.at):
                    out[i] = _with_speaker(out[i], c.speaker)
        else:
            out = [_with_speaker(s, _renamed(s.speaker, c)) for s in out]
    return out
