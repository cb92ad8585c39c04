"""``vlinder serve``: the built site on localhost (with HTTP Range for the audio)."""

from __future__ import annotations

import click

from . import Context, pass_ctx


@click.command("serve")
@click.option(
    "--port",
    "-p",
    type=click.IntRange(0, 65535),
    default=None,
    help="Poort (standaard: [server] port in vlinder.toml, anders 8000).",
)
@click.option(
    "--host",
    default=None,
    help="Adres om op te luisteren (standaard: [server] host, anders 127.0.0.1).",
)
@click.option(
    "--watch",
    is_flag=True,
    help="Bouw opnieuw zodra episodes/, transcripts/, taxonomy.toml of vlinder.toml verandert.",
)
@click.option("--no-build", is_flag=True, help="Niet eerst bouwen; serveer site/ zoals die is.")
@click.option(
    "--producer/--no-producer",
    default=True,
    show_default=True,
    help="De producentenomgeving onder /producent/ (uploaden, bewerken, publiceren).",
)
@click.option(
    "--no-worker",
    is_flag=True,
    help="Geen worker in dit proces: taken wachten op `vlinder worker`.",
)
@pass_ctx
def serve_command(
    ctx: Context,
    port: int | None,
    host: str | None,
    watch: bool,
    no_build: bool,
    producer: bool,
    no_worker: bool = False,
) -> None:
    """Serveer de site lokaal, met terugspoelen in de audio (HTTP Range)."""
    from pipeline.flows import build
    from pipeline.service.messages import build_lines
    from pipeline.service.server import hosting, serve

    ws = ctx.ws
    settings = ws.settings.server
    host = host or settings.host
    port = settings.port if port is None else port
    token, created = "", False
    if producer:  # a weak [server] token stops here, before building: one line, exit 1
        from pipeline.service.webapp import producer_token

        token, created = producer_token(ws)
    with hosting(ws, host, port) as url:
        if not no_build:
            for line in build_lines(build(ws)):
                click.echo(line)
        elif not (ws.site_dir / "index.html").exists():
            click.echo("Let op: site/ is nog leeg; draai eerst `vlinder build`.", err=True)
        click.echo(f"De site draait op {url}/ (stoppen met Ctrl-C)")
        if producer:
            click.echo(f"Producentenomgeving: {url}/producent/")
            if created:
                click.echo(
                    f"Nieuwe toegangscode voor de producentenomgeving: {token}\n"
                    f"(bewaard in {ws.state_dir.name}/producer-token; stel zelf een code in met "
                    "[server] token in vlinder.toml)"
                )
            if no_worker:
                click.echo("Geen worker in dit proces: start `vlinder worker` voor de taken.")
        if watch:
            click.echo("Ik bouw opnieuw zodra er iets verandert.")
        serve(ws, host, port, watch, producer=producer, worker=not no_worker, report=click.echo)


COMMANDS: list[click.Command] = [serve_command]
