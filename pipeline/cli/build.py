"""CLI commands of the build stage (placeholder: filled in by its issue)."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
