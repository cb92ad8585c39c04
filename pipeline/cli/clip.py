"""CLI of the clips stage: ``vlinder clip``."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.core.timefmt import clock, parse_time

from . import Context, pass_ctx


def _time(seconds: float) -> str:
    """``0:12.3``: the clock time with tenths."""
    rounded = round(seconds, 1)
    return f"{clock(rounded)}.{int(round(rounded * 10)) % 10}"


@click.command("clip")
@click.argument("slug")
@click.argument("start")
@click.argument("end")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Het bestand (standaard SLUG-BEGIN-EINDE.mp3 of .mp4 in de huidige map).",
)
@click.option(
    "--video",
    is_flag=True,
    help="Een vierkant MP4-audiogram voor sociale media: cover, bewegende golfvorm, "
    "de woorden als ondertitels, met de naam van de spreker.",
)
@click.option(
    "--title", metavar="TEKST", help="Titel van het fragment (standaard de eerste woorden)."
)
@click.option(
    "--size",
    type=int,
    default=720,
    show_default=True,
    help="Breedte en hoogte van het audiogram in pixels (met --video).",
)
@pass_ctx
def clip_command(
    ctx: Context,
    slug: str,
    start: str,
    end: str,
    output: Path | None,
    video: bool,
    title: str | None,
    size: int,
) -> None:
    """Schrijf een deel van een aflevering als MP3 (of met --video als audiogram).

    START en EINDE in seconden, m:ss of u:mm:ss (`vlinder clip klompje-goud 0:12 0:45`).
    Vlinder knipt op hele woorden (de woordtijden van het transcript), met korte fades, even
    luid als de aflevering; de ID3-titel is "aflevering: fragment".
    """
    from pipeline.clips import ClipOptions, clip, default_name

    options = ClipOptions(
        start=parse_time(start, "begin"),
        end=parse_time(end, "einde"),
        title=title or "",
        video=video,
        size=size,
    )
    target = output if output is not None else Path.cwd() / default_name(slug, options)
    result = clip(ctx.ws, slug, options, target.absolute())
    kind = "Audiogram" if result.video else "Fragment"
    click.echo(f"{kind} geschreven: {output or target.name}")
    if result.snapped:
        click.echo(
            f"Geknipt op hele woorden: {_time(result.start)} tot {_time(result.end)} "
            f"({result.duration:.1f} s, {result.words} woorden; gevraagd "
            f"{_time(result.requested_start)} tot {_time(result.requested_end)})."
        )
    else:
        click.echo(f"Geen transcript: geknipt op de gegeven tijden ({result.duration:.1f} s).")
    if result.speakers:
        click.echo(f"Spreker: {', '.join(result.speakers)}.")
    click.echo(
        f"Titel: “{result.title}”. Luidheid {result.loudness:.1f} LUFS "
        f"(de aflevering: {result.target_loudness:.1f})."
    )


COMMANDS: list[click.Command] = [clip_command]
