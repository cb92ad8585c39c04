"""The site stage: the static show-notes site in ``site/``, searchable with Pagefind (the
``build`` verb).

Two phases (pelican, datasette): :func:`pipeline.site.inputs.collect` reads the workspace into a
:class:`~pipeline.site.inputs.SiteInput`, :func:`pipeline.site.pages.plan` turns it into typed
page contexts without any I/O, and :func:`pipeline.site.writer.write_site` is the one writer: it renders the pages whose inputs changed, mirrors the audio, transcripts and feeds, and
(re)indexes the search shards whose episodes changed.

URLs inside the site are relative (``../../afleveringen/<slug>/``), so the site works from any
folder or host; ``base_url`` is used only for what must be absolute (feed and app links).
"""

from __future__ import annotations

from pipeline.core.workspace import Workspace

from .inputs import FragmentLoader, TranscriptLoader, collect
from .writer import SiteReport, write_site


def build(
    ws: Workspace,
    *,
    base_url: str | None = None,
    fragment_loader: FragmentLoader | None = None,
    transcript_loader: TranscriptLoader | None = None,
) -> SiteReport:
    """Build ``site/`` (incrementally): what was written, removed and indexed."""
    inp = collect(
        ws, base_url=base_url, fragment_loader=fragment_loader, transcript_loader=transcript_loader
    )
    with ws.lock("site"):
        return write_site(ws, inp)
