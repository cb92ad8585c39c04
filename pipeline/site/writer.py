"""The one writer of the site: it renders the pages whose inputs changed, mirrors the audio,
transcripts and feeds, and (re)indexes the search shards whose episodes changed.

Incremental: ``.vlinder/site-manifest.json`` keeps, per page, a hash of its context and of the
templates; a page is rendered again only when that hash changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from pipeline.core.errors import SiteError
from pipeline.core.workspace import Workspace, atomic_write_bytes, atomic_write_text, mirror_file
from pipeline.feed.cover import favicon_ico
from pipeline.search.analysis import ANALYSIS_VERSION
from pipeline.transcribe import public_json

from .contexts import EpisodeContent, Page
from .hosting import HEADERS_FILE, headers_file
from .inputs import SITE_VERSION, SiteInput
from .pagefind import assign_shards, index_records, shard_id
from .pages import plan
from .records import SearchRecord, episode_records

MANIFEST = "site-manifest.json"
RECORDS_VERSION = "records-1"  # bump when the records' form changes: every shard is indexed again


FAVICON = "favicon.ico"


PACKAGE = Path(__file__).parent


TEMPLATES = PACKAGE / "templates"


STATIC = PACKAGE / "static"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    return env


def _templates_hash() -> str:
    h = hashlib.sha256(f"{SITE_VERSION}/{ANALYSIS_VERSION}".encode())
    for path in sorted(TEMPLATES.rglob("*.html")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def page_hash(page: Page, templates: str) -> str:
    """What a page's output depends on: its context and the templates."""
    # pickle is ~10x faster than repr() on these nested dataclasses, and as deterministic for
    # contexts built by the same code; a spurious difference only costs one extra render.
    blob = pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL)
    return hashlib.sha256(templates.encode() + blob).hexdigest()[:24]


def render_page(page: Page) -> str:
    try:
        return _environment().get_template(page.template).render(page=page, c=page.content)
    except jinja2.TemplateError as exc:
        raise SiteError(f"pagina {page.path} kan niet worden gemaakt: {exc}") from exc


@dataclass(frozen=True)
class SiteReport:
    pages: int
    written: tuple[str, ...]
    removed: tuple[str, ...]
    shards: int
    indexed: tuple[str, ...]  # shard ids indexed again
    search_bytes: int


def _load_manifest(ws: Workspace) -> dict[str, Any]:
    path = ws.state_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == SITE_VERSION else {}


def _sync_tree(files: dict[str, Path], target: Path, *, link: bool = False) -> list[str]:
    """Mirror ``files`` (relative path -> source) into ``target``; remove what is not there."""
    changed = [rel for rel, src in files.items() if mirror_file(src, target / rel, link=link)]
    if target.is_dir():
        for path in sorted(target.rglob("*"), reverse=True):
            rel = path.relative_to(target).as_posix()
            if path.is_file() and rel not in files:
                path.unlink()
                changed.append(rel)
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return changed


def _public_transcript(ws: Workspace, slug: str) -> Path:
    """The site's copy of ``transcripts/<slug>.json``: without how it was made (the glossary
    prompt, engine options), kept in ``.vlinder/cache/public-transcripts/`` and rewritten only
    when it changes (so the mirror copies it only then). The copy carries the modification time
    of the transcript it was made from: while they match, it is not made again (a rebuild with
    nothing changed reads no transcript)."""
    source = ws.transcript_path(slug, "json")
    path = ws.cache_dir / "public-transcripts" / f"{slug}.json"
    try:
        stamp: int | None = source.stat().st_mtime_ns
    except OSError:
        stamp = None
    with contextlib.suppress(OSError):
        if stamp is not None and path.stat().st_mtime_ns == stamp:
            return path
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""  # unreadable: the site offers an empty document, not the broken file
    data = public_json(text).encode()
    try:
        same = path.read_bytes() == data
    except FileNotFoundError:
        same = False
    if not same:
        atomic_write_bytes(path, data)
    if stamp is not None:
        os.utime(path, ns=(stamp, stamp))
    return path


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def write_site(ws: Workspace, inp: SiteInput) -> SiteReport:
    """Render the changed pages, mirror the assets and refresh the search shards."""
    site_dir = ws.site_dir
    site_dir.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(ws)
    templates = _templates_hash()

    # Shards, in the order episodes were added (oldest first) so new ones join the last shard.
    added = sorted(inp.episodes, key=lambda e: (e.episode.created, e.episode.date, e.episode.slug))
    shards = assign_shards(manifest.get("shards", []), [e.episode.slug for e in added])
    bundles = [f"pagefind/{shard_id(s)}/" for s in shards]
    pages = plan(inp, bundles=bundles)

    old_pages: dict[str, str] = manifest.get("pages", {})
    new_pages: dict[str, str] = {}
    written: list[str] = []
    for page in pages:
        digest = page_hash(page, templates)
        new_pages[page.path] = digest
        target = site_dir / page.path
        if old_pages.get(page.path) == digest and target.exists():
            continue
        atomic_write_text(target, render_page(page))
        written.append(page.path)
    removed = []
    for path in sorted(set(old_pages) - set(new_pages)):
        target = site_dir / path
        if target.exists():
            target.unlink()
            removed.append(path)
        parent = target.parent
        while parent != site_dir and parent.exists() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent

    # Assets: the site's CSS and JS, the audio and feeds (hard links), transcripts.
    _sync_tree(
        {p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file()},
        site_dir / "static",
    )
    audio = {
        f"{e.episode.slug}/{e.episode.audio_file}": e.audio
        for e in inp.episodes
        if e.audio is not None
    }
    _sync_tree(audio, site_dir / "episodes", link=True)
    transcripts = {
        f"{e.episode.slug}.{ext}": (
            _public_transcript(ws, e.episode.slug)
            if ext == "json"
            else ws.transcript_path(e.episode.slug, ext)
        )
        for e in inp.episodes
        for ext in e.transcript_files
    }
    _sync_tree(transcripts, site_dir / "transcripts")
    # hard links: the vlinder feeds' audio (feeds/audio/) is as big as the episodes
    _sync_tree({rel: ws.feeds_dir / rel for rel in inp.feeds}, site_dir / "feeds", link=True)
    # At the root: the icon browsers ask for, and the headers for static hosts (hosting.py).
    for name, data in ((FAVICON, favicon_ico()), (HEADERS_FILE, headers_file().encode())):
        target = site_dir / name
        if not target.is_file() or target.read_bytes() != data:
            atomic_write_bytes(target, data)

    # Search: re-index the shards whose records (one per fragment) changed. The records are
    # made from the episode pages' contexts, so a shard whose pages did not change (same page
    # hashes) has the same records: they are only made for the shards indexed again.
    contents = {
        p.content.card.slug: p.content for p in pages if isinstance(p.content, EpisodeContent)
    }
    old_shards: dict[str, str] = manifest.get("shard_hashes", {})
    new_shards: dict[str, str] = {}
    todo: list[tuple[list[SearchRecord], Path]] = []
    pagefind_dir = site_dir / "pagefind"
    for shard in shards:
        sid = shard_id(shard)
        pages_of = [(slug, new_pages[f"afleveringen/{slug}/index.html"]) for slug in shard]
        digest = hashlib.sha256(
            json.dumps([RECORDS_VERSION, ANALYSIS_VERSION, pages_of]).encode()
        ).hexdigest()[:24]
        new_shards[sid] = digest
        if (
            old_shards.get(sid) != digest
            or not (pagefind_dir / sid / "pagefind-entry.json").exists()
        ):
            records = [r for slug in shard for r in episode_records(contents[slug])]
            todo.append((records, pagefind_dir / sid))
    if todo:
        pagefind_dir.mkdir(parents=True, exist_ok=True)
        for shard_records, out in todo:  # Pagefind uses every core itself
            index_records(shard_records, out)
    if pagefind_dir.is_dir():
        for child in pagefind_dir.iterdir():
            if child.name not in new_shards:
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink()

    atomic_write_text(
        ws.state_dir / MANIFEST,
        json.dumps(
            {
                "version": SITE_VERSION,
                "pages": new_pages,
                "shards": shards,
                "shard_hashes": new_shards,
            },
            indent=1,
        ),
    )
    return SiteReport(
        pages=len(pages),
        written=tuple(written),
        removed=tuple(removed),
        shards=len(shards),
        indexed=tuple(out.name for _, out in todo),
        search_bytes=_dir_bytes(pagefind_dir),
    )
