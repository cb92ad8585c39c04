"""The ``vlinder`` command: a thin click layer over the pipeline.

Each command parses its options, calls one core function and prints the result. Core errors
(:class:`pipeline.core.errors.VlinderError`) become one-line ``click.ClickException`` messages here
and nowhere else. Commands live in the modules of this package, one per stage.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from pipeline.core.errors import VlinderError
from pipeline.core.workspace import Workspace, check_workspace, resolve_workspace

from .. import __version__


class VlinderClickError(click.ClickException):
    """A core error as a click error, keeping the core error's exit code."""

    def __init__(self, exc: VlinderError):
        super().__init__(str(exc))
        self.exit_code = exc.exit_code  # type: ignore[misc]


class VlinderGroup(click.Group):
    """Turns core errors and interrupts into one clear line and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VlinderError as exc:
            raise VlinderClickError(exc) from exc
        except KeyboardInterrupt:
            click.echo(
                "Afgebroken; er is niets half weggeschreven. Start opnieuw om verder te gaan.",
                err=True,
            )
            sys.exit(130)


class Context:
    """What every command gets: the workspace (resolved lazily; it must exist: only `vlinder
    init` makes one)."""

    def __init__(self, workspace: str | None):
        self._workspace_arg = workspace
        self._ws: Workspace | None = None

    @property
    def ws(self) -> Workspace:
        if self._ws is None:
            self._ws = check_workspace(resolve_workspace(self._workspace_arg))
        return self._ws


pass_ctx = click.make_pass_decorator(Context)


@click.group(cls=VlinderGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    "-w",
    type=click.Path(file_okay=False),
    envvar="VLINDER_WORKSPACE",
    help="Werkruimte (map met episodes/, transcripts/, feeds/, site/). "
    "Standaard: de huidige map als die een vlinder.toml heeft, anders de repository.",
)
@click.option("--verbose", "-v", is_flag=True, help="Toon technische details (logging).")
@click.version_option(__version__, prog_name="vlinder")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, verbose: bool) -> None:
    """Vlinder: van opgenomen lezingen en interviews naar een doorzoekbare podcast."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = Context(workspace)


def _register() -> None:
    from . import build, clip, episodes, evaluate, jobs, search, serve, speakers, tag, transcribe

    for module in (episodes, transcribe, speakers, tag, build, search, clip, evaluate, serve, jobs):
        for command in getattr(module, "COMMANDS", ()):
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="vlinder")
