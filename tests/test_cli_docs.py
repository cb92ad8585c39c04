"""The CLI reference: every command has help, and docs/cli.md matches the commands."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import click
import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
UPDATE = ".venv/bin/python scripts/gen_cli_docs.py"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli_docs", ROOT / "scripts/gen_cli_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _generator()
COMMANDS = [(ctx.command_path, command) for ctx, command in gen.walk(gen.cli)]


def test_walk_finds_every_command() -> None:
    paths = {path for path, _ in COMMANDS}
    for expected in ("vlinder", "vlinder add", "vlinder build", "vlinder search", "vlinder eval"):
        assert expected in paths
    assert any(p.startswith("vlinder eval ") for p in paths)


@pytest.mark.parametrize("path,command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_command_has_help(path: str, command: click.Command, runner: CliRunner) -> None:
    assert command.get_short_help_str().strip(), f"`{path}` heeft geen helptekst"
    args = path.split()[1:]
    result = runner.invoke(gen.cli, [*args, "--help"], prog_name="vlinder")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: {path} ")


def test_cli_docs_up_to_date() -> None:
    expected = gen.render()
    current = gen.DOC.read_text(encoding="utf-8") if gen.DOC.exists() else ""
    assert current == expected, (
        f"docs/cli.md is niet bij de opdrachten; maak hem opnieuw met: {UPDATE}"
    )
