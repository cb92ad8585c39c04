"""CLI commands of the tag stage: ``vlinder tag`` and ``vlinder eval tagging|segmentation``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline.core.errors import InputError, VlinderError

from . import Context, pass_ctx
from .evaluate import eval_group


@click.command("tag")
@click.argument("slug", required=False)
@click.option("--all", "all_", is_flag=True, help="Tag alle afleveringen met een transcript.")
@click.option("--force", is_flag=True, help="Opnieuw taggen, ook als er niets veranderd is.")
@pass_ctx
def tag_command(ctx: Context, slug: str | None, all_: bool, force: bool) -> None:
    """Deel een transcript in hoofdstukken en fragmenten in en tag de ingrediënten."""
    from pipeline.core.episodes import list_episodes  # lazy: every command pays for module imports
    from pipeline.flows import tag

    if bool(slug) == all_:
        raise click.UsageError("geef één SLUG of --all")
    ws = ctx.ws
    if all_:
        slugs = [
            ep.slug
            for ep in list_episodes(ws)
            if ws.transcript_path(ep.slug, "json").exists()
            or ws.transcript_path(ep.slug, "vtt").exists()
        ]
        if not slugs:
            click.echo("Geen afleveringen met een transcript.")
            return
    else:
        slugs = [slug or ""]
    failed = 0
    for s in slugs:
        try:
            result = tag(ws, s, force=force)
        except VlinderError as exc:
            if not all_:
                raise
            failed += 1
            click.echo(f"{s}: {exc}", err=True)
            continue
        click.echo(
            f"{s}: {len(result.chapters)} hoofdstukken, {len(result.fragments)} fragmenten, "
            f"{result.tagged} met ingrediënten."
        )
    if failed:
        raise click.ClickException(f"{failed} van {len(slugs)} afleveringen mislukt")


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path} is niet leesbaar ({exc})") from exc


@eval_group.command("tagging")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON, met elke voorspelling.")
@click.option(
    "--folds",
    type=int,
    default=0,
    help="Kruisvalidatie in N delen: de regels van de andere delen zijn extra voorbeelden, "
    "een regel scoort nooit op een model dat hem leerde.",
)
@pass_ctx
def eval_tagging(ctx: Context, file: str, as_json: bool, folds: int) -> None:
    """Precisie, recall en F1 van de tagging op een JSONL-bestand (zoals tagging-dev.jsonl)."""
    from pipeline.core.taxonomy import load_taxonomy
    from pipeline.evaluation.tagging import cross_validate, evaluate_tagging, read_tagging_jsonl

    items = read_tagging_jsonl(_read_lines(file), file)
    tax = load_taxonomy(ctx.ws)
    if folds:
        result = cross_validate(items, tax, folds, ctx.ws.cache_dir)
    else:
        result = evaluate_tagging(items, tax, ctx.ws.cache_dir)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    micro, macro = result["micro"], result["macro"]
    how = f", kruisvalidatie in {folds} delen" if folds else ""
    click.echo(f"{result['items']} items, taxonomie {result['taxonomy_version']}{how}")
    click.echo(f"methode {result['method']}")
    click.echo(f"{'':8} {'precisie':>9} {'recall':>7} {'F1':>7}")
    for name, m in (("micro", micro), ("macro", macro)):
        click.echo(f"{name:8} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:7.3f}")
    off = result["offtopic"]
    click.echo(f"off-topic: {off['tagged']} van {off['items']} items kregen een ingrediënt")
    click.echo("")
    click.echo(f"{'ingrediënt':34} {'precisie':>9} {'recall':>7} {'F1':>7} {'n':>4}")
    for ing, m in result["per_ingredient"].items():
        click.echo(
            f"{ing:34} {m['precision']:9.3f} {m['recall']:7.3f} {m['f1']:7.3f} {m['support']:4d}"
        )


@eval_group.command("segmentation")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON, per lezing.")
@pass_ctx
def eval_segmentation(ctx: Context, file: str, as_json: bool) -> None:
    """Pk en WindowDiff van de hoofdstukindeling op een JSONL-bestand met lezingen."""
    from pipeline.core.taxonomy import load_taxonomy
    from pipeline.evaluation.segmentation import evaluate_segmentation, read_segmentation_jsonl

    items = read_segmentation_jsonl(_read_lines(file), file)
    result = evaluate_segmentation(items, load_taxonomy(ctx.ws))
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    click.echo(f"{result['items']} lezingen")
    click.echo(f"Pk          {result['pk']:.3f}")
    click.echo(f"WindowDiff  {result['window_diff']:.3f}")
    for row in result["talks"]:
        click.echo(
            f"  {row['id']:12} Pk {row['pk']:.3f}  WD {row['window_diff']:.3f}  "
            f"hoofdstukken {row['predicted_chapters']} (referentie {row['reference_chapters']})"
        )


COMMANDS: list[click.Command] = [tag_command]
