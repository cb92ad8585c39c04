"""Ingest: a recording in any format becomes an episode: a podcast MP3 at -16 LUFS with ID3
tags and its ``episode.toml`` (the ``ingest`` verb; audio is streamed through ffmpeg)."""

from .stage import IngestResult, find_duplicate, ingest, reindex, stage_key

__all__ = ["IngestResult", "find_duplicate", "ingest", "reindex", "stage_key"]
