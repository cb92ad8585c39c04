"""The README's promises: the two commands are valid, and every command it shows is real."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import click
import pytest

from pipeline.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")
SCRIPTS = ("scripts/setup.sh", "scripts/demo.sh", "scripts/test.sh", ".ci/run")


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"```(?:bash)?\n(.*?)```", text, flags=re.S)


def test_readme_starts_with_what_vlinder_is_and_two_commands() -> None:
    head = README[: README.index("## Gebruik")]
    assert head.startswith("# Vlinder")
    assert "bash scripts/demo.sh" in head
    assert "bash scripts/test.sh" in head


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_are_valid_bash(script: str) -> None:
    path = ROOT / script
    assert path.exists()
    text = path.read_text("utf-8")
    assert text.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in text
    subprocess.run(["bash", "-n", str(path)], check=True)


def test_ci_runs_the_readme_test_command() -> None:
    text = (ROOT / ".ci" / "run").read_text("utf-8")
    assert "scripts/test.sh" in text


def _commands_in_readme() -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for block in _code_blocks(README):
        for line in block.splitlines():
            line = line.strip()
            match = re.match(r"^(?:\.venv/bin/)?vlinder (.*)$", line)
            if not match:
                continue
            # skip global options' values, e.g. `vlinder --workspace DIR add`
            rest = match.group(1).split()
            while rest and rest[0].startswith("-"):
                rest = rest[2:] if rest[0] in ("--workspace", "-w") else rest[1:]
            words = [w for w in rest if re.fullmatch(r"[a-z]+", w)]
            if words:
                found.add(tuple(words[:2]))
    return found


def test_every_command_in_the_readme_exists() -> None:
    commands = _commands_in_readme()
    assert {("add",), ("build",)} <= {c[:1] for c in commands}
    missing = []
    for words in commands:
        command: click.Command | None = cli.commands.get(words[0])
        if command is None:
            missing.append(words[0])
            continue
        if isinstance(command, click.Group) and len(words) > 1 and words[1] not in command.commands:
            missing.append(" ".join(words))
    assert not missing, f"README shows commands that do not exist: {missing}"


def test_readme_links_point_at_files() -> None:
    for target in re.findall(r"\]\(((?!https?:)[^)#]+)\)", README):
        assert (ROOT / target).exists(), f"README links to missing {target}"


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_setup_help() -> None:
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "setup.sh"), "--help"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "VLINDER_WITH_TORCH" in out


def test_benchmarks_in_the_readme_exist() -> None:
    for name in re.findall(r"benchmarks/(\w+)\.py", README):
        assert (ROOT / "benchmarks" / f"{name}.py").exists(), f"README names benchmarks/{name}.py"
