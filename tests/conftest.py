"""Shared fixtures. Heavy things (the Whisper model, the browser) are loaded once per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from pipeline.core.errors import SpeakerModelError
from pipeline.core.workspace import Workspace
from pipeline.flows import init as init_workspace
from pipeline.speakers.weights import Weights
from pipeline.transcribe.engines import open_transcriber
from pipeline.transcribe.options import TranscribeOptions

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One joined copy of the bundled model for all workspaces of the session."""
    path = tmp_path_factory.mktemp("models")
    old = os.environ.get("VLINDER_MODELS_DIR")
    os.environ["VLINDER_MODELS_DIR"] = str(path)
    yield path
    if old is None:
        os.environ.pop("VLINDER_MODELS_DIR", None)
    else:
        os.environ["VLINDER_MODELS_DIR"] = old


@pytest.fixture(scope="session")
def fw_model(models_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The bundled faster-whisper model, loaded once (later loads hit the process cache)."""
    return open_transcriber(TranscribeOptions(), tmp_path_factory.mktemp("cache"))


@pytest.fixture
def ws(tmp_path: Path, models_dir: Path) -> Workspace:
    """A fresh workspace in a temporary folder (models, the sentence encoder's ready files
    and the compiled taxonomy are shared by the session: ``models_dir``)."""
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


# --- speakers: encoder weights ----------------------------------------------------------------
def random_weights(seed: int = 0, scale: float = 0.1) -> Weights:
    """Encoder weights of the right shapes, random: for tests that need no checkpoint."""
    rng = np.random.default_rng(seed)
    state = {}
    for i, width in enumerate((40, 256, 256)):
        state[f"lstm.weight_ih_l{i}"] = rng.normal(0, scale, (1024, width))
        state[f"lstm.weight_hh_l{i}"] = rng.normal(0, scale, (1024, 256))
        state[f"lstm.bias_ih_l{i}"] = rng.normal(0, scale, 1024)
        state[f"lstm.bias_hh_l{i}"] = rng.normal(0, scale, 1024)
    state["linear.weight"] = rng.normal(0, scale, (256, 256))
    state["linear.bias"] = rng.normal(0, scale, 256)
    return Weights.from_state({k: v.astype(np.float32) for k, v in state.items()})


@pytest.fixture(scope="session")
def weights() -> Weights:
    return random_weights()


@pytest.fixture(scope="session")
def real_weights() -> Weights:
    """The Resemblyzer checkpoint's weights (skipped when the wheel is not installed)."""
    from pipeline.speakers.weights import load_weights

    try:
        return load_weights(None)
    except SpeakerModelError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def dialogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~100 s of two real voices with their true turns (dialogue.wav, .rttm, .jsonl), built from
    the Dutch voice acting of Fish Fillets NG (Debian packages, fetched with apt-get download
    into ~/.cache/vlinder/fillets or $VLINDER_FILLETS_DIR). Skipped without the tools, except
    in CI, where the tests must run."""
    tools = ("sox", "apt-get", "dpkg-deb")
    missing = [t for t in tools if shutil.which(t) is None]
    out = tmp_path_factory.mktemp("dialogue")
    debs = Path(
        os.environ.get("VLINDER_FILLETS_DIR") or Path.home() / ".cache" / "vlinder" / "fillets"
    )
    debs.mkdir(parents=True, exist_ok=True)
    done = None
    if not missing:
        script = Path(__file__).resolve().parent.parent / "scripts" / "make_dialogue.py"
        env = {**os.environ, "DEB_DIR": str(debs), "SKIP": "400"}
        done = subprocess.run(
            [sys.executable, str(script), str(out), "100", "3", "nl"],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
    if missing or done is None or done.returncode != 0:
        why = f"missing {missing}" if missing else (done.stderr[-300:] if done else "")
        if os.environ.get("CI"):
            pytest.fail(f"could not build the test dialogue: {why}")
        pytest.skip(f"could not build the test dialogue: {why}")
    return out


def loaded_transcript_form(ws, slug: str) -> dict[str, str]:
    """The transcript form as the producer app loads it: its version and a hash per segment
    (pipeline.service.webapp.versions), so a save applies what the form changed."""
    from pipeline.service.webapp import versions
    from pipeline.service.webapp.editing import transcript_units
    from pipeline.transcribe.store import load_transcript

    transcript = load_transcript(ws, slug)
    assert transcript is not None
    units = transcript_units(transcript.segments)
    hashes = {f"h_{unit}": digest for unit, digest in versions.hashes(units).items()}
    return {versions.VERSION_FIELD: versions.version(units), **hashes}
