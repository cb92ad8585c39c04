"""Tagging: a transcript becomes chapters and fragments, each fragment tagged with the
ingredients of the vlinders it is about, with score and evidence (the ``tag`` verb). The
taxonomy it tags with is data (:mod:`pipeline.core.taxonomy`)."""

from .segment import SegmentOptions
from .soundbites import Selection, Soundbite, select_soundbites
from .stage import TagResult, reindex, tag
from .store import load_fragments

__all__ = [
    "SegmentOptions",
    "Selection",
    "Soundbite",
    "TagResult",
    "load_fragments",
    "reindex",
    "select_soundbites",
    "tag",
]
