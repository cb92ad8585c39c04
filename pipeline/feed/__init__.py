"""Feed: the podcast's RSS feeds (the main feed and one per vlinder), chapters and cover,
accepted by Apple Podcasts and Podcasting 2.0 apps (the ``publish`` verb)."""

from .stage import FeedReport, publish, reindex
from .websub import HubNotice, notify_hub

__all__ = ["FeedReport", "HubNotice", "notify_hub", "publish", "reindex"]
