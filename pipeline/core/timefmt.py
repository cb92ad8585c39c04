"""Times in seconds, as people read and type them: one formatter and one parser for all.

Every clock time in Vlinder (the site, the feed's chapter lines, the producer app, the CLI)
comes from :func:`clock`, which truncates: a fragment that starts at 74.6 s shows ``1:14``, so
playing from the time shown never skips its first word. :func:`cue_time` is the subtitle form
(``00:01:14.600``) and :func:`seconds_value` the value of a ``#t=`` link.
"""

from __future__ import annotations

import math
import re

from .errors import InputError

_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d{1,2}(?:[.,]\d+)?)$|^(\d+(?:[.,]\d+)?)$")


def clock(seconds: float, *, pad: bool = False) -> str:
    """``754.9`` -> ``'12:34'``; ``3723`` -> ``'1:02:03'``; ``75`` -> ``'1:15'``, or with
    ``pad`` ``'01:15'`` (the form Apple and Spotify turn into chapter links)."""
    total = max(0, int(seconds)) if math.isfinite(seconds) else 0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}" if pad else f"{minutes}:{secs:02d}"


def cue_time(seconds: float, sep: str = ".") -> str:
    """A subtitle timestamp: ``'00:01:14.600'`` (WebVTT) or with ``sep=','`` SubRip's form."""
    ms = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{sep}{ms:03d}"


def seconds_value(seconds: float) -> str:
    """The value of ``#t=`` and ``data-start``: seconds with at most one decimal."""
    value = round(max(0.0, seconds), 1)
    return f"{value:.1f}".rstrip("0").rstrip(".")


def parse_time(value: object, where: str = "") -> float:
    """Seconds from ``312``, ``312.5``, ``"312,5"``, ``"5:12"`` or ``"1:05:12"``.

    Raises :class:`InputError` (prefixed with ``where``, e.g. the file and table) otherwise.
    """
    prefix = f"{where}: " if where else ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 0:
            return float(value)
    elif isinstance(value, str):
        match = _CLOCK.match(value.strip())
        if match:
            if match.group(4) is not None:
                return float(match.group(4).replace(",", "."))
            hours = int(match.group(1) or 0)
            minutes = int(match.group(2))
            return hours * 3600 + minutes * 60 + float(match.group(3).replace(",", "."))
    raise InputError(f"{prefix}ongeldige tijd {value!r} (gebruik seconden, mm:ss of uu:mm:ss)")
