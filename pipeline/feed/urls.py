"""URLs, all absolute from ``settings.podcast.base_url`` (or ``--base-url``); the site serves the
same paths (it copies ``episodes/<slug>/<audio>``, ``transcripts/`` and ``feeds/`` into ``site/``)::

    <base>/feeds/podcast.xml                  main feed
    <base>/feeds/<vlinder>.xml                vlinder feed
    <base>/feeds/chapters/<slug>.json         chapters
    <base>/episodes/<slug>/<audio file>       enclosure
    <base>/transcripts/<slug>.vtt|.srt|.podcast.json
    <base>/afleveringen/<slug>/               show notes (also the HTML transcript)
    <base>/vlinders/<vlinder>/                the vlinder's page (link of its feed)
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from pipeline.core.errors import InputError
from pipeline.core.models import Episode

MAIN_FEED = "podcast.xml"


CHAPTERS_DIR = "chapters"


TIMEZONE = ZoneInfo("Europe/Amsterdam")

# Transcript files in the order they are listed: (file extension, type key, rel). The show-notes
# page (HTML) comes first and VTT last: podcastparser and feedparser keep only the last
# <podcast:transcript> of an item, and VTT is the format most apps play along with.
TRANSCRIPT_FILES = (
    ("podcast.json", "json", ""),
    ("srt", "srt", "captions"),
    ("vtt", "vtt", "captions"),
)


# The same with the MIME type, as the items need them.


def normalise_base_url(url: str) -> str:
    """``'https://example.org/podcast/'`` -> ``'https://example.org/podcast'``; checks the form."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InputError(
            f"ongeldige basis-URL '{url}': gebruik bijvoorbeeld https://podcast.example.org"
        )
    return url


def feed_url(base: str, name: str) -> str:
    return f"{base}/feeds/{name}"


def episode_page_url(base: str, slug: str) -> str:
    return f"{base}/afleveringen/{slug}/"


def vlinder_page_url(base: str, vlinder_id: str) -> str:
    return f"{base}/vlinders/{vlinder_id}/"


def audio_url(base: str, ep: Episode) -> str:
    return f"{base}/episodes/{ep.slug}/{quote(ep.audio_file)}"


def transcript_url(base: str, slug: str, ext: str) -> str:
    return f"{base}/transcripts/{slug}.{ext}"


def chapters_url(base: str, slug: str) -> str:
    return f"{base}/feeds/{CHAPTERS_DIR}/{slug}.json"


def pub_date(date: dt.date) -> dt.datetime:
    """Noon in Amsterdam: the same calendar date in every time zone from UTC-11 to UTC+11."""
    return dt.datetime.combine(date, dt.time(12, 0), tzinfo=TIMEZONE)
