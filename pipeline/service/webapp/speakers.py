"""The producer's speaker corrections on an episode's page ("Sprekers"): rename a speaker for
the whole episode, swap two speakers, or give one turn to another speaker.

Each correction is added to ``[[speaker_overrides]]`` in ``episodes/<slug>/episode.toml``
(format in :mod:`pipeline.speakers.overrides`), so it survives every re-run, exactly like a
correction typed in the file; the form lists them and each can be undone. After a change the
speakers are applied again (the voices are not analysed again: the turns are cached) and the
episode is tagged again, so fragments, search and site follow.

Form fields: ``actie`` (``hernoem``, ``wissel``, ``beurt`` or ``herstel``) with ``van`` and
``naar`` (rename), ``a`` and ``b`` (swap), ``op`` (a time, m:ss) and ``spreker`` (reassign),
or ``nr`` and ``wat`` (undo correction number ``nr``, 1-based, which must still be ``wat``:
two producers never undo each other's corrections by position). Adding a correction posts
only that correction, so it never overwrites another producer's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pipeline import flows
from pipeline.core.episodes import load_episode, save_episode
from pipeline.core.errors import ConflictError, InputError
from pipeline.core.timefmt import clock, parse_time
from pipeline.core.workspace import Workspace
from pipeline.speakers.overrides import KEY, parse_speaker_overrides
from pipeline.transcribe.store import load_transcript

Form = Mapping[str, Any]
EXCERPT = 80  # characters of a turn's text in the list
MAX_TURNS = 400  # turns listed on the page (an hour of panel has a few hundred)


@dataclass(frozen=True)
class TurnRow:
    start: float
    time: str
    speaker: str
    excerpt: str


@dataclass(frozen=True)
class SpeakerRow:
    name: str
    seconds: float  # speaking time
    turns: int


@dataclass(frozen=True)
class SpeakerForm:
    speakers: tuple[SpeakerRow, ...] = ()
    turns: tuple[TurnRow, ...] = ()
    more_turns: int = 0  # turns not listed
    corrections: tuple[str, ...] = ()  # the corrections in episode.toml, as sentences
    note: str = ""  # why there is nothing to correct


def _describe(table: Mapping[str, Any]) -> str:
    if "rename" in table:
        return f"'{table['rename']}' heet '{table.get('to')}'"
    if "swap" in table and isinstance(table["swap"], list) and len(table["swap"]) == 2:
        return f"'{table['swap'][0]}' en '{table['swap'][1]}' omgewisseld"
    if "at" in table:
        at = table["at"]
        when = clock(float(at)) if isinstance(at, int | float) else str(at)
        return f"de beurt op {when} is van '{table.get('speaker')}'"
    return "onbekende correctie"


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def speaker_form(ws: Workspace, slug: str) -> SpeakerForm:
    """What the form shows: the speakers as the transcript has them now, and their turns."""
    ep = load_episode(ws, slug)
    tables = ep.overrides.get(KEY, [])
    corrections = tuple(_describe(t) for t in tables if isinstance(t, Mapping))
    transcript = load_transcript(ws, slug)
    if transcript is None or not any(s.speaker for s in transcript.segments):
        return SpeakerForm(
            corrections=corrections,
            note="Dit transcript heeft (nog) geen sprekers. Geef bij het toevoegen twee of meer "
            "sprekers op (of --speakers N, of soort interview of panel) om ze te laten vinden.",
        )
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    turns: list[TurnRow] = []
    for seg in transcript.segments:
        if not seg.speaker:
            continue
        seconds[seg.speaker] = seconds.get(seg.speaker, 0.0) + max(0.0, seg.end - seg.start)
        if turns and turns[-1].speaker == seg.speaker:
            last = turns[-1]
            turns[-1] = replace(last, excerpt=_excerpt(f"{last.excerpt} {seg.text}"))
            continue
        counts[seg.speaker] = counts.get(seg.speaker, 0) + 1
        turns.append(TurnRow(seg.start, clock(seg.start), seg.speaker, _excerpt(seg.text)))
    rows = tuple(SpeakerRow(n, round(s), counts.get(n, 0)) for n, s in seconds.items())
    return SpeakerForm(
        speakers=rows,
        turns=tuple(turns[:MAX_TURNS]),
        more_turns=max(0, len(turns) - MAX_TURNS),
        corrections=corrections,
    )


def _field(form: Form, name: str, what: str) -> str:
    value = form.get(name, "")
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"geef {what}")
    if len(value) > 200:
        raise InputError(f"{what} is te lang")
    return value.strip()


def _correction(form: Form) -> dict[str, Any]:
    """The new ``[[speaker_overrides]]`` table the form asks for."""
    action = form.get("actie", "")
    if action == "hernoem":
        return {"rename": _field(form, "van", "de spreker"), "to": _field(form, "naar", "een naam")}
    if action == "wissel":
        a, b = _field(form, "a", "de eerste spreker"), _field(form, "b", "de tweede spreker")
        if a == b:
            raise InputError("kies twee verschillende sprekers om te wisselen")
        return {"swap": [a, b]}
    if action == "beurt":
        at = parse_time(_field(form, "op", "de tijd van de beurt"), "de tijd van de beurt")
        return {"at": round(at, 2), "speaker": _field(form, "spreker", "de spreker")}
    raise InputError("onbekende actie")


def save_speakers(ws: Workspace, slug: str, form: Form) -> str:
    """Add (or undo) a correction, apply the speakers again and tag the episode again."""
    with ws.lock():
        ep = load_episode(ws, slug)
        tables = [dict(t) for t in ep.overrides.get(KEY, []) if isinstance(t, Mapping)]
        if form.get("actie") == "herstel":
            try:
                n = int(str(form.get("nr", "")))
            except ValueError:
                n = 0
            if not 1 <= n <= len(tables) or _describe(tables[n - 1]) != form.get("wat"):
                # the list changed since the page was loaded: never undo another correction
                raise ConflictError(
                    "de correcties zijn intussen gewijzigd; er is niets ongedaan gemaakt, "
                    "bekijk de lijst opnieuw"
                )
            del tables[n - 1]
            message = "Correctie ongedaan gemaakt."
        else:
            tables.append(_correction(form))
            message = "Sprekers gecorrigeerd; de fragmenten en de zoekindex zijn bijgewerkt."
        parse_speaker_overrides({KEY: tables}, "sprekers")  # one clear line before writing
        overrides = {k: v for k, v in ep.overrides.items() if k != KEY}
        if tables:
            overrides[KEY] = tables
        save_episode(ws, replace(ep, overrides=overrides))
    flows.diarize(ws, slug)
    return message
