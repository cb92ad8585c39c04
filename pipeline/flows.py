"""The flows: the stages called explicitly, in pipeline order.

- :func:`add` (``vlinder add``): ingest, then :func:`process`: transcribe (or import a
  transcript), tag, and index for search.
- :func:`build` (``vlinder build``): the feeds, then the site; the episodes in the main feed are
  marked published in the catalogue.
- :func:`reindex` (``vlinder reindex``): the catalogue rebuilt from the files, each stage
  restoring its own state.
- :func:`remove` and :func:`init`: an episode's files and rows, a new workspace.

Every flow returns dataclasses; the CLI and the web app write the words.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline import feed, ingest, search, site, speakers, tagging, transcribe
from pipeline.catalogue import open_catalogue
from pipeline.core.episodes import episode_from_toml, load_episode, scan_episodes
from pipeline.core.errors import NotFoundError, ProtectedTranscriptError, VlinderError
from pipeline.core.models import EpisodeMeta, Progress
from pipeline.core.settings import Settings
from pipeline.core.taxonomy import DEFAULT_TAXONOMY
from pipeline.core.workspace import Workspace, create_workspace
from pipeline.feed import FeedReport, HubNotice
from pipeline.ingest import IngestResult
from pipeline.site import SiteReport
from pipeline.speakers import DiarizeResult
from pipeline.tagging import TagResult
from pipeline.transcribe import TranscribeResult
from pipeline.transcribe.formats.readers import parse_transcript_file

#: Progress of a flow: (stage, seconds done, seconds in all); the stage is "ingest" or
#: "transcribe".
StageProgress = Callable[[str, float, float], None]


# --- add ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProcessResult:
    """What the stages after ingest did for one episode."""

    slug: str
    transcript: TranscribeResult | None = None  # None: not transcribed (nor imported)
    kept: str | None = None  # a person's transcript was kept (not re-transcribed): why
    speakers: DiarizeResult | None = None  # None: nothing to do (no transcript)
    tags: TagResult | None = None  # None: nothing to tag (no transcript)


@dataclass(frozen=True)
class AddResult:
    ingest: IngestResult
    process: ProcessResult


def check_transcript_file(path: Path) -> None:
    """Validate a transcript to import *before* ingest, so a bad file changes nothing.

    Raises :class:`pipeline.core.errors.TranscriptError` naming the bad line.
    """
    parse_transcript_file(path)


def process(
    ws: Workspace,
    slug: str,
    *,
    transcribe_audio: bool = True,
    transcript_file: Path | None = None,
    progress: Progress | None = None,
) -> ProcessResult:
    """The stages after ingest for one episode: transcribe (or import ``transcript_file``),
    find who speaks when (when more than one person speaks), tag, and index the fragments
    for search. A person's transcript is kept (``kept`` says why), and tagged as it is."""
    result: TranscribeResult | None = None
    kept: str | None = None
    if transcript_file is not None:
        result = transcribe.import_transcript(ws, slug, transcript_file)
    elif transcribe_audio:
        try:
            result = transcribe.transcribe(ws, slug, progress=progress)
        except ProtectedTranscriptError as exc:
            kept = exc.reason
    else:
        return ProcessResult(slug)
    voices = speakers.diarize(ws, slug)
    return ProcessResult(slug, result, kept, voices, tag(ws, slug))


def add(
    ws: Workspace,
    recording: Path,
    meta: EpisodeMeta | None = None,
    *,
    force: bool = False,
    transcribe_audio: bool = True,
    transcript_file: Path | None = None,
    on_ingested: Callable[[IngestResult], None] | None = None,
    progress: StageProgress | None = None,
) -> AddResult:
    """``vlinder add``: a recording becomes an episode, transcribed, tagged and searchable.

    A transcript to import is checked before anything is written. ``on_ingested`` hears of the
    new episode as soon as it exists (the CLI prints its slug then).
    """
    if transcript_file is not None:
        check_transcript_file(transcript_file)

    def stage_progress(stage: str) -> Progress | None:
        if progress is None:
            return None
        report = progress
        return lambda done, total: report(stage, done, total)

    done = ingest.ingest(ws, recording, meta, force=force, progress=stage_progress("ingest"))
    if on_ingested is not None:
        on_ingested(done)
    after = process(
        ws,
        done.episode.slug,
        transcribe_audio=transcribe_audio,
        transcript_file=transcript_file,
        progress=stage_progress("transcribe"),
    )
    return AddResult(done, after)


def diarize(ws: Workspace, slug: str, *, force: bool = False) -> DiarizeResult:
    """Find who speaks when in one episode, then tag it again so its fragments carry their
    speakers (``vlinder diarize``)."""
    result = speakers.diarize(ws, slug, force=force)
    tag(ws, slug)
    return result


def tag(ws: Workspace, slug: str, *, force: bool = False) -> TagResult:
    """Tag one episode and index its fragments for search (``vlinder tag``)."""
    result = tagging.tag(ws, slug, force=force)
    with open_catalogue(ws) as cat:
        search.index(cat)
    return result


# --- build -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BuildResult:
    feeds: FeedReport
    site: SiteReport
    failed: tuple[tuple[str, str], ...] = ()  # (slug, what is wrong): left out of feeds and site
    hub: HubNotice | None = None  # the WebSub hub told of the changed feeds (when one is set)


def build(ws: Workspace, *, base_url: str | None = None) -> BuildResult:
    """Build ``feeds/`` and ``site/``, and mark the published episodes in the catalogue.

    A bad episode does not stop the others: an episode file that cannot be read is left out
    and reported in ``failed`` (the callers exit non-zero, or fail that episode's job).
    Raises :class:`pipeline.core.errors.FeedError` when a feed would be invalid (then feeds/ is
    left as it was and the site is not built). With ``[podcast] websub_hub`` set, the hub hears
    of the changed feeds once the site (which serves them) is built; a hub that cannot be
    reached is reported in ``hub``, and the build still stands.
    """
    failed = scan_episodes(ws).problems
    feeds = feed.publish(ws, base_url=base_url)
    built = site.build(ws, base_url=base_url)
    hub_url = ws.settings.podcast.websub_hub.strip()
    hub = feed.notify_hub(hub_url, feeds.changed) if hub_url and feeds.changed else None
    with open_catalogue(ws) as cat:
        known = set(cat.slugs())
        for slug in feeds.published:
            if slug not in known:  # the catalogue is an index over the files: fill it in
                cat.upsert_episode(load_episode(ws, slug))
            cat.set_stage(slug, "publish", "done", key=feeds.main_url)
    return BuildResult(feeds, built, failed, hub)


# --- reindex -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReindexReport:
    indexed: tuple[str, ...]
    removed: tuple[str, ...]
    problems: tuple[tuple[str, str], ...]  # (slug, what is wrong) per episode not indexed


def reindex(ws: Workspace) -> ReindexReport:
    """Rebuild the catalogue from the files: every episode's row, and each stage's state from
    what that stage wrote (the MP3, the transcript, the tags, the main feed), then the search
    index. Rows of episodes whose folder is gone are dropped. A broken episode file is
    reported and skipped; the others are indexed."""
    indexed: list[str] = []
    problems: list[tuple[str, str]] = []
    with ws.lock(), open_catalogue(ws) as cat:
        on_disk: set[str] = set()
        paths = sorted(ws.episodes_dir.glob("*/episode.toml")) if ws.episodes_dir.exists() else []
        for path in paths:
            slug = path.parent.name
            on_disk.add(slug)
            try:
                ep = episode_from_toml(slug, path.read_text(encoding="utf-8"), str(path))
                cat.upsert_episode(ep)
                ingest.reindex(ws, cat, ep)
                transcribe.reindex(ws, cat, ep)
                speakers.reindex(ws, cat, ep)
                tagging.reindex(ws, cat, ep)
                indexed.append(slug)
            except (VlinderError, OSError, UnicodeDecodeError) as exc:
                problems.append((slug, str(exc)))
        removed = [slug for slug in cat.slugs() if slug not in on_disk]
        for slug in removed:
            cat.delete_episode(slug)
        feed.reindex(ws, cat)
        search.index(cat)
    return ReindexReport(tuple(indexed), tuple(removed), tuple(problems))


# --- remove and init ---------------------------------------------------------------------------
def remove(ws: Workspace, slug: str) -> list[str]:
    """Remove an episode: its folder, ``transcripts/<slug>.*`` and its catalogue rows.

    Returns the removed paths (relative to the workspace). The folder is first renamed into
    ``.vlinder/tmp`` so a reader never sees half of it.
    """
    folder = ws.episode_dir(slug)
    if "/" in slug or slug in ("", ".", ".."):
        raise NotFoundError(f"aflevering '{slug}' bestaat niet (zie `vlinder list`)")
    with ws.lock():
        in_catalogue = False
        if ws.catalogue_path.exists():
            with open_catalogue(ws) as cat:
                in_catalogue = slug in cat.slugs()
        transcripts = (
            sorted(ws.transcripts_dir.glob(f"{slug}.*")) if ws.transcripts_dir.exists() else []
        )
        if not folder.exists() and not in_catalogue and not transcripts:
            raise NotFoundError(f"aflevering '{slug}' bestaat niet (zie `vlinder list`)")
        removed: list[str] = []
        if folder.exists():
            trash = Path(tempfile.mkdtemp(prefix=f"removed-{slug}.", dir=ws.tmp_dir))
            os.replace(folder, trash / slug)
            shutil.rmtree(trash, ignore_errors=True)
            removed.append(str(folder.relative_to(ws.root)))
        for path in transcripts:
            path.unlink(missing_ok=True)
            removed.append(str(path.relative_to(ws.root)))
        if in_catalogue:
            with open_catalogue(ws) as cat:
                cat.delete_episode(slug)
    return removed


def init(root: Path, settings: Settings | None = None) -> Workspace:
    """A new workspace: folders, a settings file, and the default taxonomy and glossary (each
    stage's own default, copied so the producer can edit it)."""
    return create_workspace(
        root,
        settings,
        defaults={
            "taxonomy.toml": DEFAULT_TAXONOMY,
            "glossary.txt": transcribe.DEFAULT_GLOSSARY,
        },
    )
