"""Ingest: turn one recording into an episode folder ``episodes/<slug>/`` (the ``ingest`` verb).

Checks the file, measures its loudness, normalises it in two loudnorm passes to a podcast MP3
with ID3 tags, and writes ``episode.toml``. The folder is built in a staging place and moved in
with one rename, so an interrupted ingest leaves nothing behind and re-running finishes the job.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from pipeline.catalogue import Catalogue, open_catalogue
from pipeline.core.episodes import (
    check_speakers,
    clean_meta,
    episode_to_toml,
    load_episode,
    parse_date,
    slugify,
)
from pipeline.core.errors import AudioError, DuplicateError, InputError, WorkspaceError
from pipeline.core.models import KINDS, Episode, EpisodeMeta, Loudness, Progress
from pipeline.core.settings import AudioSettings
from pipeline.core.workspace import Workspace, atomic_write_text, staging_dir

from . import audio


@dataclass(frozen=True)
class IngestResult:
    episode: Episode
    warnings: tuple[str, ...] = ()
    resumed: bool = False  # an earlier, interrupted ingest of this file was completed


def stage_key(content_hash: str, a: AudioSettings) -> str:
    """The ingest stage's key: the original's hash and the audio settings that shaped the MP3."""
    return (
        f"{content_hash};{a.target_lufs}/{a.true_peak}/{a.lra};"
        f"{a.sample_rate}x{a.channels};{a.bitrate}"
    )


def check_recording(path: Path, max_mb: int) -> Path:
    """Resolve ``path`` and check it is a non-empty file within the size limit."""
    original = str(path)
    try:
        resolved = Path(path).expanduser().resolve()
    except (OSError, RuntimeError) as exc:
        raise InputError(f"pad '{original}' kan niet gelezen worden ({exc})") from exc
    if not resolved.exists():
        raise InputError(f"bestand '{original}' bestaat niet")
    if not resolved.is_file():
        raise InputError(f"'{original}' is geen bestand")
    size = resolved.stat().st_size
    if size == 0:
        raise AudioError(f"{resolved.name} is leeg (0 bytes)")
    if size > max_mb * 1024 * 1024:
        raise InputError(
            f"{resolved.name} is te groot: {size / 1024 / 1024:.0f} MB, "
            f"de grens is {max_mb} MB (instelling audio.max_input_mb)"
        )
    try:
        with open(resolved, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise InputError(f"{resolved.name} kan niet gelezen worden ({exc.strerror})") from exc
    return resolved


def _default_title(path: Path, info: audio.AudioInfo) -> str:
    if info.title_tag:
        return info.title_tag
    stem = path.stem.replace("_", " ").strip()
    return " ".join(stem.split()) or "Aflevering"


def _check_metadata(meta: EpisodeMeta) -> None:
    if meta.kind not in KINDS:
        raise InputError(
            f"soort moet {', '.join(KINDS[:-1])} of {KINDS[-1]} zijn, niet '{meta.kind}'"
        )
    check_speakers([s.strip() for s in meta.speakers if s.strip()], meta.speaker_count)


def find_duplicate(ws: Workspace, content_hash: str) -> str | None:
    """The slug of an episode with this content hash: the catalogue, then the files
    (the catalogue may be stale, e.g. after a ``git pull``)."""
    if ws.catalogue_path.exists():
        with open_catalogue(ws) as cat:
            slug = cat.find_by_hash(content_hash)
        if slug is not None and ws.episode_file(slug).exists():
            return slug
    if ws.episodes_dir.exists():
        for path in sorted(ws.episodes_dir.glob("*/episode.toml")):
            try:
                text = path.read_text(encoding="utf-8")
            except OSError:
                continue
            if content_hash in text:
                try:
                    ep = load_episode(ws, path.parent.name)
                except WorkspaceError:
                    continue
                if ep.content_hash == content_hash:
                    return ep.slug
    return None


def unique_slug(ws: Workspace, title: str, taken: set[str]) -> str:
    base = slugify(title)
    slug, n = base, 1
    while (
        slug in taken or ws.episode_dir(slug).exists() or any(ws.transcripts_dir.glob(f"{slug}.*"))
    ):
        n += 1
        slug = f"{base}-{n}"
    return slug


def _clean_stale_staging(ws: Workspace, slug: str) -> None:
    """Remove staging folders that killed ingests of this slug left behind (we hold the lock)."""
    tmp = ws.state_dir / "tmp"
    if tmp.exists():
        for child in tmp.glob(f"{slug}.*"):
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)


def _complete(ws: Workspace, ep: Episode) -> None:
    with open_catalogue(ws) as cat:
        cat.upsert_episode(ep)
        cat.set_stage(ep.slug, "ingest", "done", stage_key(ep.content_hash, ws.settings.audio))


def ingest(
    ws: Workspace,
    recording: Path,
    meta: EpisodeMeta | None = None,
    *,
    force: bool = False,
    progress: Progress | None = None,
) -> IngestResult:
    """Add ``recording`` to the workspace as a new episode and return it.

    Raises :class:`InputError`/:class:`AudioError` for bad input (the workspace is unchanged),
    :class:`DuplicateError` when the same recording is already an episode (unless ``force``).
    """
    meta = clean_meta(meta or EpisodeMeta())
    settings = ws.settings.audio
    _check_metadata(meta)
    date = parse_date(meta.date) if meta.date not in (None, "") else None  # type: ignore[arg-type]
    path = check_recording(recording, settings.max_input_mb)
    info = audio.probe(path)
    content_hash = audio.sha256_file(path)
    if not force:
        existing = find_duplicate(ws, content_hash)
        if existing is not None:
            resumed = _resume(ws, existing, lock=True)
            if resumed is not None:
                return resumed
            raise _duplicate(path, existing)

    title = meta.title.strip() or _default_title(path, info)
    speakers = tuple(s.strip() for s in meta.speakers if s.strip())
    date = date or info.date_tag or dt.date.today()
    warnings: list[str] = []
    total = 2.0 * max(info.duration, 0.001)

    # Pass 1 reads only: bad audio is found before anything in the workspace changes.
    measured = audio.measure(path, info, settings, progress=progress, total=total)
    if measured.silent:
        warnings.append(f"{path.name} lijkt stil te zijn: er is geen geluid om te normaliseren")

    with ws.lock():
        ws.ensure()
        if not force:
            existing = find_duplicate(ws, content_hash)
            if existing is not None:
                resumed = _resume(ws, existing, lock=False)
                if resumed is not None:
                    return resumed
                raise _duplicate(path, existing)
        with open_catalogue(ws) as cat:
            taken = set(cat.slugs())
        slug = unique_slug(ws, title, taken)
        _clean_stale_staging(ws, slug)
        audio_name = f"{slug}.mp3"
        with staging_dir(ws, ws.episode_dir(slug)) as tmp:
            tags = {
                "title": title,
                "artist": ", ".join(speakers) or ws.settings.podcast.author,
                "album": ws.settings.podcast.title,
                "album_artist": ws.settings.podcast.author,
                "date": date.isoformat(),
                "comment": meta.description,
                "genre": "Podcast",
            }
            result = audio.encode(
                path, tmp / audio_name, measured, settings, tags, progress=progress, total=total
            )
            out_info = audio.probe(tmp / audio_name)
            if settings.keep_original:
                suffix = path.suffix.lower() if path.suffix else ".bin"
                shutil.copyfile(path, tmp / f"original{suffix}")
            ep = Episode(
                slug=slug,
                title=title,
                date=date,
                guid=str(uuid.uuid4()),
                speakers=speakers,
                description=meta.description,
                event=meta.event,
                kind=meta.kind,
                speaker_count=meta.speaker_count,
                source_name=path.name,
                content_hash=content_hash,
                duration=round(out_info.duration, 3),
                audio_file=audio_name,
                audio_bytes=(tmp / audio_name).stat().st_size,
                loudness=Loudness(
                    input_i=_r(measured.input_i),
                    input_tp=_r(measured.input_tp),
                    input_lra=_r(measured.input_lra),
                    output_i=_r(result.output_i),
                    output_tp=_r(result.output_tp),
                    output_lra=None if result.output_lra is None else _r(result.output_lra),
                ),
                created=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            )
            atomic_write_text(tmp / "episode.toml", episode_to_toml(ep))
        _complete(ws, ep)
    if progress is not None:
        progress(total, total)
    return IngestResult(ep, tuple(warnings))


def _r(value: float) -> float:
    """Round for the metadata file; TOML has inf, but -inf LUFS reads oddly, so clamp it."""
    if value != value:  # NaN
        return -99.0
    return round(max(value, -99.0), 2)


def _duplicate(path: Path, slug: str) -> DuplicateError:
    return DuplicateError(
        f"{path.name} is al toegevoegd als aflevering '{slug}' "
        "(gebruik --force voor een nieuwe aflevering)",
        slug,
    )


def _resume(ws: Workspace, slug: str, *, lock: bool) -> IngestResult | None:
    """An episode folder whose catalogue rows are missing (killed after the move): finish it."""
    if not ws.catalogue_path.exists():
        needs = True
    else:
        with open_catalogue(ws) as cat:
            row = cat.stages(slug).get("ingest")
            needs = row is None or row["status"] != "done"
    if not needs:
        return None
    try:
        ep = load_episode(ws, slug)
    except WorkspaceError:
        return None
    if not (ws.episode_dir(slug) / ep.audio_file).exists():
        return None
    if lock:
        with ws.lock():
            _complete(ws, ep)
    else:
        _complete(ws, ep)
    return IngestResult(ep, (), resumed=True)


def reindex(ws: Workspace, cat: Catalogue, ep: Episode) -> None:
    """Restore the ingest stage of an episode in the catalogue (``vlinder reindex``): done
    when its MP3 is there, else failed."""
    if ep.audio_file and (ws.episode_dir(ep.slug) / ep.audio_file).exists():
        row = cat.stages(ep.slug).get("ingest")
        if row is None or row["status"] != "done":
            cat.set_stage(ep.slug, "ingest", "done", stage_key(ep.content_hash, ws.settings.audio))
    else:
        cat.set_stage(ep.slug, "ingest", "failed", message="MP3 ontbreekt")
