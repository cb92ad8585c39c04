"""CLI commands of the episodes stage: init, add, list, show, remove, reindex."""

from __future__ import annotations

import contextlib
import math
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.core.timefmt import clock

from . import Context, pass_ctx

if TYPE_CHECKING:
    from pipeline.ingest import IngestResult


def _lufs(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if not math.isfinite(value) or value <= -99.0:
        return f"-inf {unit} (stil)"
    return f"{value:.1f} {unit}"


@contextlib.contextmanager
def _progressbars(labels: dict[str, str]) -> Iterator[Callable[[str, float, float], None]]:
    """Click progress bars on stderr, one per stage, driven by ``progress(stage, done_s,
    total_s)`` callbacks; a bar ends when the next stage reports (only on a terminal)."""
    stack = contextlib.ExitStack()
    state: dict[str, Any] = {"stage": None, "bar": None, "done": 0}
    interactive = sys.stderr.isatty()

    def progress(stage: str, done: float, total: float) -> None:
        if total <= 0 or not interactive:
            return
        if state["stage"] != stage:
            stack.close()
            state.update(stage=stage, done=0)
            state["bar"] = stack.enter_context(
                click.progressbar(
                    length=1000, label=labels.get(stage, stage), file=sys.stderr, width=30
                )
            )
        step = int(1000 * min(done, total) / total)
        if step > state["done"]:
            state["bar"].update(step - state["done"])
            state["done"] = step

    with stack:
        yield progress


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def init_cmd(directory: Path) -> None:
    """Maak een nieuwe werkruimte in DIRECTORY (mappen, vlinder.toml, taxonomie)."""
    from pipeline.flows import init

    ws = init(directory)
    click.echo(f"Werkruimte klaar in {ws.root}")
    click.echo(f"Pas {ws.settings_path.name} aan (titel, auteur, e-mail, base_url).")


@click.command("add")
@click.argument("recording", type=click.Path(path_type=Path))
@click.option(
    "--title", "-t", default="", help="Titel (standaard: uit de tags of de bestandsnaam)."
)
@click.option(
    "--date", "-d", "date", default="", help="Datum JJJJ-MM-DD (standaard: uit de tags of vandaag)."
)
@click.option(
    "--speaker",
    "-s",
    "speakers",
    multiple=True,
    help="Spreker; herhaal voor meerdere, in de volgorde waarin ze voor het eerst spreken.",
)
@click.option("--description", default="", help="Korte beschrijving (shownotes).")
@click.option("--event", default="", help="Evenement, bijv. 'Symposium Dijkversterking 2025'.")
@click.option(
    "--speakers",
    "speaker_count",
    type=int,
    default=None,
    metavar="N",
    help="Aantal sprekers als de namen (nog) niet bekend zijn; zonder aantal en namen schat "
    "Vlinder het bij een interview of panel (2 tot 6).",
)
@click.option(
    "--kind",
    type=click.Choice(["talk", "interview", "panel"]),
    default="talk",
    show_default=True,
    help="Soort opname: lezing, interview of panelgesprek.",
)
@click.option("--force", is_flag=True, help="Voeg toe, ook als deze opname er al is.")
@click.option("--no-transcribe", is_flag=True, help="Sla het uitschrijven (Whisper) over.")
@click.option(
    "--queue",
    is_flag=True,
    help="Zet de opname in de wachtrij (vlinder worker / vlinder serve verwerkt haar) "
    "in plaats van haar nu te verwerken.",
)
@click.option(
    "--transcript",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Importeer een bestaand transcript (VTT/SRT/JSON) in plaats van Whisper.",
)
@pass_ctx
def add_cmd(
    ctx: Context,
    recording: Path,
    title: str,
    date: str,
    speakers: tuple[str, ...],
    description: str,
    event: str,
    kind: str,
    speaker_count: int | None,
    force: bool,
    no_transcribe: bool,
    transcript: Path | None,
    queue: bool = False,
) -> None:
    """Voeg een opname toe als aflevering: genormaliseerde podcast-MP3 plus metadata.

    RECORDING mag wav, mp3, m4a/aac, ogg/opus, flac of een video met geluid (mp4, mov) zijn.
    Drukt de slug van de nieuwe aflevering af.
    """
    from pipeline import flows
    from pipeline.core.episodes import clean_meta, parse_date
    from pipeline.core.models import EpisodeMeta
    from pipeline.service.messages import process_lines

    ws = ctx.ws
    meta = clean_meta(
        EpisodeMeta(
            title=title,
            date=parse_date(date) if date else None,
            speakers=speakers,
            description=description,
            event=event,
            kind=kind,
            speaker_count=speaker_count,
        )
    )
    if queue:
        from pipeline.service.jobs import queue_recording

        if transcript is not None or force:
            raise click.UsageError("--queue gaat niet samen met --transcript of --force")
        job = queue_recording(ws, recording, meta, transcribe=not no_transcribe)
        click.echo(job.id)
        click.echo("In de wachtrij gezet; volg de taak met `vlinder jobs`.", err=True)
        return

    def ingested(result: IngestResult) -> None:
        for warning in result.warnings:
            click.echo(f"Waarschuwing: {warning}", err=True)
        if result.resumed:
            click.echo(
                f"Deze opname was al (deels) toegevoegd; aflevering '{result.episode.slug}' "
                "is afgemaakt.",
                err=True,
            )
        click.echo(result.episode.slug)

    with _progressbars({"ingest": "Audio normaliseren", "transcribe": "Uitschrijven"}) as progress:
        added = flows.add(
            ws,
            recording,
            meta,
            force=force,
            transcribe_audio=not no_transcribe,
            transcript_file=transcript,
            on_ingested=ingested,
            progress=progress,
        )
    for line in process_lines(added.process):
        click.echo(line)


_STATUS = {"done": "✓", "failed": "✗", "running": "…", "pending": "·", "stale": "~"}


def _stage_cells(stages: dict[str, object]) -> list[str]:
    from pipeline.catalogue import STAGES

    cells = []
    for stage in STAGES:
        row = stages.get(stage)
        status = row["status"] if row is not None else ""  # type: ignore[index]
        cells.append(_STATUS.get(status, status or "-"))
    return cells


def _catalogue_stages(ctx: Context) -> dict[str, dict[str, Any]]:
    from pipeline.catalogue import open_catalogue

    ws = ctx.ws
    if not ws.catalogue_path.exists():
        return {}
    with open_catalogue(ws) as cat:
        return cat.all_stages()


@click.command("list")
@pass_ctx
def list_cmd(ctx: Context) -> None:
    """Toon alle afleveringen: slug, datum, titel, duur en de status per stap."""
    from pipeline.catalogue import STAGES
    from pipeline.core.episodes import list_episodes

    episodes = list_episodes(ctx.ws)
    if not episodes:
        click.echo("Nog geen afleveringen. Voeg er een toe met `vlinder add OPNAME`.")
        return
    stages = _catalogue_stages(ctx)
    header = ["slug", "datum", "titel", "duur", *STAGES]
    rows = []
    for ep in episodes:
        title = ep.title if len(ep.title) <= 40 else ep.title[:39] + "…"
        rows.append(
            [
                ep.slug,
                ep.date.isoformat(),
                title,
                clock(ep.duration),
                *_stage_cells(stages.get(ep.slug, {})),
            ]
        )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if any(ep.slug not in stages for ep in episodes):
        click.echo(
            "(niet alle afleveringen staan in de catalogus: draai `vlinder reindex`)", err=True
        )


@click.command("show")
@click.argument("slug")
@pass_ctx
def show_cmd(ctx: Context, slug: str) -> None:
    """Toon de metadata, het luidheidsrapport en de status van een aflevering."""
    from pipeline.catalogue import STAGES
    from pipeline.core.episodes import load_episode

    ws = ctx.ws
    ep = load_episode(ws, slug)
    lines = [
        ("Slug", ep.slug),
        ("Titel", ep.title),
        ("Datum", ep.date.isoformat()),
        ("Sprekers", ", ".join(ep.speakers) or "-"),
        ("Soort", ep.kind),
        ("Evenement", ep.event or "-"),
        ("Beschrijving", ep.description or "-"),
        ("Duur", clock(ep.duration)),
        ("Audio", f"{ws.episode_dir(slug).relative_to(ws.root)}/{ep.audio_file}"),
        ("Grootte", f"{ep.audio_bytes / 1024 / 1024:.1f} MB"),
        ("Bronbestand", ep.source_name or "-"),
        ("Inhoudshash", ep.content_hash or "-"),
        ("GUID", ep.guid),
    ]
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        click.echo(f"{key.ljust(width)}  {value}")
    click.echo("")
    click.echo("Luidheid            voor          na")
    loud = ep.loudness
    if loud is None:
        click.echo("  (niet gemeten)")
    else:
        click.echo(
            f"  geïntegreerd      {_lufs(loud.input_i, 'LUFS'):<13} {_lufs(loud.output_i, 'LUFS')}"
        )
        click.echo(
            f"  true peak         {_lufs(loud.input_tp, 'dBTP'):<13} {_lufs(loud.output_tp, 'dBTP')}"
        )
        click.echo(
            f"  bereik (LRA)      {_lufs(loud.input_lra, 'LU'):<13} {_lufs(loud.output_lra, 'LU')}"
        )
    click.echo("")
    click.echo("Stappen")
    stages = _catalogue_stages(ctx).get(slug, {})
    for stage in STAGES:
        row = stages.get(stage)
        if row is None:
            click.echo(f"  {stage:<11} -")
        else:
            msg = f" ({row['message']})" if row["message"] else ""  # type: ignore[index]
            click.echo(f"  {stage:<11} {row['status']}{msg}  {row['updated']}")  # type: ignore[index]


def _confirm(question: str) -> bool:
    """A yes/no question that understands Dutch (j/ja) and English (y/yes); default no."""
    answer = click.prompt(f"{question} [j/N]", default="n", show_default=False)
    return answer.strip().lower() in ("j", "ja", "y", "yes")


@click.command("remove")
@click.argument("slug")
@click.option("--yes", "-y", is_flag=True, help="Niet om bevestiging vragen.")
@pass_ctx
def remove_cmd(ctx: Context, slug: str, yes: bool) -> None:
    """Verwijder een aflevering: de map, de transcripten en de catalogusregels."""
    from pipeline.core.episodes import load_episode
    from pipeline.core.errors import NotFoundError, WorkspaceError
    from pipeline.flows import remove

    ws = ctx.ws
    try:
        label = f"'{load_episode(ws, slug).title}' ({slug})"
    except NotFoundError:
        label = slug
    except WorkspaceError:
        label = slug
    if not yes and not _confirm(f"Aflevering {label} verwijderen?"):
        click.echo("Niets verwijderd.")
        return
    removed = remove(ws, slug)
    click.echo(f"Verwijderd: {slug} ({len(removed)} onderdelen)")


@click.command("reindex")
@pass_ctx
def reindex_cmd(ctx: Context) -> None:
    """Bouw de catalogus opnieuw op uit de bestanden (episode.toml, transcripten)."""
    from pipeline.core.errors import WorkspaceError
    from pipeline.flows import reindex

    report = reindex(ctx.ws)
    click.echo(f"{len(report.indexed)} afleveringen geïndexeerd, {len(report.removed)} verwijderd.")
    for slug, problem in report.problems:
        click.echo(f"Probleem: {slug}: {problem}", err=True)
    if report.problems:
        raise WorkspaceError(f"{len(report.problems)} afleveringen konden niet worden gelezen")


COMMANDS: list[click.Command] = [init_cmd, add_cmd, list_cmd, show_cmd, remove_cmd, reindex_cmd]
