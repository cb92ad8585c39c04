"""``vlinder eval``: measurements on development sets. Each stage adds its subcommand
(``asr``, ``tagging``, ``segmentation``, ``search``) with ``@eval_group.command``."""

from __future__ import annotations

import click


@click.group("eval")
def eval_group() -> None:
    """Meet de kwaliteit: spraakherkenning, tagging, segmentatie en zoeken."""


COMMANDS: list[click.Command] = [eval_group]
