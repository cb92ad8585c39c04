"""The feed stage: RSS feeds for podcast apps, written to ``feeds/`` (the ``publish`` verb).

* ``feeds/podcast.xml``: the main feed, every episode with audio (newest first);
* ``feeds/<vlinder-id>.xml``: one feed per vlinder, with the episodes whose fragments carry any
  ingredient of that vlinder ("subscribe only to episodes about trust"); each episode has a
  guid of its own there, and its audio a URL of its own: ``feeds/audio/<vlinder-id>/<slug>.mp3``,
  a hard link to the episode's MP3 (Apple ignores an enclosure URL seen in another show);
* ``feeds/chapters/<slug>.json``: Podcasting 2.0 JSON chapters (v1.2.0) for each episode
  with chapters; the same chapters go into the MP3 as ID3 CHAP/CTOC frames;
* ``feeds/cover.png``: the generated artwork when the settings name none.

Two phases: :func:`pipeline.feed.inputs.collect` gathers what the feeds need from the workspace (pure reads, apart
from the ID3 chapters and the cover), :func:`pipeline.feed.render.render_feeds` builds every output in memory with
feedgen, and :func:`publish` validates them (:mod:`pipeline.feed.check`) before writing only the
files whose bytes changed. An invalid feed raises :class:`FeedError` and writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from pipeline.catalogue import Catalogue
from pipeline.core.errors import FeedError
from pipeline.core.workspace import Workspace, atomic_write_bytes, mirror_file

from .check import ATOM_NS, check_outputs
from .inputs import FragmentLoader, VlinderInfo, collect
from .render import render_feeds, vlinder_audio_links
from .urls import AUDIO_DIR, CHAPTERS_DIR, MAIN_FEED, feed_url


@dataclass(frozen=True)
class FeedReport:
    feeds: tuple[str, ...]  # workspace-relative paths of the feeds
    written: tuple[str, ...]  # files (re)written this run
    unchanged: int
    removed: tuple[str, ...]
    id3_updated: tuple[str, ...]  # slugs whose MP3 got new chapter frames
    warnings: tuple[str, ...]
    main_url: str
    published: tuple[str, ...] = ()  # slugs of the episodes in the main feed
    changed: tuple[str, ...] = ()  # URLs of the feeds (re)written this run (for a WebSub hub)


def _owned(ws: Workspace) -> set[str]:
    """Files in feeds/ that this stage writes (and so may remove when stale)."""
    found: set[str] = set()
    feeds = ws.feeds_dir
    if feeds.is_dir():
        found.update(f"feeds/{p.name}" for p in feeds.glob("*.xml"))
        found.update(
            f"feeds/{CHAPTERS_DIR}/{p.name}" for p in (feeds / CHAPTERS_DIR).glob("*.json")
        )
        found.update(
            p.relative_to(ws.root).as_posix()
            for p in (feeds / AUDIO_DIR).glob("*/*")
            if not p.name.startswith(".")
        )
    return found


def write_outputs(
    ws: Workspace, outputs: dict[str, bytes], links: Mapping[str, Path] | None = None
) -> tuple[list[str], int, list[str]]:
    """Write changed files atomically, hard-link the vlinder feeds' audio (``links``: path ->
    the episode's audio), remove stale files; (written, unchanged, removed)."""
    written: list[str] = []
    unchanged = 0
    for rel, data in sorted(outputs.items()):
        path = ws.root / rel
        try:
            if path.read_bytes() == data:
                unchanged += 1
                continue
        except FileNotFoundError:
            pass
        atomic_write_bytes(path, data)
        os.chmod(path, 0o644)  # mkstemp makes 0600; web servers must read the feed
        written.append(rel)
    links = links or {}
    for rel, source in sorted(links.items()):
        if mirror_file(source, ws.root / rel, link=True):
            written.append(rel)
        else:
            unchanged += 1
    removed = sorted(_owned(ws) - set(outputs) - set(links))
    for rel in removed:
        (ws.root / rel).unlink(missing_ok=True)
    audio = ws.feeds_dir / AUDIO_DIR
    for folder in sorted(audio.glob("*"), reverse=True) if audio.is_dir() else []:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return written, unchanged, removed


def publish(
    ws: Workspace,
    *,
    base_url: str | None = None,
    fragments: FragmentLoader | None = None,
    vlinders: Sequence[VlinderInfo] | None = None,
    validate: bool = True,
) -> FeedReport:
    """The ``publish`` verb: collect, render, validate, write. Raises :class:`FeedError` when a
    feed is invalid (nothing of feeds/ is written then). A base URL over http is accepted here
    (a local demo); ``vlinder check`` reports it."""
    ws.ensure()
    inp, id3 = collect(ws, base_url=base_url, fragments=fragments, vlinders=vlinders)
    outputs = render_feeds(inp)
    links = vlinder_audio_links(inp)
    if validate:
        known = {item.audio_path: item.audio_duration for item in inp.episodes}
        problems = check_outputs(ws, outputs, allow_http=True, durations=known, links=links)
        if problems:
            more = f" (en nog {len(problems) - 1} probleem/problemen)" if len(problems) > 1 else ""
            raise FeedError(f"ongeldige feed: {problems[0]}{more}; zie `vlinder check`")
    written, unchanged, removed = write_outputs(ws, outputs, links)
    warnings = list(inp.skipped)
    if urlsplit(inp.base_url).scheme != "https":
        warnings.append(
            f"basis-URL {inp.base_url} is geen https: goed voor een lokale demo, "
            "maar Apple Podcasts en andere apps weigeren zo'n feed"
        )
    return FeedReport(
        feeds=tuple(sorted(k for k in outputs if k.endswith(".xml"))),
        written=tuple(written),
        unchanged=unchanged,
        removed=tuple(removed),
        id3_updated=id3,
        warnings=tuple(warnings),
        main_url=feed_url(inp.base_url, MAIN_FEED),
        published=tuple(item.episode.slug for item in inp.episodes),
        changed=tuple(
            feed_url(inp.base_url, rel.removeprefix("feeds/"))
            for rel in written
            if rel.endswith(".xml")
        ),
    )


def reindex(ws: Workspace, cat: Catalogue) -> list[str]:
    """Restore the publish stage in the catalogue (``vlinder reindex``): the episodes whose
    guid is in the main feed are published. Returns their slugs."""
    path = ws.feeds_dir / MAIN_FEED
    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except (OSError, etree.XMLSyntaxError):
        return []
    guids = {el.text.strip() for el in tree.iterfind("channel/item/guid") if el.text}
    link = tree.find(f"channel/{{{ATOM_NS}}}link[@rel='self']")
    key = link.get("href", "") if link is not None else ""
    published = []
    for slug in cat.slugs():
        row = cat.episode(slug)
        if row is not None and row["guid"] in guids:
            cat.set_stage(slug, "publish", "done", key=key)
            published.append(slug)
    return published
