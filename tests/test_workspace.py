"""Workspace, settings and episode metadata files."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.core.episodes import (
    episode_from_toml,
    episode_to_toml,
    load_episode,
    parse_date,
    save_episode,
    slugify,
)
from pipeline.core.errors import InputError, NotFoundError, WorkspaceError
from pipeline.core.models import Episode, Loudness
from pipeline.core.settings import load_settings
from pipeline.core.text import fold, stems, tokens
from pipeline.core.workspace import Workspace, atomic_write_text, resolve_workspace, staging_dir


def test_init_makes_folders_and_settings(ws: Workspace) -> None:
    for name in ("episodes", "transcripts", "feeds", "site"):
        assert (ws.root / name).is_dir()
    assert ws.settings_path.exists()
    assert ws.settings.podcast.language == "nl"
    assert ws.settings.audio.target_lufs == -16.0


def test_settings_reject_unknown_keys_and_types(tmp_path) -> None:
    (tmp_path / "vlinder.toml").write_text("[podcast]\ntitel = 'x'\n")
    with pytest.raises(WorkspaceError, match="titel"):
        load_settings(tmp_path)
    (tmp_path / "vlinder.toml").write_text("[podcast]\nexplicit = 'nee'\n")
    with pytest.raises(WorkspaceError, match="explicit"):
        load_settings(tmp_path)
    (tmp_path / "vlinder.toml").write_text("[podcast\n")
    with pytest.raises(WorkspaceError, match="TOML"):
        load_settings(tmp_path)


def test_workspace_from_env(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VLINDER_WORKSPACE", str(tmp_path))
    assert resolve_workspace().root == tmp_path.resolve()
    assert resolve_workspace(tmp_path / "x").root == (tmp_path / "x").resolve()


def test_slugify_and_dates() -> None:
    assert slugify("Vertrouwen winnen – Één team!") == "vertrouwen-winnen-een-team"
    assert slugify("<script>&") == "script"
    assert slugify("   ") == "aflevering"
    assert parse_date("2025-03-14") == dt.date(2025, 3, 14)
    with pytest.raises(InputError, match="datum"):
        parse_date("14-03-2025")


def test_episode_toml_round_trip(ws: Workspace) -> None:
    ep = Episode(
        slug="a",
        title='Risico\'s & "winst" <delen> 🦋',
        date=dt.date(2025, 3, 14),
        guid="0f3c",
        speakers=("Anne de Vries", "Jan"),
        loudness=Loudness(-23.1, -3.2, 7.0, -16.0, -1.5),
        overrides={"chapter_overrides": [{"index": 1, "title": "Nieuw"}]},
    )
    assert episode_from_toml("a", episode_to_toml(ep)) == ep
    save_episode(ws, ep)
    loaded = load_episode(ws, "a")
    assert loaded.title == ep.title
    assert loaded.overrides == ep.overrides
    with pytest.raises(NotFoundError):
        load_episode(ws, "bestaat-niet")


def test_broken_episode_file_names_the_file(ws: Workspace) -> None:
    ws.episode_dir("b").mkdir(parents=True)
    ws.episode_file("b").write_text("title = 'x'\n")
    with pytest.raises(WorkspaceError, match="episode.toml.*date|date"):
        load_episode(ws, "b")


def test_atomic_write_and_staging(ws: Workspace) -> None:
    target = ws.root / "x.txt"
    atomic_write_text(target, "één")
    assert target.read_text() == "één"
    assert target.stat().st_mode & 0o044, "written files are readable by a web server"
    final = ws.episodes_dir / "nieuw"
    with pytest.raises(RuntimeError), staging_dir(ws, final) as tmp:
        (tmp / "f").write_text("half")
        raise RuntimeError("kapot")
    assert not final.exists()
    assert not any(ws.tmp_dir.iterdir())
    with staging_dir(ws, final) as tmp:
        (tmp / "f").write_text("heel")
    assert (final / "f").read_text() == "heel"
    assert final.stat().st_mode & 0o055, "episode folders are readable by a web server"


def test_text_analysis() -> None:
    assert fold("Één ingrediënt") == "een ingredient"
    assert tokens("wij-zij, risico’s") == ["wij", "zij", "risicos"]
    assert stems("gedeelde risico's") == ["deel", "risicos"]
