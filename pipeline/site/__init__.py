"""Site: the static show-notes site, searchable with Pagefind, whose every fragment plays from
its first word (the ``build`` verb)."""

from .stage import build
from .writer import SiteReport

__all__ = ["SiteReport", "build"]
