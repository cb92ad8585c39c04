"""Text made safe for XML right before the feeds are written: every string in the feed input
is cleaned again (:func:`pipeline.core.text.clean_text`), so one control character pasted
into an episode, a chapter title or a setting never stops publishing (lxml refuses it)."""

from __future__ import annotations

import dataclasses
from typing import Any

from pipeline.core.text import clean_text


def cleaned(value: Any) -> Any:
    """``value`` with every string in it cleaned: dataclasses (their init fields), tuples,
    lists and dicts are walked; anything else is returned as it is. Unchanged parts stay the
    same objects."""
    if isinstance(value, str):
        return clean_text(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for f in dataclasses.fields(value):
            if not f.init:
                continue
            old = getattr(value, f.name)
            new = cleaned(old)
            if new is not old:
                changes[f.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, tuple | list):
        items = [cleaned(v) for v in value]
        if all(a is b for a, b in zip(items, value, strict=True)):
            return value
        if isinstance(value, list):
            return items
        return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
    if isinstance(value, dict):
        pairs = {cleaned(k): cleaned(v) for k, v in value.items()}
        if all(k in value and pairs[k] is value[k] for k in pairs) and len(pairs) == len(value):
            return value
        return pairs
    return value
