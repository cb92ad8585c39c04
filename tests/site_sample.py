"""A small sample workspace for the site tests, the golden pages and the browser tests.

Three episodes: a tagged talk with two chapters, a tagged interview (the frietkar), and an
episode with a transcript but no fragments yet, whose title and transcript carry HTML that must
be escaped. Fragments are written as ``transcripts/<slug>.tags.json`` with the tag stage's own
serialiser, and transcripts with the transcript stage's writer, so the site reads them through
the real loaders.

Regenerate the golden pages (only on purpose, after reviewing the change):
``.venv/bin/python tests/site_sample.py --regen-golden``; then look at ``git diff tests/golden/site``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pipeline.core.episodes import save_episode  # noqa: E402
from pipeline.core.models import (  # noqa: E402
    Chapter,
    Episode,
    Fragment,
    Segment,
    SpeakerTurn,
    Tag,
    Transcript,
)
from pipeline.core.workspace import Workspace, atomic_write_text  # noqa: E402
from pipeline.flows import init as init_workspace  # noqa: E402
from pipeline.tagging.store import tags_data  # noqa: E402
from pipeline.transcribe.store import write_transcript  # noqa: E402

BASE_URL = "https://podcast.example.org"
GOLDEN_DIR = Path(__file__).parent / "golden" / "site"
GOLDEN_PAGES = (
    "index.html",
    "afleveringen/index.html",
    "afleveringen/een-team-zonder-wij-zij/index.html",
    "afleveringen/dijk-en-dialoog/index.html",
    "ingredienten/index.html",
    "ingredienten/sociale-binding/index.html",
    "vlinders/vertrouwen-winnen/index.html",
    "sprekers/anna-de-vries/index.html",
    "sprekers/index.html",
    "zoeken/index.html",
)
AUDIO_SECONDS = 80.0

# MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono: a silent frame (the feed sample uses the same).
_FRAME = bytes([0xFF, 0xFB, 0x90, 0xC4]) + bytes(413)


def _tag(*ids: str) -> tuple[Tag, ...]:
    return tuple(Tag(i, 1.0, ("bewijs",)) for i in ids)


# (slug, title, date, speakers, kind, description, chapters, fragments)
TALK = (
    "een-team-zonder-wij-zij",
    "Eén team, zonder wij-zij",
    dt.date(2025, 3, 14),
    ("Anna de Vries", "Kees Jansen"),
    "talk",
    "Hoe opdrachtgever en opdrachtnemer één team werden, en wat de frietkar daarmee te maken had.",
    (
        Chapter(0, 0.0, 40.0, "Hoe het begon", "Over de start van de alliantie."),
        Chapter(1, 40.0, 80.0, "Samen de risico's dragen", ""),
    ),
    (
        Fragment(
            0,
            0.0,
            14.0,
            "Welkom allemaal. Vandaag vertel ik over de dijkversterking tussen Gorinchem en Waardenburg.",
        ),
        Fragment(
            1,
            14.0,
            27.0,
            "Na een paar maanden kon je niet meer zien wie van het waterschap was en wie van de aannemer. We waren echt één team.",
            _tag("een-team"),
        ),
        Fragment(
            2,
            27.0,
            40.0,
            "Elke vrijdag stond er een frietkar bij de bouwkeet, en daar werden de echte gesprekken gevoerd.",
            _tag("sociale-binding", "een-team"),
        ),
        Fragment(
            3,
            40.0,
            62.0,
            "We deelden de pot: ging het mis, dan voelden we dat allebei in de portemonnee. Dat heet risico's delen.",
            _tag("risico-en-winst-delen"),
            1,
        ),
        Fragment(
            4,
            62.0,
            80.0,
            "De dijkgraaf zei: we gaan het gewoon doen. Dat was een moedig besluit.",
            _tag("bestuurlijk-lef"),
            1,
        ),
    ),
)
INTERVIEW = (
    "symposia-en-leergroepen",
    "Symposia en leergroepen",
    dt.date(2025, 4, 2),
    ("Anna de Vries", "Piet Bakker"),
    "interview",
    "Een gesprek over kennis delen buiten het project.",
    (),
    (
        Fragment(
            0,
            0.0,
            30.0,
            "We hebben drie symposia georganiseerd en een podcastserie gemaakt, zodat de kennis niet in een la verdwijnt.",
            _tag("kennis-actief-delen"),
            0,
            (
                SpeakerTurn(
                    0.0,
                    "Piet Bakker",
                    "We hebben drie symposia georganiseerd en een podcastserie gemaakt, zodat de kennis niet in een la verdwijnt.",
                ),
            ),
        ),
        Fragment(
            1,
            30.0,
            60.0,
            "En het sporttoernooi en de lunches op vrijdag hielpen enorm om elkaar echt te leren kennen.",
            _tag("sociale-binding"),
            0,
            (
                SpeakerTurn(
                    30.0,
                    "Anna de Vries",
                    "En het sporttoernooi en de lunches op vrijdag hielpen enorm om elkaar echt te leren kennen.",
                ),
            ),
        ),
    ),
)
UNTAGGED = (
    "dijk-en-dialoog",
    "Dijk & dialoog <script>alert('titel')</script>",
    dt.date(2025, 1, 20),
    ("Kees Jansen",),
    "talk",
    "Nog niet getagd. <b>vet</b>",
    (),
    (),
)
EPISODES = (TALK, INTERVIEW, UNTAGGED)
UNTAGGED_SEGMENTS = (
    Segment(0, 0.0, 6.0, "Dit transcript is nog niet getagd."),
    Segment(1, 6.0, 12.0, "Let op: <script>alert('xss')</script> moet als tekst verschijnen."),
    Segment(2, 70.0, 76.0, "Een tweede blok, na een minuut, over de steunberm."),
)


def _segments(fragments: tuple[Fragment, ...]) -> tuple[Segment, ...]:
    return tuple(Segment(f.index, f.start, f.end, f.text) for f in fragments)


def make_sample_workspace(root: Path, mp3: Path | None = None) -> Workspace:
    """The sample workspace; ``mp3`` (a real recording) is copied as every episode's audio,
    otherwise the audio is silent MPEG frames (enough for everything but playing)."""
    ws = init_workspace(root)
    settings = ws.settings_path.read_text(encoding="utf-8")
    atomic_write_text(
        ws.settings_path,
        settings.replace('base_url = "http://localhost:8000"', f'base_url = "{BASE_URL}"'),
    )
    for n, (slug, title, date, speakers, kind, desc, chapters, fragments) in enumerate(EPISODES):
        audio = ws.episode_dir(slug) / f"{slug}.mp3"
        audio.parent.mkdir(parents=True, exist_ok=True)
        if mp3 is not None:
            shutil.copyfile(mp3, audio)
        else:
            audio.write_bytes(_FRAME * round(AUDIO_SECONDS * 44100 / 1152))
        save_episode(
            ws,
            Episode(
                slug=slug,
                title=title,
                date=date,
                guid=f"urn:uuid:00000000-0000-4000-8000-00000000000{n}",
                speakers=speakers,
                description=desc,
                event="Symposium Gorinchem" if kind == "talk" else "",
                kind=kind,
                duration=AUDIO_SECONDS,
                audio_file=audio.name,
                audio_bytes=1_280_000,
                created=f"2025-05-0{n + 1}T12:00:00+00:00",
            ),
        )
        segments = _segments(fragments) if fragments else UNTAGGED_SEGMENTS
        write_transcript(
            ws, slug, Transcript("nl", segments, engine="import", duration=AUDIO_SECONDS)
        )
        if fragments:
            data = tags_data(slug, "sample", chapters, fragments)
            atomic_write_text(
                ws.transcript_path(slug, "tags.json"), json.dumps(data, ensure_ascii=False)
            )
    return ws


def make_mp3(path: Path, seconds: float = AUDIO_SECONDS) -> Path:
    """A real MP3 (a quiet tone) made with ffmpeg, long enough to seek in."""
    import subprocess

    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency=220:sample_rate=22050:duration={seconds}",
            "-ac",
            "1",
            "-b:a",
            "32k",
            "-codec:a",
            "libmp3lame",
            str(path),
        ],
        check=True,
    )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve_in_thread(app: object) -> Iterator[str]:
    """Serve an ASGI app (``create_app(ws)``) with uvicorn on a free port in a thread, for the
    browser tests; yields its URL once the server accepts connections."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # the state we need: the server accepts connections
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def regen_golden() -> None:
    from pipeline.site import build as build_site

    with tempfile.TemporaryDirectory() as tmp:
        ws = make_sample_workspace(Path(tmp) / "ws")
        build_site(ws, base_url=BASE_URL)
        if GOLDEN_DIR.exists():
            shutil.rmtree(GOLDEN_DIR)
        for rel in GOLDEN_PAGES:
            target = GOLDEN_DIR / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ws.site_dir / rel, target)
            print(f"geschreven: {target.relative_to(ROOT)}")


if __name__ == "__main__":
    if "--regen-golden" in sys.argv:
        regen_golden()
    else:
        print(__doc__)
