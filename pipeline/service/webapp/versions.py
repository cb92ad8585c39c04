"""Optimistic concurrency for the producer's edit forms.

Each form is made of *units* (a transcript segment, a metadata field, a chapter, a fragment's
tags), each with a canonical text. The form carries the version of what it was loaded from
(``version``: a hash over every unit) and the hash of each unit (``h_<unit>``). On save:

* the units the producer changed are those whose posted text differs from what the form was
  loaded with; only those are applied, so an untouched field never puts back an old value;
* when the file changed meanwhile (another version), a changed unit is still applied when that
  unit itself is as it was loaded (a safe merge: different segments, different fields);
* a unit changed both here and there (to different texts) is a conflict: nothing is saved and
  the caller answers 409.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VERSION_FIELD = "version"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def version(units: Mapping[str, str]) -> str:
    """The version of a form's content: a hash over every unit's hash."""
    return digest("\n".join(f"{key}={digest(text)}" for key, text in sorted(units.items())))


def hashes(units: Mapping[str, str]) -> dict[str, str]:
    """What the form carries per unit (hidden fields ``h_<unit>``)."""
    return {key: digest(text) for key, text in units.items()}


@dataclass(frozen=True)
class Merge:
    """What to apply (unit -> its new canonical text), and what could not be."""

    changes: dict[str, str]
    conflicts: tuple[str, ...]
    stale: bool  # the content had changed since the form was loaded
    missing_version: bool = False


def merge(current: Mapping[str, str], posted: Mapping[str, str], form: Mapping[str, Any]) -> Merge:
    """Three-way: the form's base (its hashes), the current content and the posted content."""
    given = form.get(VERSION_FIELD)
    if not isinstance(given, str) or not given:
        return Merge({}, tuple(posted), True, missing_version=True)
    stale = given != version(current)
    changes: dict[str, str] = {}
    conflicts: list[str] = []
    for unit, new in posted.items():
        now = current.get(unit)
        if not stale:
            base = digest(now) if now is not None else None
        else:
            value = form.get(f"h_{unit}")
            base = value if isinstance(value, str) and value else None
        if base is not None and digest(new) == base:
            continue  # not changed in this form
        if now is not None and new == now:
            continue  # already so (changed the same way elsewhere)
        if base is None or now is None or digest(now) != base:
            conflicts.append(unit)
            continue
        changes[unit] = new
    return Merge(changes, tuple(conflicts), stale)
