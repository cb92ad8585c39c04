"""Search: find every fragment about a topic, however it is typed (the ``search`` verb):
SQLite FTS5 with Dutch analysis (lemmas, compounds, related terms) and ingredient-aware
ranking."""

from .analysis import Analyser
from .stage import Hit, Searcher, SearchOptions, SearchResult, index, search

__all__ = ["Analyser", "Hit", "SearchOptions", "SearchResult", "Searcher", "index", "search"]
