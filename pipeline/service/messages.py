"""The words: Dutch lines for what the flows return, shared by the CLI, the server's rebuilds
and the producer app (the core returns dataclasses; only these layers write text)."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.feed import FeedReport, HubNotice
from pipeline.flows import BuildResult, ProcessResult
from pipeline.site import SiteReport
from pipeline.speakers import DiarizeResult
from pipeline.transcribe import TranscribeResult


def transcribed_line(result: TranscribeResult) -> str:
    if result.status == "cached":
        return "Transcript is al actueel."
    if result.status == "imported":
        return f"Transcript geïmporteerd: {result.segments} segmenten."
    return (
        f"Getranscribeerd: {result.segments} segmenten "
        f"({result.duration / max(result.elapsed, 1e-6):.1f}x realtime)."
    )


def process_lines(result: ProcessResult) -> list[str]:
    """What ``vlinder add`` says after ingest."""
    lines: list[str] = []
    if result.kept is not None:
        lines.append(
            f"Transcript behouden: {result.kept}; `vlinder transcribe {result.slug} --force` "
            "vervangt het."
        )
    elif result.transcript is not None:
        lines.append(transcribed_line(result.transcript))
    if result.speakers is not None:
        lines.extend(speaker_lines(result.speakers))
    if result.tags is not None:
        tags = result.tags
        lines.append(
            f"Getagd: {len(tags.chapters)} hoofdstukken, {len(tags.fragments)} fragmenten "
            f"({tags.tagged} met ingrediënten)."
        )
    return lines


def speaker_lines(result: DiarizeResult) -> list[str]:
    """What the diarize stage did, when there was something to do."""
    if result.status == "kept" and result.reason:
        return [f"Sprekers niet bepaald: {result.reason}."]
    if result.status not in ("labelled", "cached"):
        return []
    counted = "geschat" if result.estimated else "opgegeven"
    lines = [f"Sprekers: {len(result.names)} ({counted}): {', '.join(result.names)}."]
    if not result.estimated and 0 < result.heard < len(result.names):
        lines.append(
            f"Let op: {len(result.names)} sprekers opgegeven, maar ik hoor er {result.heard}; "
            "controleer de namen of het aantal (--speakers)."
        )
    elif result.missing:
        lines.append(
            f"Let op: {', '.join(result.missing)} genoemd, maar (bijna) niet gehoord; "
            "controleer de namen of het aantal (--speakers)."
        )
    return lines


def feed_lines(report: FeedReport) -> list[str]:
    lines = [f"let op: {w}" for w in report.warnings]
    lines.append(
        f"feeds: {len(report.feeds)} feed(s), {len(report.written)} bestand(en) bijgewerkt, "
        f"{report.unchanged} ongewijzigd"
        + (f", {len(report.removed)} verwijderd" if report.removed else "")
    )
    if report.id3_updated:
        lines.append(f"hoofdstukken in de MP3 bijgewerkt: {', '.join(report.id3_updated)}")
    lines.append(f"hoofdfeed: {report.main_url}")
    return lines


def site_lines(report: SiteReport) -> list[str]:
    lines = [
        f"site: {report.pages} pagina's, {len(report.written)} bijgewerkt, "
        f"{report.pages - len(report.written)} ongewijzigd"
        + (f", {len(report.removed)} verwijderd" if report.removed else "")
    ]
    if report.shards:
        lines.append(
            f"zoekindex: {report.shards} deel/delen, {len(report.indexed)} opnieuw geïndexeerd, "
            f"{report.search_bytes / 1_000_000:.1f} MB"
        )
    else:
        lines.append("zoekindex: nog niets om te doorzoeken")
    return lines


def failed_lines(result: BuildResult) -> list[str]:
    """The episodes a build left out, each with what is wrong (file and field)."""
    return [
        f"let op: aflevering '{slug}' is niet gepubliceerd: {why}" for slug, why in result.failed
    ]


def hub_lines(notice: HubNotice | None) -> list[str]:
    """What happened to the WebSub ping (nothing to say without a hub or a changed feed)."""
    if notice is None:
        return []
    if notice.ok:
        return [f"WebSub-hub {notice.hub} gemeld: {len(notice.feeds)} feed(s) bijgewerkt"]
    why = (
        f"antwoordde HTTP {notice.status}"
        if notice.status
        else f"niet bereikbaar ({notice.reason})"
    )
    return [
        f"let op: WebSub-hub {notice.hub} {why}; de feeds zijn wel gepubliceerd, "
        "apps zien de nieuwe afleveringen bij hun volgende controle"
    ]


def build_lines(result: BuildResult) -> list[str]:
    """What ``vlinder build`` (and a rebuild of ``vlinder serve --watch``) says; a warning
    about the WebSub hub first, with the others (the producer app shows the first lines)."""
    hub = hub_lines(result.hub)
    warned = result.hub is not None and not result.hub.ok
    return (
        (hub if warned else [])
        + feed_lines(result.feeds)
        + site_lines(result.site)
        + failed_lines(result)
        + ([] if warned else hub)
    )


_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[^\s/:'\"]+/)+([^\s/:'\"]+)")


def without_paths(message: str, root: Path) -> str:
    """A message for the producer web app without the server's absolute paths: paths in the
    workspace become relative (``episodes/x/episode.toml``), any other keeps its file name."""
    message = message.replace(f"{root}/", "").replace(str(root), ".")
    return _ABSOLUTE_PATH.sub(r"\1", message)
