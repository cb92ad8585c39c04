"""The HTTP headers the site needs from whatever serves it.

* CORS (``Access-Control-Allow-Origin: *``) on the feeds, the transcripts, the chapters and the
  audio: players in a browser fetch them from another site, and the Podcasting 2.0 transcript
  spec requires it for transcripts;
* ``Content-Type: application/json+chapters`` on the chapter files (the type the feeds announce
  in ``podcast:chapters``).

One table, three uses: ``vlinder serve`` sends these headers itself
(:mod:`pipeline.service.server`), the site carries them as ``_headers`` (read by Netlify and
Cloudflare Pages), and ``docs/hosting.md`` shows the same rules for nginx and Apache.
"""

from __future__ import annotations

HEADERS_FILE = "_headers"

_CORS = {"Access-Control-Allow-Origin": "*"}
# Players that read the audio with fetch() (waveforms, seeking) need these to see the ranges.
_CORS_RANGES = {**_CORS, "Access-Control-Expose-Headers": "Content-Length, Content-Range"}

# (path prefix, headers); a path gets the headers of every prefix it starts with, in order.
HEADER_RULES: tuple[tuple[str, dict[str, str]], ...] = (
    ("/feeds/", _CORS_RANGES),
    ("/transcripts/", _CORS),
    ("/episodes/", _CORS_RANGES),
    ("/feeds/chapters/", {"Content-Type": "application/json+chapters"}),
)


def headers_for(path: str) -> dict[str, str]:
    """The extra headers of the file at URL path ``path`` (``/feeds/chapters/x.json``)."""
    out: dict[str, str] = {}
    for prefix, headers in HEADER_RULES:
        if path.startswith(prefix):
            out.update(headers)
    return out


def headers_file() -> str:
    """``_headers`` in the format of Netlify and Cloudflare Pages."""
    blocks = []
    for prefix, headers in HEADER_RULES:
        lines = [f"{prefix}*"] + [f"  {name}: {value}" for name, value in headers.items()]
        blocks.append("\n".join(lines))
    return (
        "# Gemaakt door Vlinder (vlinder build): de headers die spelers en apps nodig hebben.\n"
        + "\n\n".join(blocks)
        + "\n"
    )
