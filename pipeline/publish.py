"""``vlinder build``: the feeds, then the site. Each stage module owns its own output."""

from __future__ import annotations

from typing import Any

from .db import open_catalogue
from .episodes import load_episode
from .feed import FeedReport, build_feeds
from .workspace import Workspace


def _site_builder() -> Any:
    """``pipeline.site.build_site`` when the site stage is installed, else None."""
    try:
        from . import site  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(site, "build_site", None)


def _feed_lines(report: FeedReport) -> list[str]:
    lines = [f"let op: {w}" for w in report.warnings]
    lines.append(
        f"feeds: {len(report.feeds)} feed(s), {len(report.written)} bestand(en) bijgewerkt, "
        f"{report.unchanged} ongewijzigd"
        + (f", {len(report.removed)} verwijderd" if report.removed else "")
    )
    if report.id3_updated:
        lines.append(f"hoofdstukken in de MP3 bijgewerkt: {', '.join(report.id3_updated)}")
    lines.append(f"hoofdfeed: {report.main_url}")
    return lines


def _mark_published(ws: Workspace, report: FeedReport, slugs: list[str]) -> None:
    with open_catalogue(ws) as cat:
        known = set(cat.slugs())
        for slug in slugs:
            if slug not in known:  # the catalogue is an index over the files: fill it in
                cat.upsert_episode(load_episode(ws, slug))
            cat.set_stage(slug, "publish", "done", key=report.main_url)


def build(ws: Workspace, *, base_url: str | None = None) -> list[str]:
    """Build feeds/ and site/; returns Dutch status lines for the CLI.

    Raises :class:`pipeline.errors.FeedError` when a feed would be invalid (then feeds/ is left
    as it was and the site is not built).
    """
    report = build_feeds(ws, base_url=base_url)
    lines = _feed_lines(report)
    build_site = _site_builder()
    if build_site is not None:
        result = build_site(ws, base_url=base_url)
        if isinstance(result, list | tuple):
            lines += [str(line) for line in result]
    _mark_published(ws, report, list(report.published))
    return lines
