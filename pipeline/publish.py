"""``vlinder build``: the feeds, then the site. Each stage module owns its own output."""

from __future__ import annotations

from .workspace import Workspace


def build(ws: Workspace, *, base_url: str | None = None) -> list[str]:
    """Build feeds/ and site/; returns Dutch status lines for the CLI."""
    return []
