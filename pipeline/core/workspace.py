"""The workspace: owns every folder and file path, and the atomic-write helpers.

No stage reads the current directory; each takes a :class:`Workspace`.
Layout::

    vlinder.toml      settings          taxonomy.toml   vlinders and ingredients
    glossary.txt      domain words      catalogue.db    SQLite (rebuildable)
    episodes/<slug>/  episode.toml + <slug>.mp3 [+ original]
    transcripts/      <slug>.json .vtt .srt .txt .podcast.json, <slug>.tags.json
    feeds/            RSS feeds and chapter files
    site/             the static site
    .vlinder/         temporary and cache files (never committed)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

import tomli_w

from .errors import WorkspaceError
from .settings import SETTINGS_FILE, Settings, load_settings, settings_toml

REPO_ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("episodes", "transcripts", "feeds", "site")


@dataclass(frozen=True)
class Workspace:
    root: Path

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.root)

    # folders
    @property
    def episodes_dir(self) -> Path:
        return self.root / "episodes"

    @property
    def transcripts_dir(self) -> Path:
        return self.root / "transcripts"

    @property
    def feeds_dir(self) -> Path:
        return self.root / "feeds"

    @property
    def site_dir(self) -> Path:
        return self.root / "site"

    @property
    def state_dir(self) -> Path:
        """Temporary files, caches, queue: ``.vlinder/`` (never committed)."""
        return self.root / ".vlinder"

    @property
    def tmp_dir(self) -> Path:
        path = self.state_dir / "tmp"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def cache_dir(self) -> Path:
        path = self.state_dir / "cache"
        path.mkdir(parents=True, exist_ok=True)
        return path

    # files
    @property
    def settings_path(self) -> Path:
        return self.root / SETTINGS_FILE

    @property
    def catalogue_path(self) -> Path:
        return self.root / "catalogue.db"

    @property
    def taxonomy_path(self) -> Path:
        return self.root / "taxonomy.toml"

    @property
    def glossary_path(self) -> Path:
        return self.root / "glossary.txt"

    def episode_dir(self, slug: str) -> Path:
        return self.episodes_dir / slug

    def episode_file(self, slug: str) -> Path:
        return self.episode_dir(slug) / "episode.toml"

    def transcript_path(self, slug: str, ext: str) -> Path:
        """``transcripts/<slug>.<ext>``; ext like ``json``, ``vtt``, ``podcast.json``."""
        return self.transcripts_dir / f"{slug}.{ext}"

    def ensure(self) -> None:
        for name in FOLDERS:
            (self.root / name).mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def lock(self, name: str = "workspace") -> Iterator[None]:
        """An exclusive advisory lock, so two writers never interleave."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with open(self.state_dir / f"{name}.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def resolve_workspace(path: str | os.PathLike[str] | None = None) -> Workspace:
    """``--workspace`` > ``$VLINDER_WORKSPACE`` > the current folder if it has a
    ``vlinder.toml`` > the repository root (the default workspace)."""
    if path is None:
        path = os.environ.get("VLINDER_WORKSPACE") or None
    if path is not None:
        root = Path(path).expanduser().resolve()
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"werkruimte {root} is geen map")
        return Workspace(root)
    cwd = Path.cwd()
    if (cwd / SETTINGS_FILE).exists():
        return Workspace(cwd)
    if (REPO_ROOT / SETTINGS_FILE).exists():
        return Workspace(REPO_ROOT)
    return Workspace(cwd)


def check_workspace(ws: Workspace) -> Workspace:
    """``ws`` if it is a workspace (a folder with a ``vlinder.toml`` or an ``episodes/``),
    else a :class:`WorkspaceError` that says how to make one: only ``vlinder init`` creates a
    workspace, so a mistyped path never becomes half of one."""
    root = ws.root
    if not root.exists():
        raise WorkspaceError(
            f"werkruimte {root} bestaat niet; maak er een met `vlinder init {root}`"
        )
    if not root.is_dir():
        raise WorkspaceError(f"werkruimte {root} is geen map")
    if not (ws.settings_path.is_file() or ws.episodes_dir.is_dir()):
        raise WorkspaceError(
            f"{root} is geen Vlinder-werkruimte (er is geen {SETTINGS_FILE}); "
            f"maak er een met `vlinder init {root}`"
        )
    return ws


def create_workspace(
    root: Path, settings: Settings | None = None, defaults: Mapping[str, Path] | None = None
) -> Workspace:
    """Create a workspace: its folders, a settings file, a ``.gitignore``, and a copy of each
    ``defaults`` file (name in the workspace -> file to copy) that is not there yet."""
    ws = Workspace(root.resolve())
    ws.root.mkdir(parents=True, exist_ok=True)
    ws.ensure()
    if not ws.settings_path.exists():
        text = "# Vlinder-instellingen voor deze werkruimte\n" + tomli_w.dumps(
            settings_toml(settings or Settings())
        )
        atomic_write_text(ws.settings_path, text)
    for name, source in (defaults or {}).items():
        target = ws.root / name
        if not target.exists() and source.exists():
            shutil.copyfile(source, target)
    gitignore = ws.root / ".gitignore"
    if not gitignore.exists():
        # feeds/audio/ holds hard links to the episodes' MP3s (one per vlinder feed)
        atomic_write_text(gitignore, ".vlinder/\ncatalogue.db*\nsite/\nfeeds/audio/\n")
    return ws


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()  # read once: os.umask is process-wide and not thread-safe


@contextlib.contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` with, streaming; renamed into place when the block ends
    without an error, so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    with atomic_writer(path) as fh:
        fh.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def staging_dir(ws: Workspace, final: Path) -> Iterator[Path]:
    """Build a folder in ``.vlinder/tmp`` and move it to ``final`` in one rename on success.

    On any failure (an exception, Ctrl-C) the staging folder is removed and ``final`` is
    untouched. ``final`` must not exist yet.
    """
    if final.exists():
        raise WorkspaceError(f"{final} bestaat al")
    tmp = Path(tempfile.mkdtemp(prefix=f"{final.name}.", dir=ws.tmp_dir))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_UMASK)  # mkdtemp makes 0700
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _same_file(src: Path, dst: Path) -> bool:
    """The same inode, or a copy with the source's size and modification time (to the
    nanosecond: a feed rewritten within the same second must be copied again)."""
    try:
        a, b = src.stat(), dst.stat()
    except FileNotFoundError:
        return False
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        return True
    return a.st_size == b.st_size and a.st_mtime_ns == b.st_mtime_ns


def mirror_file(src: Path, dst: Path, *, link: bool = False) -> bool:
    """Make ``dst`` a copy of ``src`` (a hard link when ``link`` and the file system has them),
    replacing it atomically; True if it changed. A copy keeps the source's modification time,
    so an unchanged source is not copied again."""
    if _same_file(src, dst):
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        if link:
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copy2(src, tmp)
        else:
            shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise WorkspaceError(
            f"kan {src.name} niet naar {dst.parent.name}/ kopiëren: {exc}"
        ) from exc
    return True
