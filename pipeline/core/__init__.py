"""The core every stage shares: errors, the frozen dataclasses passed between stages, settings,
the workspace (paths, atomic writes), Dutch text folding, times, and the episode files."""
