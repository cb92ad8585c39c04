"""Transcript formats: subtitle cues, the writers of every format, the importers, sentences."""
