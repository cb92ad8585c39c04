"""Tagging: a transcript becomes chapters and fragments, each fragment tagged with the
ingredients of the vlinders it is about, with score and evidence (the ``tag`` verb). The
taxonomy (``taxonomy.toml``) is data."""

from .segment import SegmentOptions
from .stage import TagResult, reindex, tag
from .store import load_fragments
from .taxonomy import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy

__all__ = [
    "DEFAULT_TAXONOMY",
    "SegmentOptions",
    "TagResult",
    "Taxonomy",
    "load_fragments",
    "load_taxonomy",
    "reindex",
    "tag",
]
