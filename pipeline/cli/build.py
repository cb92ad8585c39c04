"""CLI commands of the build stage: ``vlinder build`` and ``vlinder check``."""

from __future__ import annotations

import click

from . import Context, pass_ctx


@click.command("build")
@click.option(
    "--base-url",
    metavar="URL",
    help="Basis-URL waarop site en feeds komen te staan (overschrijft podcast.base_url), "
    "bijv. https://podcast.example.org.",
)
@pass_ctx
def build_command(ctx: Context, base_url: str | None) -> None:
    """Bouw de podcastfeeds (feeds/) en de site (site/).

    Stopt met een foutmelding als een feed ongeldig zou worden; feeds/ blijft dan zoals hij was.
    Een aflevering die niet gelezen kan worden, wordt overgeslagen (met de reden); de rest
    wordt gepubliceerd en de exitcode is dan 1.
    """
    from pipeline.core.errors import WorkspaceError
    from pipeline.flows import build
    from pipeline.service.messages import build_lines

    result = build(ctx.ws, base_url=base_url)
    for line in build_lines(result):
        click.echo(line)
    if result.failed:
        raise WorkspaceError(
            f"{len(result.failed)} aflevering(en) overgeslagen; herstel ze en bouw opnieuw"
        )


@click.command("check")
@click.option(
    "--allow-http",
    is_flag=True,
    help="Accepteer http-URL's (voor een lokale demo); standaard eist de controle https.",
)
@pass_ctx
def check_command(ctx: Context, allow_http: bool) -> None:
    """Controleer de gebouwde feeds op Apple's verplichte tags en de podcast-namespace.

    Elk probleem komt op een eigen regel; de exitcode is 1 als er problemen zijn.
    """
    from pipeline.feed.check import check_feeds

    problems = check_feeds(ctx.ws, allow_http=allow_http)
    for line in problems:
        click.echo(line)
    if problems:
        click.echo(f"{len(problems)} probleem/problemen gevonden.", err=True)
        raise SystemExit(1)
    click.echo("De feeds zijn in orde.")


COMMANDS: list[click.Command] = [build_command, check_command]
