"""CLI of the search stage: ``vlinder search`` and ``vlinder eval search``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline.core.timefmt import clock

from . import Context, pass_ctx
from .evaluate import eval_group


@click.command("search")
@click.argument("query", required=False)
@click.option(
    "--ingredient",
    "-i",
    "ingredients",
    multiple=True,
    metavar="ID",
    help="Alleen fragmenten met dit ingrediënt (herhaalbaar).",
)
@click.option(
    "--vlinder", metavar="ID", help="Alleen fragmenten met een ingrediënt van deze vlinder."
)
@click.option("--speaker", metavar="NAAM", help="Alleen afleveringen met deze spreker.")
@click.option("--episode", metavar="SLUG", help="Alleen in deze aflevering.")
@click.option("--limit", "-n", default=10, show_default=True, help="Hoeveel resultaten.")
@click.option("--json", "as_json", is_flag=True, help="Resultaten als JSON.")
@pass_ctx
def search_command(
    ctx: Context,
    query: str | None,
    ingredients: tuple[str, ...],
    vlinder: str | None,
    speaker: str | None,
    episode: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Zoek in alle transcripties naar fragmenten over een onderwerp.

    QUERY mag in gewone woorden ("hoe deelden ze risico's"); andere woordvormen, delen van
    samenstellingen en verwante woorden tellen mee. Zonder QUERY toont het de fragmenten met
    het gekozen --ingredient, --vlinder, --speaker of --episode.
    """
    from pipeline.catalogue import open_catalogue
    from pipeline.core.taxonomy import load_taxonomy
    from pipeline.search import SearchOptions, search

    ws = ctx.ws
    if not ws.catalogue_path.exists():
        raise click.ClickException(
            f"geen catalogus in {ws.root}: voeg eerst een aflevering toe (vlinder add)"
        )
    options = SearchOptions(
        limit=limit, ingredients=ingredients, vlinder=vlinder, speaker=speaker, episode=episode
    )
    with open_catalogue(ws) as cat:
        result = search(cat, query, options, load_taxonomy(ws))
    if as_json:
        click.echo(
            json.dumps(
                {
                    "query": result.query,
                    "total": result.total,
                    "hits": [
                        {
                            "episode": h.slug,
                            "title": h.episode_title,
                            "date": h.episode_date,
                            "fragment": h.index,
                            "anchor": h.anchor,
                            "start": h.start,
                            "end": h.end,
                            "time": clock(h.start),
                            "score": h.score,
                            "snippet": h.snippet(),
                            "text": h.text,
                            "ingredients": list(h.ingredients),
                            "speakers": list(h.speakers),
                        }
                        for h in result.hits
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not result.hits:
        what = f"'{query}'" if query else "deze filters"
        click.echo(f"Niets gevonden voor {what}.")
        if query:
            click.echo("Tip: probeer een ander of korter woord, of laat een filter weg.")
        return
    for n, h in enumerate(result.hits, start=1):
        click.echo(
            click.style(f"{n}. {h.episode_title}", bold=True)
            + f"  [{h.slug} @ {clock(h.start)}, fragment {h.index}]"
        )
        click.echo(f"   {h.snippet()}")
        if h.speakers:
            click.echo(f"   sprekers: {', '.join(h.speakers)}")
        if h.ingredients:
            click.echo(f"   ingrediënten: {', '.join(h.ingredients)}")
    shown = len(result.hits)
    if result.total > shown:
        click.echo(f"({shown} van {result.total} fragmenten; meer met --limit)")


@eval_group.command("search")
@click.argument("corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("queries", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--tags",
    type=click.Choice(["auto", "corpus", "none"]),
    default="auto",
    show_default=True,
    help="Ingrediënten van de fragmenten: door onze tagger (auto), uit het corpus (die"
    " labels zijn ook de juiste antwoorden: te optimistisch), of geen.",
)
@click.option("-k", default=5, show_default=True, help="Recall@k.")
@click.option("--json", "as_json", is_flag=True, help="Ook de rangorde per zoekvraag, als JSON.")
def eval_search_command(corpus: Path, queries: Path, tags: str, k: int, as_json: bool) -> None:
    """Meet het zoeken: recall@5 en MRR op een corpus.

    QUERIES (jsonl: query, relevant) op CORPUS (jsonl: id, text, ingredients),
    geïndexeerd in een tijdelijke catalogus. Standaard tagt onze eigen tagger de fragmenten (--tags auto), zoals in een nieuwe
    catalogus; de ingrediënten uit het corpus gebruiken (--tags corpus) lekt de antwoorden."""
    from pipeline.core.taxonomy import load_taxonomy
    from pipeline.evaluation.search import evaluate_search, read_corpus, read_queries

    items = read_corpus(corpus.read_text(encoding="utf-8").splitlines(), corpus.name)
    qs = read_queries(queries.read_text(encoding="utf-8").splitlines(), queries.name)
    report = evaluate_search(items, qs, k=k, tags=tags, taxonomy=load_taxonomy())
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"{report['queries']} zoekvragen, {report['fragments']} fragmenten (ingrediënten: {tags})"
    )
    click.echo(f"recall@{k}: {report[f'recall@{k}']:.3f}")
    click.echo(f"MRR:       {report['mrr']:.3f}")
    for q in report["per_query"]:
        if q[f"recall@{k}"] < 1.0:
            missing = [r for r in q["relevant"] if r not in q["ranked"][:k]]
            click.echo(f"  gemist: {q['query']!r} -> {', '.join(missing)}")


COMMANDS: list[click.Command] = [search_command]
