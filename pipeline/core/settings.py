"""Workspace settings: one typed place with defaults, read from ``vlinder.toml``."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import WorkspaceError

SETTINGS_FILE = "vlinder.toml"
SEASONS = ("year", "event", "none")


@dataclass(frozen=True, kw_only=True)
class PodcastSettings:
    title: str = "Het klompje goud"
    subtitle: str = "Lessen uit de alliantie Dijkversterking Gorinchem–Waardenburg"
    description: str = (
        "Lezingen en interviews over de vlinders van de dijkversterking Gorinchem–Waardenburg: "
        "wat de alliantie leerde over samenwerken, vertrouwen en durven."
    )
    author: str = "Alliantie Dijkversterking Gorinchem–Waardenburg"
    owner_name: str = "Waterschap Rivierenland"
    owner_email: str = "podcast@example.org"
    language: str = "nl"
    category: str = "Government"
    subcategory: str = ""
    explicit: bool = False
    base_url: str = "http://localhost:8000"
    image: str = ""  # path in the workspace or URL; empty: a cover is generated
    copyright: str = ""  # empty: "© <years of the episodes> <owner_name>"
    locked: bool = True  # podcast:locked, with owner_email: no other host may import the feed
    medium: str = "podcast"
    keywords: tuple[str, ...] = ("dijkversterking", "alliantie", "waterschap", "samenwerking")
    # Season and episode numbers in the feeds: "year" (the season is the year of recording),
    # "event" (one season per event, numbered in order of its first episode) or "none" (only
    # the numbers given in episode.toml).
    seasons: str = "year"
    websub_hub: str = ""  # a WebSub hub URL: the feeds name it, publishing notifies it

    def __post_init__(self) -> None:
        if self.seasons not in SEASONS:
            raise WorkspaceError(
                f"{SETTINGS_FILE}: [podcast] seasons moet {', '.join(SEASONS[:-1])} of "
                f"{SEASONS[-1]} zijn, niet '{self.seasons}'"
            )
        hub = self.websub_hub.strip()
        if hub and not hub.startswith(("https://", "http://")):
            raise WorkspaceError(
                f"{SETTINGS_FILE}: [podcast] websub_hub moet een http(s)-URL zijn, niet '{hub}'"
            )


@dataclass(frozen=True, kw_only=True)
class AudioSettings:
    target_lufs: float = -16.0
    true_peak: float = -1.0
    lra: float = 11.0
    sample_rate: int = 44100
    channels: int = 1
    bitrate: str = "96k"
    keep_original: bool = False
    max_input_mb: int = 4096


@dataclass(frozen=True, kw_only=True)
class TranscribeSettings:
    engine: str = "faster-whisper"
    model: str = "base"  # "base" = the bundled offline model; any name or path otherwise
    language: str = "nl"
    device: str = "cpu"
    compute_type: str = "int8"
    # 30 s windows decoded together; peak memory grows ~130 MB a window (the encoder's
    # attention), so 4 keeps Whisper base under 1 GB (benchmarks/results/transcribe.md)
    batch_size: int = 4
    vad: bool = True
    beam_size: int = 5


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    token: str = ""  # producer login; generated on first start when empty
    max_upload_mb: int = 4096
    queue: str = "sqlite"  # sqlite | redis
    redis_url: str = "redis://localhost:6379/0"
    # behind a reverse proxy: believe its X-Forwarded-Proto (Secure cookies) and
    # X-Forwarded-For (the client, for login throttling)
    trust_proxy: bool = False


@dataclass(frozen=True, kw_only=True)
class Settings:
    podcast: PodcastSettings = field(default_factory=PodcastSettings)
    audio: AudioSettings = field(default_factory=AudioSettings)
    transcribe: TranscribeSettings = field(default_factory=TranscribeSettings)
    server: ServerSettings = field(default_factory=ServerSettings)


_SECTIONS: dict[str, type] = {
    "podcast": PodcastSettings,
    "audio": AudioSettings,
    "transcribe": TranscribeSettings,
    "server": ServerSettings,
}


def _build(cls: Any, table: dict[str, Any], section: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise WorkspaceError(f"{SETTINGS_FILE}: onbekende instelling [{section}] {key}")
        default = getattr(cls(), key)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise WorkspaceError(f"{SETTINGS_FILE}: [{section}] {key} moet true of false zijn")
        if isinstance(default, tuple):
            value = tuple(value)
        elif isinstance(default, float) and isinstance(value, int):
            value = float(value)
        elif type(default) is not type(value) and not isinstance(default, bool):
            raise WorkspaceError(
                f"{SETTINGS_FILE}: [{section}] {key} moet van het type {type(default).__name__} zijn"
            )
        values[key] = value
    return cls(**values)


def load_settings(root: Path) -> Settings:
    """Read ``vlinder.toml`` in ``root``; a missing file gives the defaults."""
    path = root / SETTINGS_FILE
    if not path.exists():
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(f"{path}: geen geldige TOML ({exc})") from exc
    sections: dict[str, Any] = {}
    for name, table in data.items():
        if name not in _SECTIONS or not isinstance(table, dict):
            raise WorkspaceError(f"{SETTINGS_FILE}: onbekende sectie [{name}]")
        sections[name] = _build(_SECTIONS[name], table, name)
    return Settings(**sections)


def settings_toml(settings: Settings) -> dict[str, Any]:
    """The settings as TOML tables (for ``vlinder init``)."""
    out: dict[str, Any] = {}
    for f in fields(settings):
        out[f.name] = {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(getattr(settings, f.name)).items()
        }
    return out
