"""CLI of the diarize stage: ``vlinder diarize`` and ``vlinder eval speakers``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline.core.errors import InputError, VlinderError

from . import Context, pass_ctx
from .evaluate import eval_group


@click.command("diarize")
@click.argument("slug", required=False)
@click.option("--all", "all_", is_flag=True, help="Alle afleveringen met een transcript.")
@click.option("--force", is_flag=True, help="Zoek de sprekers opnieuw, ook als niets veranderde.")
@pass_ctx
def diarize_command(ctx: Context, slug: str | None, all_: bool, force: bool) -> None:
    """Bepaal wie wanneer spreekt (interviews, panels) en zet de namen in het transcript.

    Daarna worden de fragmenten opnieuw getagd. Namen gaan op volgorde van eerste optreden:
    de eerste stem die je hoort krijgt de eerste --speaker-naam uit `vlinder add`.
    """
    from pipeline import flows
    from pipeline.core.episodes import list_episodes
    from pipeline.service.messages import speaker_lines

    if bool(slug) == all_:
        raise click.UsageError("geef één SLUG of --all")
    ws = ctx.ws
    slugs = [ep.slug for ep in list_episodes(ws)] if all_ else [slug or ""]
    slugs = [s for s in slugs if not all_ or ws.transcript_path(s, "json").exists()]
    failed: list[str] = []
    for name in slugs:
        try:
            result = flows.diarize(ws, name, force=force)
        except VlinderError as exc:
            if not all_:
                raise
            failed.append(name)
            click.echo(f"{name}: mislukt: {exc}", err=True)
            continue
        lines = speaker_lines(result) or ["Eén spreker: niets te doen."]
        click.echo(f"{name}: {' '.join(lines)}")
    if failed:
        raise InputError(
            f"{len(failed)} van {len(slugs)} afleveringen mislukt: {', '.join(failed)}"
        )


@eval_group.command("speakers")
@click.argument("audio", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("truth", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--estimate",
    is_flag=True,
    help="Schat het aantal sprekers (standaard: het aantal in TRUTH).",
)
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON.")
@pass_ctx
def eval_speakers(ctx: Context, audio: Path, truth: Path, estimate: bool, as_json: bool) -> None:
    """Meet wie-spreekt-wanneer: DER en het deel van de spraak bij de juiste spreker.

    TRUTH is RTTM (.rttm) of JSONL (.jsonl, per regel start, end, speaker). Per 10 ms, met
    0,25 s marge rond elke echte beurt en de beste koppeling van namen.
    """
    from pipeline.evaluation.speakers import evaluate_speakers

    result = evaluate_speakers(audio, truth, ctx.ws.cache_dir, estimate=estimate)
    s = result.score
    figures = {
        "audio": result.audio,
        "truth": result.truth,
        "speakers_true": result.speakers_true,
        "speakers_found": result.speakers_found,
        "estimated": result.estimated,
        "der": round(s.der, 4),
        "accuracy": round(s.accuracy, 4),
        "scored_s": round(s.scored, 2),
        "missed_s": round(s.missed, 2),
        "false_alarm_s": round(s.false_alarm, 2),
        "confusion_s": round(s.confusion, 2),
        "mapping": s.mapping,
        "seconds": round(result.seconds, 2),
    }
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    found = "geschat" if result.estimated else "gegeven"
    click.echo(f"Sprekers: {result.speakers_found} ({found}), echt {result.speakers_true}")
    click.echo(f"Juiste spreker: {s.accuracy:.1%} van {s.scored:.1f} s spraak")
    click.echo(
        f"DER: {s.der:.1%} (gemist {s.missed:.1f} s, vals alarm {s.false_alarm:.1f} s, "
        f"verwisseld {s.confusion:.1f} s)"
    )


COMMANDS: list[click.Command] = [diarize_command]
