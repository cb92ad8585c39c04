"""WebSub: with ``[podcast] websub_hub`` set, every feed names the hub
(``<atom:link rel="hub">``) and publishing tells the hub which feeds changed, so apps
subscribed through it hear of a new episode at once instead of at their next poll.

The ping is the one hubs agree on (WebSub's "publish" notification, as Google's and
Superfeedr's hubs take it): a form POST of ``hub.mode=publish`` and ``hub.url=<feed URL>``,
one per changed feed. A hub that cannot be reached or refuses does not undo the publishing:
:func:`notify_hub` never raises, it returns what happened.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

TIMEOUT = 10.0  # seconds per request
USER_AGENT = "Vlinder (WebSub publisher)"


@dataclass(frozen=True)
class HubNotice:
    """What notifying the hub did: ``ok`` when it accepted every feed; otherwise ``status``
    (the HTTP status it answered) or ``reason`` (why it could not be reached)."""

    hub: str
    feeds: tuple[str, ...]  # the feed URLs announced (or meant to be)
    ok: bool
    status: int | None = None
    reason: str = ""


def notify_hub(hub: str, feed_urls: Sequence[str], *, timeout: float = TIMEOUT) -> HubNotice:
    """Tell ``hub`` that ``feed_urls`` changed. Stops at the first failure."""
    feeds = tuple(feed_urls)
    for url in feeds:
        body = urlencode({"hub.mode": "publish", "hub.url": url}).encode("ascii")
        request = urllib.request.Request(
            hub,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "User-Agent": USER_AGENT,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            return HubNotice(hub, feeds, False, status=exc.code)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return HubNotice(hub, feeds, False, reason=str(reason) or type(exc).__name__)
        if not 200 <= status < 300:
            return HubNotice(hub, feeds, False, status=status)
    return HubNotice(hub, feeds, True)
