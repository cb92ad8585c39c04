"""A small, deterministic sample workspace for the feed tests, the golden feed and the benchmark.

The MP3s are made of silent MPEG-1 Layer III frames written byte by byte (no encoder version in
them), so the golden feed's enclosure lengths do not depend on the installed ffmpeg. The tests
that need real audio make it with ffmpeg.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from pipeline.core.episodes import save_episode
from pipeline.core.models import Chapter, Episode, Fragment, Tag
from pipeline.core.settings import PodcastSettings, Settings
from pipeline.core.workspace import Workspace
from pipeline.feed.cover import generate_cover
from pipeline.feed.inputs import VlinderInfo
from pipeline.flows import init as init_workspace

BASE_URL = "https://podcast.example.org"
GOLDEN_DIR = Path(__file__).parent / "golden"

# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding, mono: 417 bytes, 1152 samples per frame.
_FRAME = bytes([0xFF, 0xFB, 0x90, 0xC4]) + bytes(413)
FRAME_SECONDS = 1152 / 44100


def silent_mp3(path: Path, seconds: float) -> float:
    """Write a silent MP3 of about ``seconds``; returns its exact duration."""
    frames = max(1, round(seconds / FRAME_SECONDS))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_FRAME * frames)
    return frames * FRAME_SECONDS


VLINDERS = (
    VlinderInfo(
        "klompje-goud",
        "Het klompje goud",
        "De alliantie als samenwerkingsvorm.",
        (("kennis-actief-delen", "Kennis actief delen"), ("samen-optrekken", "Samen optrekken")),
    ),
    VlinderInfo(
        "vertrouwen-winnen",
        "Vertrouwen winnen",
        "Vertrouwen winnen met de alliantie.",
        (("een-team", "Eén team"), ("risico-en-winst-delen", "Risico en winst delen")),
    ),
    VlinderInfo(
        "ja-durven-zeggen",
        "'Ja' durven zeggen",
        "",
        (("bestuurlijk-lef", "Bestuurlijk lef"), ("aanleiding", "Een aanleiding")),
    ),
)


def _tag(ingredient: str, score: float = 1.0) -> tuple[Tag, ...]:
    return (Tag(ingredient, score, ("bewijs",)),)


# slug -> (chapters, fragments)
FRAGMENTS: dict[str, tuple[tuple[Chapter, ...], tuple[Fragment, ...]]] = {
    "een-team-zonder-wij-zij": (
        (
            Chapter(0, 0.0, 2.0, "Welkom & introductie"),
            Chapter(1, 2.0, 4.0, 'Eén team, geen <wij> en "zij"'),
            Chapter(2, 4.0, 6.0, "Risico's delen"),
        ),
        (
            Fragment(0, 0.0, 2.0, "Welkom.", (), 0),
            Fragment(1, 2.0, 4.0, "Eén team.", _tag("een-team", 2.0), 1),
            Fragment(2, 4.0, 6.0, "Risico's.", _tag("risico-en-winst-delen", 1.0), 2),
        ),
    ),
    # Long enough for soundbites (15 to 60 s each): one per ingredient, on its fragment.
    "ja-durven-zeggen": (
        (Chapter(0, 0.0, 20.0, "Het Heuff-terrein"), Chapter(1, 20.0, 45.0, "Gewoon doen")),
        (
            Fragment(0, 0.0, 20.0, "Heuff.", _tag("aanleiding"), 0),
            Fragment(1, 20.0, 45.0, "Lef.", _tag("bestuurlijk-lef", 1.5), 1),
        ),
    ),
}


def sample_fragments(
    ws: Workspace, slug: str
) -> tuple[Sequence[Chapter], Sequence[Fragment]] | None:
    return FRAGMENTS.get(slug)


_COVER: dict[str, bytes] = {}


def _cached_cover(ws: Workspace) -> None:
    """Put the generated cover in place, generated once per process (it takes ~0.5 s)."""
    target = ws.feeds_dir / "cover.png"
    podcast = ws.settings.podcast
    key = f"{podcast.title}\x1f{podcast.subtitle}"
    if key not in _COVER:
        generate_cover(target, podcast.title, podcast.subtitle)
        _COVER[key] = target.read_bytes()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_COVER[key])


def make_sample_workspace(root: Path, base_url: str = BASE_URL) -> Workspace:
    """Three episodes: an interview with awkward characters, a talk, and a bonus episode
    without chapters or transcripts."""
    settings = Settings(podcast=PodcastSettings(base_url=base_url, subcategory="Local"))
    ws = init_workspace(root, settings)
    specs = [
        dict(
            slug="een-team-zonder-wij-zij",
            title='Eén team: geen <wij> & "zij" 🦋',
            date=dt.date(2025, 3, 14),
            guid="urn:uuid:7a1c0f4e-0b5e-4d8a-9a37-0d3b3c2f9e01",
            speakers=("Anna de Vries", "Bram 'Dijk' Jansen"),
            description="Een interview over samenwerken.\n\nOpdrachtgever & opdrachtnemer <samen>.",
            event="Symposium Dijkversterking 2025",
            kind="interview",
            seconds=6.0,
            season=1,
            episode_number=2,
        ),
        dict(
            slug="ja-durven-zeggen",
            title="'Ja' durven zeggen",
            date=dt.date(2025, 2, 1),
            guid="urn:uuid:0c6f3d2a-1e4b-4f7c-8d9e-2a5b6c7d8e02",
            speakers=("Carla Bos",),
            description="Een lezing over het Heuff-terrein.",
            event="Symposium",
            kind="talk",
            seconds=45.0,
            season=1,
            episode_number=1,
        ),
        dict(
            slug="bonus-frietkar",
            title="Bonus: de frietkar",
            date=dt.date(2025, 1, 10),
            guid="urn:uuid:5d4c3b2a-9f8e-4d7c-8b6a-5e4d3c2b1a03",
            speakers=(),
            description="",
            event="",
            kind="talk",
            seconds=3.0,
            episode_type="bonus",
            explicit=True,
        ),
    ]
    for spec in specs:
        seconds = float(spec.pop("seconds"))  # type: ignore[arg-type]
        slug = str(spec["slug"])
        audio = ws.episode_dir(slug) / f"{slug}.mp3"
        duration = silent_mp3(audio, seconds)
        ep = Episode(
            **spec,  # type: ignore[arg-type]
            duration=duration,
            audio_file=audio.name,
            audio_bytes=audio.stat().st_size,
            created="2025-01-01T00:00:00+00:00",
        )
        save_episode(ws, ep)
    _cached_cover(ws)
    slug = "een-team-zonder-wij-zij"
    ws.transcripts_dir.mkdir(parents=True, exist_ok=True)
    ws.transcript_path(slug, "vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nWelkom.\n", encoding="utf-8"
    )
    ws.transcript_path(slug, "html").write_text(
        '<!doctype html>\n<html lang="nl"><head><meta charset="utf-8"><title>Transcript</title>'
        '</head><body><time datetime="PT0S">0:00</time><p>Welkom.</p></body></html>\n',
        encoding="utf-8",
    )
    ws.transcript_path(slug, "srt").write_text(
        "1\n00:00:00,000 --> 00:00:02,000\nWelkom.\n", encoding="utf-8"
    )
    ws.transcript_path(slug, "podcast.json").write_text(
        '{"version": "1.0.0", "segments": [{"startTime": 0, "endTime": 2, "body": "Welkom."}]}',
        encoding="utf-8",
    )
    ws.transcript_path("ja-durven-zeggen", "vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:03.000\nHeuff.\n", encoding="utf-8"
    )
    return ws
