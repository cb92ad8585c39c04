"""CLI commands of the job queue: ``vlinder worker`` and ``vlinder jobs``."""

from __future__ import annotations

import click

from . import Context, pass_ctx


@click.command("worker")
@pass_ctx
def worker_cmd(ctx: Context) -> None:
    """Start een worker die de wachtrij verwerkt (uploads en `vlinder add --queue`).

    Eén taak tegelijk. Stop met Ctrl-C: de lopende taak wordt afgemaakt. Taken die een
    afgebroken worker liet liggen, worden bij de start opnieuw in de wachtrij gezet.
    """
    from pipeline.service.jobs import run_worker

    ws = ctx.ws
    queue = ws.settings.server.queue

    def started(requeued: list[str]) -> None:
        click.echo(f"Worker gestart (wachtrij: {queue}) voor {ws.root}. Stop met Ctrl-C.", err=True)
        for job_id in requeued:
            click.echo(f"Taak {job_id} opnieuw in de wachtrij gezet.", err=True)

    run_worker(ws, on_start=started)


@click.command("jobs")
@click.option("--limit", "-n", default=20, show_default=True, help="Hoeveel taken tonen.")
@click.option(
    "--retry", "retry_id", default=None, help="Zet een mislukte taak opnieuw in de wachtrij."
)
@pass_ctx
def jobs_cmd(ctx: Context, limit: int, retry_id: str | None) -> None:
    """Toon de taken in de wachtrij: status, stap en voortgang."""
    from pipeline.service.jobs import list_jobs, retry

    ws = ctx.ws
    if retry_id:
        job = retry(ws, retry_id)
        click.echo(f"Taak {job.id} staat weer in de wachtrij.")
        return
    rows = list_jobs(ws, limit)
    if not rows:
        click.echo("Geen taken.")
        return
    for job in rows:
        progress = f" {job.progress * 100:.0f}%" if job.state == "running" else ""
        title = job.params.get("title") or job.source_name
        line = f"{job.id}  {job.state:<7} {job.stage:<10}{progress}  {title}"
        if job.slug:
            line += f"  -> {job.slug}"
        click.echo(line)
        if job.error:
            click.echo(f"    fout: {job.error}")


COMMANDS: list[click.Command] = [worker_cmd, jobs_cmd]
