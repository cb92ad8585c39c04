"""Make the bundled sample recordings in ``samples/`` (Dutch, espeak-ng, with exact transcripts).

Usage::

    .venv/bin/python scripts/make_samples.py            # (re)write every clip
    .venv/bin/python scripts/make_samples.py --only interview-samen-optrekken
    .venv/bin/python scripts/make_samples.py --out /tmp/samples

Each clip is synthesised **sentence by sentence** with ``espeak-ng -v nl+<variant>``, so the
script knows exactly where every sentence starts and ends. It writes, per clip:

* ``samples/<name>.<ext>``: the recording (a different format per clip, kept small);
* ``samples/<name>.vtt``: the exact transcript with true timings, one cue per sentence, with a
  ``<v Naam>`` voice tag for the speaker;

and ``samples/samples.toml`` with each clip's metadata (title, date, speakers, event, kind,
description), which ``scripts/demo.sh`` feeds to ``vlinder add``.

The clips cover what an ingest must accept: a stereo 48 kHz Ogg Opus, an AAC ``.m4a`` with a
quiet synthesised music bed under the speech, a mono MP3 with quiet room noise under it, and a
two-voice interview as 16 kHz FLAC. Everything is deterministic: the pauses follow a fixed
pattern, noise and music come from a seeded generator, and the encoders run with
``-fflags +bitexact``. With the same espeak-ng and ffmpeg versions the output is identical;
other versions give slightly different audio (and timings, which the VTT always matches).

The texts are spoken rewrites of the source text (``../shared/seeds/``): a talk excerpt per
vlinder and an interview that touches all three. Names of speakers and events are fictional.

Needs ``espeak-ng`` and ``ffmpeg`` on the PATH and pydub (``pip install -e .[dev]``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydub import AudioSegment
from pydub.silence import detect_leading_silence

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"

LEAD_IN_MS = 600
TAIL_MS = 900
TURN_PAUSE_MS = 750  # between speakers in the interview
PAUSES_MS = (420, 560, 380, 650, 470, 520)  # between sentences of one speaker, in turn
SILENCE_DBFS = -48.0


@dataclass(frozen=True)
class Voice:
    name: str  # the speaker's (fictional) name, used in the VTT voice tag
    espeak: str  # espeak-ng voice, e.g. "nl+f2"
    speed: int  # words per minute (-s)
    pitch: int = 50  # 0-99 (-p)


@dataclass(frozen=True)
class Clip:
    name: str
    ext: str
    title: str
    date: str
    event: str
    kind: str  # talk | interview
    description: str
    lines: tuple[tuple[Voice, str], ...]
    # audio treatment
    frame_rate: int = 22050
    channels: int = 1
    gain_db: float = 0.0
    noise_dbfs: float | None = None  # quiet room noise under everything
    music_dbfs: float | None = None  # a soft synthesised music bed (with an intro)
    music_intro_ms: int = 0
    export: dict[str, object] = field(default_factory=dict)
    # the demo runs real Whisper on this clip instead of importing the VTT
    demo_whisper: bool = False

    @property
    def file(self) -> str:
        return f"{self.name}.{self.ext}"

    @property
    def speakers(self) -> list[str]:
        seen: list[str] = []
        for voice, _ in self.lines:
            if voice.name not in seen:
                seen.append(voice.name)
        return seen


INGRID = Voice("Ingrid Bakker", "nl+f2", 155, 52)
JOOST = Voice("Joost van Dam", "nl+m3", 150, 45)
FATIMA = Voice("Fatima Haddou", "nl+f4", 160, 55)
SANNE = Voice("Sanne Visser", "nl+f5", 162, 60)
PIETER = Voice("Pieter de Boer", "nl+m1", 152, 40)

BITEXACT = ["-fflags", "+bitexact", "-flags:a", "+bitexact", "-map_metadata", "-1"]


def _talk(voice: Voice, text: str) -> tuple[tuple[Voice, str], ...]:
    return tuple((voice, s.strip()) for s in text.strip().split("\n") if s.strip())


CLIPS: tuple[Clip, ...] = (
    Clip(
        name="klompje-goud",
        ext="mp3",
        title="Het klompje goud: de alliantie als samenwerkingsvorm",
        date="2024-03-14",
        event="Kennisdag Dijkversterking Gorinchem–Waardenburg",
        kind="talk",
        description=(
            "Waarom de alliantie pas waarde krijgt als je haar uitdraagt: van een interne "
            "leergroep naar symposia, podcasts en publicaties."
        ),
        lines=_talk(
            INGRID,
            """
            Goedemiddag allemaal, en fijn dat jullie er zijn.
            Ik wil het vandaag hebben over wat wij in ons project het klompje goud noemen.
            Bij de dijkversterking tussen Gorinchem en Waardenburg werkten we als alliantie.
            Die samenwerkingsvorm heeft een grote meerwaarde voor de bouw en de infrasector.
            Maar die waarde krijg je pas als je het actief uitdraagt.
            Een klompje goud in een la is niets waard.
            Je moet het zichtbaar maken, en delen met anderen.
            In het begin leerden we vooral intern, in onze eigen leergroep.
            Gaandeweg zagen we dat die kennis niet binnen het project moest blijven.
            Dus begonnen we ook externe en brede leergroepen.
            Zo gebruikten we de kennis tijdens het project zelf, en niet pas bij de evaluatie achteraf.
            Opdrachtgever en opdrachtnemer stonden niet meer tegenover elkaar, maar trokken samen op.
            Daarom organiseren we nu symposia, maken we podcasts en schrijven we publicaties.
            """,
        ),
        gain_db=-2.0,
        noise_dbfs=-50.0,
        export={
            "format": "mp3",
            "bitrate": "48k",
            "tags": {
                "title": "Het klompje goud",
                "artist": "Ingrid Bakker",
                "album": "Kennisdag Dijkversterking Gorinchem–Waardenburg",
                "date": "2024-03-14",
            },
            "parameters": ["-fflags", "+bitexact", "-flags:a", "+bitexact"],
        },
    ),
    Clip(
        name="vertrouwen-winnen",
        ext="ogg",
        title="Vertrouwen winnen met de alliantie",
        date="2024-03-14",
        event="Kennisdag Dijkversterking Gorinchem–Waardenburg",
        kind="talk",
        description=(
            "Hoe een sceptische beheerorganisatie vertrouwen kreeg in de alliantie: één team, "
            "gedeelde risico's en principes die echt worden toegepast."
        ),
        lines=_talk(
            JOOST,
            """
            Ons project was het eerste binnen waterschap Rivierenland waarin we met een alliantie werkten.
            Ik zal eerlijk zijn: de beheerorganisatie stond er sceptisch tegenover.
            Na grote financiële overschrijdingen bij traditionele contracten was het vertrouwen er nog niet.
            Dus hebben we vanaf de eerste dag één team gevormd, zonder wij en zij.
            De principes van de alliantie hebben we niet alleen opgeschreven, maar echt toegepast.
            De risico's deelden we, net als de winst en het verlies.
            Over transparantie en aanspreekbaarheid maakten we concrete afspraken.
            En we vergaten de gezelligheid niet, met lunches, een frietkar en een sporttoernooi.
            Zelfs de beheerders raakten betrokken en overtuigd.
            """,
        ),
        frame_rate=48000,
        channels=2,
        export={
            "format": "ogg",
            "codec": "libopus",
            "bitrate": "40k",
            "parameters": BITEXACT,
        },
        demo_whisper=True,
    ),
    Clip(
        name="ja-durven-zeggen",
        ext="m4a",
        title="Ja durven zeggen tegen een onbekende uitkomst",
        date="2024-09-26",
        event="Symposium Samen sterker aan de dijk",
        kind="talk",
        description=(
            "Het Heuff-terrein zat jarenlang vast. Vier partijen zeiden ja tegen samen "
            "oppakken, zonder te weten hoe."
        ),
        lines=_talk(
            FATIMA,
            """
            Ik neem jullie mee naar het Heuff-terrein.
            Vier partijen hadden daar belangen: een eigenaar, de gemeente, de provincie en het waterschap.
            Al jarenlang gebeurde er niets op dat terrein, iedereen was erop stukgelopen.
            Toen zag het waterschap een kans, want voor de dijkversterking was natuurcompensatie nodig.
            De partijen gingen met elkaar in gesprek, zonder dat alles van tevoren vastlag.
            Ze zeiden ja tegen het samen oppakken, zonder precies te weten hoe.
            Er was oud zeer, en er was wantrouwen.
            Maar er zaten ook bestuurders aan tafel die lef toonden en zeiden: dit gaan we gewoon doen.
            De relaties uit eerdere fases hielpen daarbij enorm.
            We hadden elkaar nodig, want niemand kan het alleen.
            """,
        ),
        gain_db=-6.0,
        music_dbfs=-34.0,
        music_intro_ms=2500,
        export={
            "format": "ipod",
            "codec": "aac",
            "bitrate": "48k",
            "parameters": BITEXACT + ["-movflags", "+faststart"],
        },
    ),
    Clip(
        name="interview-samen-optrekken",
        ext="flac",
        title="Interview: samen optrekken in de alliantie",
        date="2024-10-03",
        event="Podcast Het klompje goud",
        kind="interview",
        description=(
            "Sanne Visser praat met Pieter de Boer over één team zijn, vertrouwen dat groeit "
            "en kennis delen als een klompje goud."
        ),
        lines=(
            (
                SANNE,
                "Welkom bij de podcast van de alliantie Dijkversterking Gorinchem Waardenburg.",
            ),
            (SANNE, "Vandaag praat ik met Pieter de Boer, omgevingsmanager bij het project."),
            (PIETER, "Dank je wel, leuk om hier te zijn."),
            (SANNE, "Pieter, wat is voor jou de belangrijkste les van de alliantie?"),
            (PIETER, "Dat je samen optrekt, als één team zonder wij en zij."),
            (SANNE, "Was dat vanaf het begin zo?"),
            (PIETER, "Nee, zeker niet. Er was scepsis, en het vertrouwen moest groeien."),
            (PIETER, "Dat lukte pas toen we de principes echt gingen toepassen."),
            (SANNE, "En hoe deel je die lessen met anderen?"),
            (PIETER, "Via leergroepen, symposia en deze podcast."),
            (
                PIETER,
                "Kennis is als een klompje goud: het wordt pas waardevol als je het laat zien.",
            ),
            (SANNE, "Wat wil je andere projecten meegeven?"),
            (PIETER, "Durf ja te zeggen, ook als je de uitkomst nog niet kent."),
            (SANNE, "Mooi gezegd. Dank je wel, Pieter."),
        ),
        frame_rate=16000,
        gain_db=-3.0,
        export={"format": "flac", "parameters": BITEXACT + ["-compression_level", "8"]},
    ),
)


# --- synthesis ---------------------------------------------------------------------------


def synthesise(voice: Voice, text: str, workdir: Path) -> AudioSegment:
    """One sentence from espeak-ng, trimmed to the speech (no leading/trailing silence)."""
    out = workdir / "sentence.wav"
    cmd = ["espeak-ng", "-v", voice.espeak, "-s", str(voice.speed), "-p", str(voice.pitch)]
    subprocess.run([*cmd, "-w", str(out), text], check=True)
    seg = AudioSegment.from_wav(out)
    start = detect_leading_silence(seg, silence_threshold=SILENCE_DBFS, chunk_size=5)
    end = len(seg) - detect_leading_silence(
        seg.reverse(), silence_threshold=SILENCE_DBFS, chunk_size=5
    )
    return seg[start:end]


def _from_samples(samples: np.ndarray, frame_rate: int) -> AudioSegment:
    pcm = np.clip(samples, -1.0, 1.0)
    return AudioSegment(
        (pcm * 32767).astype("<i2").tobytes(), frame_rate=frame_rate, sample_width=2, channels=1
    )


def noise(duration_ms: int, frame_rate: int, dbfs: float, seed: int) -> AudioSegment:
    """Quiet, slightly low-passed ("room") noise at about ``dbfs``."""
    rng = np.random.default_rng(seed)
    n = duration_ms * frame_rate // 1000
    white = rng.standard_normal(n)
    kernel = np.ones(8) / 8.0
    room = np.convolve(white, kernel, mode="same")
    room /= np.sqrt(np.mean(room**2))
    return _from_samples(room * 10 ** (dbfs / 20), frame_rate)


def music(duration_ms: int, frame_rate: int, dbfs: float) -> AudioSegment:
    """A soft music bed: slow major chords of sine tones with gentle attacks."""
    chords = ((220.0, 277.18, 329.63), (196.0, 246.94, 293.66), (174.61, 220.0, 261.63))
    bar = 2.4  # seconds per chord
    n = duration_ms * frame_rate // 1000
    t = np.arange(n) / frame_rate
    out = np.zeros(n)
    index = (t // bar).astype(int) % len(chords)
    phase_in_bar = (t % bar) / bar
    envelope = np.minimum(1.0, phase_in_bar * 8) * (1.0 - 0.5 * phase_in_bar)
    for voice in range(3):
        freqs = np.array([c[voice] for c in chords])[index]
        out += np.sin(2 * np.pi * freqs * t) * envelope
        out += 0.3 * np.sin(4 * np.pi * freqs * t) * envelope
    out /= np.sqrt(np.mean(out**2))
    return _from_samples(out * 10 ** (dbfs / 20), frame_rate)


@dataclass(frozen=True)
class Cue:
    start_ms: int
    end_ms: int
    speaker: str
    text: str


def render(clip: Clip, workdir: Path) -> tuple[AudioSegment, list[Cue]]:
    """Concatenate the sentences with pauses; return the audio and the true cue timings."""
    lead_in = LEAD_IN_MS + clip.music_intro_ms
    audio = AudioSegment.silent(duration=lead_in, frame_rate=22050)
    cues: list[Cue] = []
    previous: Voice | None = None
    for i, (voice, text) in enumerate(clip.lines):
        if previous is not None:
            pause = TURN_PAUSE_MS if voice != previous else PAUSES_MS[i % len(PAUSES_MS)]
            audio += AudioSegment.silent(duration=pause, frame_rate=22050)
        speech = synthesise(voice, text, workdir)
        start = len(audio)
        audio += speech
        cues.append(Cue(start, len(audio), voice.name, text))
        previous = voice
    audio += AudioSegment.silent(duration=TAIL_MS, frame_rate=22050)

    audio = audio.apply_gain(clip.gain_db).set_frame_rate(clip.frame_rate)
    seed = sum(map(ord, clip.name))
    if clip.music_dbfs is not None:
        bed = music(len(audio), clip.frame_rate, clip.music_dbfs)
        intro = bed[: clip.music_intro_ms + LEAD_IN_MS].apply_gain(12.0).fade_out(LEAD_IN_MS)
        bed = bed.fade_in(300).fade_out(1500).overlay(intro)
        audio = audio.overlay(bed)
    if clip.noise_dbfs is not None:
        audio = audio.overlay(noise(len(audio), clip.frame_rate, clip.noise_dbfs, seed))
    if clip.channels == 2:
        # a real stereo image: the speaker a little left of centre
        audio = audio.set_channels(2).pan(-0.2)
    return audio, cues


# --- output ------------------------------------------------------------------------------


def vtt_time(ms: int) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def vtt(cues: list[Cue]) -> str:
    out = ["WEBVTT", ""]
    for n, cue in enumerate(cues, 1):
        out += [
            str(n),
            f"{vtt_time(cue.start_ms)} --> {vtt_time(cue.end_ms)}",
            f"<v {cue.speaker}>{cue.text}",
            "",
        ]
    return "\n".join(out)


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def samples_toml(clips: tuple[Clip, ...]) -> str:
    out = [
        "# The bundled sample recordings: made by scripts/make_samples.py (do not edit by hand;",
        "# change the script and run it again). scripts/demo.sh adds each clip with this metadata",
        "# and its exact transcript (<name>.vtt), except the clip with demo_whisper = true, which",
        "# it transcribes with Whisper to show the engine.",
        "",
    ]
    for clip in clips:
        speakers = ", ".join(_toml_str(s) for s in clip.speakers)
        out += [
            "[[clips]]",
            f"name = {_toml_str(clip.name)}",
            f"file = {_toml_str(clip.file)}",
            f"transcript = {_toml_str(clip.name + '.vtt')}",
            f"title = {_toml_str(clip.title)}",
            f"date = {_toml_str(clip.date)}",
            f"speakers = [{speakers}]",
            f"event = {_toml_str(clip.event)}",
            f"kind = {_toml_str(clip.kind)}",
            f"description = {_toml_str(clip.description)}",
            f"demo_whisper = {'true' if clip.demo_whisper else 'false'}",
            "",
        ]
    return "\n".join(out)


def make(clip: Clip, out_dir: Path) -> tuple[Path, float]:
    with tempfile.TemporaryDirectory(prefix="vlinder-samples-") as tmp:
        audio, cues = render(clip, Path(tmp))
    target = out_dir / clip.file
    kwargs = dict(clip.export)
    audio.export(target, **kwargs)  # type: ignore[arg-type]
    (out_dir / f"{clip.name}.vtt").write_text(vtt(cues), encoding="utf-8")
    return target, len(audio) / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLES, help="output folder (samples/)")
    parser.add_argument("--only", action="append", help="make only this clip (repeatable)")
    args = parser.parse_args(argv)
    for tool in ("espeak-ng", "ffmpeg"):
        if shutil.which(tool) is None:
            print(f"{tool} ontbreekt: installeer het eerst (scripts/setup.sh)", file=sys.stderr)
            return 1
    names = {c.name for c in CLIPS}
    for name in args.only or ():
        if name not in names:
            print(f"onbekende clip {name!r}; kies uit {', '.join(sorted(names))}", file=sys.stderr)
            return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for clip in CLIPS:
        if args.only and clip.name not in args.only:
            continue
        path, seconds = make(clip, args.out)
        size = path.stat().st_size / 1024
        print(f"{path.name:34s} {seconds:5.1f} s  {size:6.0f} kB  {', '.join(clip.speakers)}")
    (args.out / "samples.toml").write_text(samples_toml(CLIPS), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
