"""The audiogram: a square video of the cover art, a moving waveform and the captions.

One ffmpeg command does it all, streaming: the background (the cover, drawn once by Pillow at
the video's size) is decoded once and repeated by the ``loop`` filter; ``showwaves`` draws the
waveform from the clip's audio; ``subtitles`` (libass) burns in the captions; libx264 and AAC
encode it into an MP4 that starts playing before it is fully downloaded (``faststart``).
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from PIL import Image, ImageFilter

from pipeline.core.errors import InputError
from pipeline.core.models import Episode
from pipeline.core.workspace import Workspace
from pipeline.feed.cover import FONT_DIR, generate_cover

from .captions import Layout

FPS = 25
#: 720 x 720 plays everywhere (Instagram, LinkedIn, Mastodon, X) and keeps a minute of video
#: at about 25 s of CPU time; ``--size 1080`` for more detail.
SIZE = 720
SIZES = range(240, 2161)
WAVE_COLOUR = "0xF6AE2D"  # the cover's butterfly yellow
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def cover_source(ws: Workspace, ep: Episode) -> Path:
    """The cover art for an episode's audiogram: the episode's own image (``image`` in its
    ``episode.toml``), else the podcast's (``[podcast] image``, or the cover the last build
    published), else the cover Vlinder draws from the podcast's title."""
    for candidate in (ep.overrides.get("image"), ws.settings.podcast.image):
        if not isinstance(candidate, str) or not candidate.strip():
            continue
        if candidate.startswith(("http://", "https://")):
            continue  # not fetched: Vlinder works offline
        path = (ws.root / candidate.strip()).resolve()
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            return path
    for name in ("cover.png", "cover.jpg", "cover.jpeg"):
        if (ws.feeds_dir / name).is_file():
            return ws.feeds_dir / name
    podcast = ws.settings.podcast
    target = ws.cache_dir / "clips" / "cover.png"
    generate_cover(target, podcast.title, podcast.subtitle)
    return target


def draw_background(cover: Path, size: int, out: Path) -> None:
    """The still part of the audiogram at ``size`` px: the cover, blurred and darkened, fills
    the square; the cover itself sits sharp in the upper half; PNG to ``out``."""
    try:
        with Image.open(cover) as opened:
            img = opened.convert("RGB")
            side = min(img.size)
            left, top = (img.width - side) // 2, (img.height - side) // 2
            img = img.crop((left, top, left + side, top + side))
            img = img.resize((size, size), Image.Resampling.LANCZOS)
    except (OSError, ValueError) as exc:
        raise InputError(f"de coverafbeelding {cover.name} is niet te lezen ({exc})") from exc
    lay = Layout(size)
    back = img.filter(ImageFilter.GaussianBlur(radius=max(2, size // 25)))
    back = Image.blend(back, Image.new("RGB", back.size, (0, 0, 0)), 0.6)
    thumb = img.resize((lay.cover_size, lay.cover_size), Image.Resampling.LANCZOS)
    back.paste(thumb, ((size - lay.cover_size) // 2, lay.cover_top))
    back.save(out, format="PNG")


#: Bump when :func:`draw_background` draws differently, so cached backgrounds are redrawn.
BACKGROUND_VERSION = "1"


def background_for(ws: Workspace, ep: Episode, size: int) -> Path:
    """The episode's audiogram background at ``size`` px, drawn once and kept in the cache
    (keyed on the cover file, its size and time, and the design)."""
    cover = cover_source(ws, ep)
    stat = cover.stat()
    blob = "\x1f".join(
        (BACKGROUND_VERSION, str(cover), str(stat.st_size), str(stat.st_mtime_ns), str(size))
    )
    key = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]
    target = ws.cache_dir / "clips" / f"background-{size}-{key}.png"
    if not target.is_file():
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            draw_background(cover, size, tmp)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    return target


def _filter_value(text: str) -> str:
    """``text`` as a filter option value inside a filter graph (both levels of escaping)."""
    level1 = re.sub(r"([\\':])", r"\\\1", text)
    return re.sub(r"([\\'\[\],;])", r"\\\1", level1)


def filter_graph(size: int, captions: Path | None, fps: int = FPS) -> str:
    """Input 0 is the background image, input 1 the audio; the output is ``[video]``."""
    lay = Layout(size)
    video = (
        f"[0:v]loop=loop=-1:size=1:start=0,fps={fps},format=yuv420p[bg];"
        f"[1:a]showwaves=s={size}x{lay.wave_height}:mode=cline:scale=sqrt:rate={fps}"
        f":colors={WAVE_COLOUR},format=yuva420p[wave];"
        f"[bg][wave]overlay=0:{lay.wave_top}:shortest=1"
    )
    if captions is not None:
        video += f",subtitles=filename={_filter_value(str(captions))}"
        if FONT_DIR.is_dir():
            video += f":fontsdir={_filter_value(str(FONT_DIR))}"
    return video + "[video]"


def encode_args(duration: float, fps: int = FPS) -> list[str]:
    """The MP4's encoding: H.264 (yuv420p, what every app plays) and AAC, moov atom first."""
    return [
        "-t",
        f"{duration:.3f}",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "23",
        "-pix_fmt",
        "yuv420p",
        "-r",
        str(fps),
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
    ]


def audiogram_args(
    background: Path,
    audio: Path,
    captions: Path | None,
    output: Path,
    *,
    size: int,
    duration: float,
    fps: int = FPS,
    title: str = "",
) -> list[str]:
    """The ffmpeg arguments that make the audiogram ``output``."""
    return [
        "-i",
        str(background),
        "-i",
        str(audio),
        "-filter_complex",
        filter_graph(size, captions, fps),
        "-map",
        "[video]",
        "-map",
        "1:a:0",
        "-map_metadata",
        "-1",
        *(("-metadata", f"title={title}") if title else ()),
        *encode_args(duration, fps),
        "-y",
        str(output),
    ]
