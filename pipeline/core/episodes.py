"""Episode metadata files: ``episodes/<slug>/episode.toml``, human-editable, the source of truth."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import tomli_w

from .errors import InputError, NotFoundError, SpeakerError, WorkspaceError
from .models import KINDS, Episode, EpisodeMeta, Loudness
from .text import clean_text
from .workspace import Workspace, atomic_write_text

_HEADER = (
    "# Metadata van deze aflevering. Je mag dit bestand met de hand bewerken;\n"
    "# draai daarna `vlinder reindex` (of `vlinder build`).\n"
    "# guid en source.content_hash niet wijzigen.\n"
)


def slugify(text: str, max_length: int = 60) -> str:
    """``'Vertrouwen winnen – Één team!'`` -> ``'vertrouwen-winnen-een-team'``."""
    norm = unicodedata.normalize("NFKD", text)
    ascii_text = norm.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "aflevering"


def parse_date(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise InputError(
            f"ongeldige datum '{value}': gebruik JJJJ-MM-DD, bijv. 2025-03-14"
        ) from exc


MAX_SPEAKERS = 10


def check_speakers(names: Sequence[str], count: int | None = None) -> None:
    """Speaker names and count as the producer gives them: plain names, each once, and a
    count (``--speakers N``) from 1 to :data:`MAX_SPEAKERS` that fits the names."""
    for name in names:
        if re.search(r"[<>]", name):
            raise SpeakerError(f"sprekersnaam '{name}' bevat < of >: geef alleen de naam")
    if len({n.strip().casefold() for n in names}) != len(names):
        raise SpeakerError("elke spreker mag maar één keer worden genoemd")
    if count is not None:
        if not 1 <= count <= MAX_SPEAKERS:
            raise SpeakerError(
                f"het aantal sprekers moet tussen 1 en {MAX_SPEAKERS} liggen, niet {count}"
            )
        if names and count != len(names):
            raise SpeakerError(
                f"{count} sprekers past niet bij de {len(names)} opgegeven namen; "
                "geef de namen of het aantal"
            )


def episode_to_toml(ep: Episode) -> str:
    data: dict[str, Any] = {
        "title": ep.title,
        "date": ep.date,
        "speakers": list(ep.speakers),
        "description": ep.description,
        "event": ep.event,
        "kind": ep.kind,
        "episode_type": ep.episode_type,
        "explicit": ep.explicit,
        "guid": ep.guid,
        "created": ep.created,
    }
    if ep.speaker_count is not None:
        data["speaker_count"] = ep.speaker_count
    if ep.season is not None:
        data["season"] = ep.season
    if ep.episode_number is not None:
        data["episode"] = ep.episode_number
    data["source"] = {"file_name": ep.source_name, "content_hash": ep.content_hash}
    data["audio"] = {
        "file": ep.audio_file,
        "duration": round(ep.duration, 3),
        "bytes": ep.audio_bytes,
    }
    if ep.loudness is not None:
        data["loudness"] = {k: v for k, v in asdict(ep.loudness).items() if v is not None}
    for key, value in ep.overrides.items():
        data[key] = value
    return _HEADER + tomli_w.dumps(data)


_KNOWN = {
    "title",
    "date",
    "speakers",
    "description",
    "event",
    "kind",
    "speaker_count",
    "episode_type",
    "explicit",
    "guid",
    "created",
    "season",
    "episode",
    "source",
    "audio",
    "loudness",
}


def clean_meta(meta: EpisodeMeta) -> EpisodeMeta:
    """The producer's metadata with every text cleaned (:func:`pipeline.core.text.clean_text`)."""
    return replace(
        meta,
        title=clean_text(meta.title),
        speakers=tuple(clean_text(s) for s in meta.speakers),
        description=clean_text(meta.description),
        event=clean_text(meta.event),
    )


def _number(origin: str, key: str, value: Any, kind: type) -> Any:
    """``value`` of ``key`` as an int or float, or a Dutch error naming the key."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        what = "een geheel getal" if kind is int else "een getal"
        raise WorkspaceError(f"{origin}: {key} moet {what} zijn, niet {value!r}")
    if kind is int and value != int(value):
        raise WorkspaceError(f"{origin}: {key} moet een geheel getal zijn, niet {value!r}")
    return kind(value)


def _optional_int(origin: str, key: str, value: Any) -> int | None:
    return None if value is None else int(_number(origin, key, value, int))


def _table(origin: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise WorkspaceError(f"{origin}: [{key}] moet een tabel zijn")
    return value


def _loudness(origin: str, value: Any) -> Loudness | None:
    if not value:
        return None
    table = _table(origin, "loudness", value)
    known = {"input_i", "input_tp", "input_lra", "output_i", "output_tp", "output_lra"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise WorkspaceError(f"{origin}: onbekend veld loudness.{unknown[0]}")
    numbers: dict[str, Any] = {
        k: None if v is None else _number(origin, f"loudness.{k}", v, float)
        for k, v in table.items()
    }
    return Loudness(**numbers)


def episode_from_toml(slug: str, text: str, origin: str = "episode.toml") -> Episode:
    """An episode from its file; texts are cleaned, and a bad value is a
    :class:`WorkspaceError` in Dutch that names the file and the key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceError(f"{origin}: geen geldige TOML ({exc})") from exc
    try:
        source = _table(origin, "source", data.get("source", {}))
        audio = _table(origin, "audio", data.get("audio", {}))
        kind = data.get("kind", "talk")
        if kind not in KINDS:
            raise WorkspaceError(
                f"{origin}: kind moet {', '.join(KINDS[:-1])} of {KINDS[-1]} zijn, niet '{kind}'"
            )
        count = data.get("speaker_count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
            raise WorkspaceError(f"{origin}: speaker_count moet een geheel getal zijn")
        speakers = data.get("speakers", [])
        if not isinstance(speakers, list):
            raise WorkspaceError(f"{origin}: speakers moet een lijst van namen zijn")
        return Episode(
            slug=slug,
            title=clean_text(str(data["title"])),
            date=parse_date(data["date"]),
            guid=str(data["guid"]),
            speakers=tuple(clean_text(str(s)) for s in speakers),
            description=clean_text(str(data.get("description", ""))),
            event=clean_text(str(data.get("event", ""))),
            kind=kind,
            speaker_count=count,
            source_name=clean_text(str(source.get("file_name", ""))),
            content_hash=str(source.get("content_hash", "")),
            duration=_number(origin, "audio.duration", audio.get("duration", 0.0), float),
            audio_file=str(audio.get("file", "")),
            audio_bytes=_number(origin, "audio.bytes", audio.get("bytes", 0), int),
            loudness=_loudness(origin, data.get("loudness")),
            season=_optional_int(origin, "season", data.get("season")),
            episode_number=_optional_int(origin, "episode", data.get("episode")),
            episode_type=str(data.get("episode_type", "full")),
            explicit=bool(data.get("explicit", False)),
            created=str(data.get("created", "")),
            overrides={k: v for k, v in data.items() if k not in _KNOWN},
        )
    except KeyError as exc:
        raise WorkspaceError(f"{origin}: verplicht veld {exc.args[0]} ontbreekt") from exc
    except (TypeError, ValueError, InputError) as exc:
        raise WorkspaceError(f"{origin}: {exc}") from exc


#: The longest slug: a file name (``<slug>.podcast.json``) must fit in 255 bytes.
MAX_SLUG = 200


def check_slug(slug: str) -> str:
    """``slug`` if it can name an episode, else :class:`NotFoundError` (a path, ``..``, or a
    name too long for the file system: never an OSError further on)."""
    if (
        not slug
        or "/" in slug
        or "\\" in slug
        or "\x00" in slug
        or slug.startswith(".")
        or len(slug.encode("utf-8", "replace")) > MAX_SLUG
    ):
        shown = slug if len(slug) <= 60 else slug[:57] + "..."
        raise NotFoundError(f"aflevering '{shown}' bestaat niet (zie `vlinder list`)")
    return slug


def load_episode(ws: Workspace, slug: str) -> Episode:
    path = ws.episode_file(check_slug(slug))
    if not path.exists():
        raise NotFoundError(f"aflevering '{slug}' bestaat niet (zie `vlinder list`)")
    return episode_from_toml(slug, path.read_text(encoding="utf-8"), str(path))


def save_episode(ws: Workspace, ep: Episode) -> None:
    atomic_write_text(ws.episode_file(ep.slug), episode_to_toml(ep))


def update_episode(ws: Workspace, slug: str, **changes: Any) -> Episode:
    ep = replace(load_episode(ws, slug), **changes)
    save_episode(ws, ep)
    return ep


def list_episodes(ws: Workspace) -> list[Episode]:
    """All episodes on disk, newest first; a broken episode file raises
    (:func:`scan_episodes` reports it and goes on)."""
    scan = scan_episodes(ws)
    if scan.problems:
        raise WorkspaceError(scan.problems[0][1])
    return list(scan.episodes)


@dataclass(frozen=True)
class EpisodeScan:
    """Every episode that could be read, newest first, and the ones that could not."""

    episodes: tuple[Episode, ...]
    problems: tuple[tuple[str, str], ...] = ()  # (slug, what is wrong, in Dutch)


def scan_episodes(ws: Workspace) -> EpisodeScan:
    """All episodes on disk, newest first; a broken file is reported, the others are read."""
    if not ws.episodes_dir.exists():
        return EpisodeScan(())
    eps: list[Episode] = []
    problems: list[tuple[str, str]] = []
    for path in sorted(ws.episodes_dir.glob("*/episode.toml")):
        slug = path.parent.name
        try:
            eps.append(episode_from_toml(slug, path.read_text(encoding="utf-8"), str(path)))
        except WorkspaceError as exc:
            problems.append((slug, str(exc)))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append((slug, f"{path}: kan niet gelezen worden ({exc})"))
    eps.sort(key=lambda e: (e.date, e.slug), reverse=True)
    return EpisodeScan(tuple(eps), tuple(problems))
