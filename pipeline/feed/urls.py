"""URLs, all absolute from ``settings.podcast.base_url`` (or ``--base-url``); the site serves the
same paths (it copies ``episodes/<slug>/<audio>``, ``transcripts/`` and ``feeds/`` into ``site/``)::

    <base>/feeds/podcast.xml                  main feed
    <base>/feeds/<vlinder>.xml                vlinder feed
    <base>/feeds/chapters/<slug>.json         chapters
    <base>/episodes/<slug>/<audio file>       enclosure in the main feed
    <base>/feeds/audio/<vlinder>/<slug>.mp3   enclosure in a vlinder feed (a hard link)
    <base>/transcripts/<slug>.html|.podcast.json|.srt|.vtt
    <base>/afleveringen/<slug>/               show notes
    <base>/vlinders/<vlinder>/                the vlinder's page (link of its feed)

Apple Podcasts ignores an enclosure URL it has already seen in another show, so an episode has
a URL of its own in every feed it is in, and a guid of its own (:func:`vlinder_item_guid`); the
main feed keeps the episode's guid and its URL under ``episodes/``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pipeline.core.models import Episode

MAIN_FEED = "podcast.xml"


CHAPTERS_DIR = "chapters"


AUDIO_DIR = "audio"


TIMEZONE = ZoneInfo("Europe/Amsterdam")

# Transcript files in the order they are listed: (file extension, type key, rel). The HTML
# transcript comes first and VTT last: podcastparser and feedparser keep only the last
# <podcast:transcript> of an item, and VTT is the format most apps play along with.
TRANSCRIPT_FILES = (
    ("html", "html", ""),
    ("podcast.json", "json", ""),
    ("srt", "srt", "captions"),
    ("vtt", "vtt", "captions"),
)


def feed_url(base: str, name: str) -> str:
    return f"{base}/feeds/{name}"


def episode_page_url(base: str, slug: str) -> str:
    return f"{base}/afleveringen/{slug}/"


def vlinder_page_url(base: str, vlinder_id: str) -> str:
    return f"{base}/vlinders/{vlinder_id}/"


def audio_url(base: str, ep: Episode) -> str:
    return f"{base}/episodes/{ep.slug}/{quote(ep.audio_file)}"


def vlinder_audio_path(vlinder_id: str, ep: Episode) -> str:
    """The workspace-relative path of an episode's audio in a vlinder feed (a hard link)."""
    suffix = ep.audio_file.rsplit(".", 1)[-1].lower() if "." in ep.audio_file else "mp3"
    return f"feeds/{AUDIO_DIR}/{vlinder_id}/{ep.slug}.{suffix}"


def vlinder_audio_url(base: str, vlinder_id: str, ep: Episode) -> str:
    return f"{base}/{vlinder_audio_path(vlinder_id, ep)}"


def vlinder_item_guid(episode_guid: str, vlinder_id: str) -> str:
    """The guid of an episode in a vlinder feed: stable (it depends on nothing but the episode's
    guid and the vlinder's id) and different from the episode's guid in the main feed."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'vlinder:{vlinder_id}/{episode_guid}')}"


def transcript_url(base: str, slug: str, ext: str) -> str:
    return f"{base}/transcripts/{slug}.{ext}"


def chapters_url(base: str, slug: str) -> str:
    return f"{base}/feeds/{CHAPTERS_DIR}/{slug}.json"


def pub_date(date: dt.date) -> dt.datetime:
    """Noon in Amsterdam: the same calendar date in every time zone from UTC-11 to UTC+11."""
    return dt.datetime.combine(date, dt.time(12, 0), tzinfo=TIMEZONE)
