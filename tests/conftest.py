"""Shared fixtures. Heavy things (the Whisper model, the browser) are loaded once per session."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.workspace import Workspace, init_workspace

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLES = ROOT / "samples"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh workspace in a temporary folder."""
    return init_workspace(tmp_path / "ws")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _espeak(text: str, out: Path, voice: str = "nl") -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(out), text], check=True)
    return out


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few seconds of Dutch speech (espeak-ng), made once per session."""
    out = tmp_path_factory.mktemp("speech") / "spraak.wav"
    return _espeak(
        "Welkom bij de podcast over de dijkversterking tussen Gorinchem en Waardenburg. "
        "De alliantie deelde de risico's en werkte als één team.",
        out,
    )


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Debian chromium for the whole session (Playwright's sync API allows
    only one running instance per thread). Never ``playwright install``."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
