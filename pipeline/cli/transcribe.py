"""CLI commands of the transcribe stage: ``vlinder transcribe`` and ``vlinder eval asr``."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pipeline.core.errors import InputError, VlinderError
from pipeline.core.timefmt import clock

from . import pass_ctx
from .evaluate import eval_group

if TYPE_CHECKING:
    from pipeline.transcribe.stage import TranscribeResult

# pipeline.transcribe.ENGINES, not imported here: it loads numpy, and every command would pay
ENGINES = ("faster-whisper", "openai-whisper")


class ProgressBar:
    """A click progress bar over audio seconds, with the audio time done and an ETA.

    The ETA counts from the first report, so a resumed run does not look faster than it is.
    Only drawn on a terminal: in a log or pipe a bar is noise (click would print its label, the
    slug, on a line of its own before the result line).
    """

    def __init__(self, label: str, file: Any = None):
        self.label = label
        self.file = file if file is not None else sys.stderr
        self.enabled = self.file.isatty()
        self.bar: Any = None
        self.shown = 0
        self.base = 0.0
        self.started = 0.0
        self.total = 0.0
        self.done = 0.0

    def __call__(self, done: float, total: float) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.total, self.base, self.started = total, done, time.monotonic()
            self.bar = click.progressbar(
                length=max(int(total - done), 1),
                label=self.label,
                show_eta=False,
                show_percent=True,
                item_show_func=lambda _: self._info(),
                file=self.file,
            )
            self.bar.__enter__()
        self.done = done
        step = int(done - self.base) - self.shown
        if step > 0:
            self.shown += step
            self.bar.update(step, current_item=done)
        else:
            self.bar.render_progress()

    def _info(self) -> str:
        text = f"{clock(self.done, pad=True)} / {clock(self.total, pad=True)}"
        progressed = self.done - self.base
        if progressed > 0 and self.done < self.total:
            speed = progressed / (time.monotonic() - self.started)
            text += f"  nog ~{clock((self.total - self.done) / speed, pad=True)}"
        return text

    def close(self) -> None:
        """End the bar's line (always: also when the run failed or was interrupted, so what
        is printed next starts on a line of its own)."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _describe(result: TranscribeResult) -> str:
    if result.status == "cached":
        return f"{result.slug}: transcript is al actueel (niets te doen)"
    if result.status == "imported":
        return f"{result.slug}: transcript geïmporteerd ({result.segments} segmenten)"
    resumed = (
        f", hervat na {result.resumed_chunks} van {result.chunks} delen"
        if result.resumed_chunks
        else ""
    )
    return (
        f"{result.slug}: {result.segments} segmenten in {clock(result.elapsed, pad=True)} "
        f"({result.duration / max(result.elapsed, 1e-6):.1f}x realtime, {result.engine}, "
        f"model {result.model}{resumed})"
    )


@click.command("transcribe")
@click.argument("slug", required=False)
@click.option(
    "--all",
    "all_",
    is_flag=True,
    help="Alle afleveringen (actuele en menselijke transcripten blijven staan).",
)
@click.option(
    "--model", help="Modelnaam (base = meegeleverd, small, large-v3, ...) of pad naar een model."
)
@click.option(
    "--engine", type=click.Choice(ENGINES), help="Spraakherkenner (standaard faster-whisper)."
)
@click.option("--language", help="Taal van de opname (standaard nl).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), help="Rekenen op cpu of cuda (GPU).")
@click.option(
    "--force",
    is_flag=True,
    help="Opnieuw transcriberen, ook als het transcript actueel, geïmporteerd of met de hand "
    "verbeterd is.",
)
@click.option("--chunk-seconds", type=float, hidden=True, help="Lengte van een deel (seconden).")
@pass_ctx
def transcribe_command(
    ctx: Any,
    slug: str | None,
    all_: bool,
    model: str | None,
    engine: str | None,
    language: str | None,
    device: str | None,
    force: bool,
    chunk_seconds: float | None,
) -> None:
    """Maak (opnieuw) het transcript van een aflevering met Whisper.

    Schrijft transcripts/SLUG.json, .vtt, .srt, .txt en .podcast.json. Opnieuw draaien met
    dezelfde opname, hetzelfde model en dezelfde opties doet niets; een afgebroken run gaat
    verder waar hij was. Een geïmporteerd of met de hand verbeterd transcript blijft staan
    (tenzij --force).
    """
    from pipeline.core.episodes import list_episodes
    from pipeline.core.errors import ProtectedTranscriptError
    from pipeline.transcribe.stage import episode_options, transcribe

    ws = ctx.ws
    if bool(slug) == all_:
        raise click.UsageError("geef één SLUG of --all")
    opts = episode_options(
        ws,
        model=model,
        engine=engine,
        language=language,
        device=device,
        chunk_seconds=chunk_seconds,
    )
    slugs = [ep.slug for ep in list_episodes(ws)] if all_ else [str(slug)]
    if all_ and not slugs:
        click.echo("Geen afleveringen om te transcriberen.")
        return
    failures: list[str] = []
    for name in slugs:
        bar = ProgressBar(f"{name}")
        try:
            result = transcribe(ws, name, options=opts, force=force, progress=bar)
        except ProtectedTranscriptError as exc:
            if not all_:
                raise
            # --all leaves a person's transcript alone: that is not a failure
            click.echo(f"{name}: overgeslagen: {exc.reason} (--force vervangt het)")
            continue
        except VlinderError as exc:
            if not all_:
                raise
            failures.append(name)
            click.echo(f"{name}: mislukt: {exc}", err=True)
            continue
        finally:
            bar.close()
        click.echo(_describe(result))
    if failures:
        raise InputError(
            f"{len(failures)} van {len(slugs)} afleveringen mislukt: {', '.join(failures)}"
        )


@eval_group.command("asr")
@click.argument("audio", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("reference", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", help="Modelnaam of pad (standaard: de instelling, base).")
@click.option("--engine", type=click.Choice(ENGINES), help="Spraakherkenner.")
@click.option("--language", help="Taal (standaard nl).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), help="cpu of cuda.")
@click.option("--json", "as_json", is_flag=True, help="Uitvoer als JSON.")
@pass_ctx
def eval_asr(
    ctx: Any,
    audio: Path,
    reference: Path,
    model: str | None,
    engine: str | None,
    language: str | None,
    device: str | None,
    as_json: bool,
) -> None:
    """Meet de spraakherkenning: WER tegen een referentietekst en de realtimefactor.

    De tekst wordt eerst genormaliseerd (kleine letters, zonder accenten en leestekens,
    getallen als Nederlandse woorden); zie pipeline/evaluation/asr.py.
    """
    from pipeline.evaluation.asr import word_error_rate
    from pipeline.transcribe.stage import episode_options, transcribe_audio

    ws = ctx.ws
    opts = episode_options(ws, model=model, engine=engine, language=language, device=device)
    bar = None if as_json else ProgressBar(audio.name)
    try:
        transcript, elapsed = transcribe_audio(audio, opts, ws.cache_dir, progress=bar)
    finally:
        if bar:
            bar.close()
    result = word_error_rate(reference.read_text(encoding="utf-8"), transcript.text)
    rtf = elapsed / transcript.duration if transcript.duration else 0.0
    figures = {
        "audio": str(audio),
        "engine": transcript.engine,
        "model": transcript.model,
        "model_identity": transcript.options.get("model_identity", ""),
        "language": transcript.language,
        "wer": result.wer,
        "errors": result.errors,
        "reference_words": result.reference_words,
        "hypothesis_words": result.hypothesis_words,
        "audio_seconds": round(transcript.duration, 2),
        "transcribe_seconds": round(elapsed, 2),
        "rtf": round(rtf, 4),
        "hypothesis": transcript.text,
    }
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    click.echo(
        f"WER: {result.wer:.1%} ({result.errors} fouten op {result.reference_words} woorden)"
    )
    click.echo(
        f"Realtimefactor: {rtf:.3f} ({transcript.duration:.1f} s audio in {elapsed:.1f} s, "
        f"{1 / rtf if rtf else 0:.1f}x realtime)"
    )
    click.echo(f"Model: {transcript.model} ({transcript.engine})")


COMMANDS: list[click.Command] = [transcribe_command]
