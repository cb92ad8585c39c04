"""Clips: part of an episode, cut at whole words, as an MP3 with the episode's loudness and
ID3 tags, or as a square MP4 audiogram for social media (cover, moving waveform, captions)
(the ``clip`` verb; ffmpeg does the work, streaming)."""

from .stage import MAX_VIDEO_SECONDS, ClipOptions, ClipResult, clip, default_name

__all__ = ["MAX_VIDEO_SECONDS", "ClipOptions", "ClipResult", "clip", "default_name"]
