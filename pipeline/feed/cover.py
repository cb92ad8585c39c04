"""The podcast artwork: the configured image, or a 3000x3000 PNG cover made from the title.

Apple wants a square JPEG or PNG of 1400-3000 px in RGB. The generated cover is redrawn only
when its inputs (title, subtitle, this module's design version) change: the key is stored in a
PNG text chunk.
"""

from __future__ import annotations

import functools
import hashlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from pipeline.core.errors import FeedError
from pipeline.core.workspace import Workspace, atomic_write_bytes

SIZE = 3000
DESIGN_VERSION = "1"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_BACKGROUND = (11, 79, 108)  # river blue
_WING = (246, 174, 45)  # butterfly yellow
_WING_DARK = (229, 99, 39)
_TEXT = (255, 255, 255)
_KEY = "vlinder-cover"


@dataclass(frozen=True)
class Artwork:
    url: str
    path: Path | None  # the local file, when the artwork is in the workspace


def _font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(FONT_DIR / name), size)
    except OSError:
        return ImageFont.load_default(size=size)


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: object, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        trial = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(trial, font=font) <= width:  # type: ignore[arg-type]
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def _fit(draw: ImageDraw.ImageDraw, text: str, width: int, max_lines: int, start: int) -> tuple:
    size = start
    while size > 60:
        font = _font(size)
        lines = _wrap(draw, text, font, width)
        if len(lines) <= max_lines and all(
            draw.textlength(line, font=font) <= width  # type: ignore[arg-type]
            for line in lines
        ):
            return font, lines, size
        size = int(size * 0.9)
    font = _font(size)
    return font, _wrap(draw, text, font, width), size


def _butterfly(draw: ImageDraw.ImageDraw, cx: float, cy: float, scale: float = 1.0) -> None:
    """Four wings and a body around (cx, cy); at scale 1 about 1280 x 1080 px."""

    def box(*xy: float) -> tuple[float, ...]:
        return tuple((cx if n % 2 == 0 else cy) + v * scale for n, v in enumerate(xy))

    draw.ellipse(box(-640, -520, -40, 60), fill=_WING)
    draw.ellipse(box(40, -520, 640, 60), fill=_WING)
    draw.ellipse(box(-500, 20, -60, 460), fill=_WING_DARK)
    draw.ellipse(box(60, 20, 500, 460), fill=_WING_DARK)
    draw.rounded_rectangle(box(-45, -420, 45, 440), radius=45 * scale, fill=_TEXT)
    width = max(1, round(24 * scale))
    draw.line(box(-20, -410, -200, -620), fill=_TEXT, width=width)
    draw.line(box(20, -410, 200, -620), fill=_TEXT, width=width)


def render_cover(title: str, subtitle: str = "") -> Image.Image:
    """Draw the cover: a butterfly above the title, on a river-blue square."""
    img = Image.new("RGB", (SIZE, SIZE), _BACKGROUND)
    draw = ImageDraw.Draw(img)
    _butterfly(draw, SIZE // 2, 860)  # centred in the upper part

    margin = 260
    width = SIZE - 2 * margin
    font, lines, size = _fit(draw, title.strip() or "Podcast", width, 3, 330)
    y = 1560
    for line in lines:
        draw.text((SIZE // 2, y), line, font=font, fill=_TEXT, anchor="ma")
        y += int(size * 1.15)
    if subtitle.strip():
        y += 80
        sub_font, sub_lines, sub_size = _fit(draw, subtitle.strip(), width, 4, 130)
        for line in sub_lines[:4]:
            draw.text((SIZE // 2, y), line, font=sub_font, fill=_TEXT, anchor="ma")
            y += int(sub_size * 1.3)
    return img


@functools.cache
def favicon_ico() -> bytes:
    """The site's ``favicon.ico`` (16, 32 and 48 px): the cover's butterfly on river blue."""
    size = 256
    img = Image.new("RGB", (size, size), _BACKGROUND)
    _butterfly(ImageDraw.Draw(img), size / 2, size / 2 + 20, size / 1400)
    buf = io.BytesIO()
    img.save(buf, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return buf.getvalue()


def cover_key(title: str, subtitle: str) -> str:
    blob = "\x1f".join((DESIGN_VERSION, title, subtitle)).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def _stored_key(path: Path) -> str | None:
    try:
        with Image.open(path) as img:
            return img.info.get(_KEY)  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def generate_cover(path: Path, title: str, subtitle: str = "") -> bool:
    """Write the generated cover to ``path`` unless it is already up to date; True if written."""
    key = cover_key(title, subtitle)
    if path.exists() and _stored_key(path) == key:
        return False
    info = PngImagePlugin.PngInfo()
    info.add_text(_KEY, key)
    buf = io.BytesIO()
    render_cover(title, subtitle).save(buf, format="PNG", pnginfo=info, compress_level=6)
    atomic_write_bytes(path, buf.getvalue())
    path.chmod(0o644)
    return True


def _remove_other_covers(feeds_dir: Path, keep: str | None) -> None:
    for old in feeds_dir.glob("cover.*"):
        if old.name != keep and old.suffix.lower() in (".png", ".jpg", ".jpeg"):
            old.unlink(missing_ok=True)


def published_artwork(ws: Workspace, base_url: str) -> str:
    """The URL of the artwork as :func:`ensure_artwork` published it (a URL from the settings,
    or ``feeds/cover.<ext>``), or "" when no build has made it yet. Reads only."""
    image = ws.settings.podcast.image.strip()
    if image.startswith(("http://", "https://")):
        return image
    for name in ("cover.png", "cover.jpg", "cover.jpeg"):
        if (ws.feeds_dir / name).is_file():
            return f"{base_url}/feeds/{name}"
    return ""


def ensure_artwork(ws: Workspace, base_url: str) -> Artwork:
    """The channel artwork: a URL from the settings as is; a workspace image copied to
    ``feeds/cover.<ext>``; no image: a cover generated from the title into ``feeds/cover.png``."""
    podcast = ws.settings.podcast
    image = podcast.image.strip()
    if image.startswith(("http://", "https://")):
        return Artwork(image, None)
    feeds = ws.feeds_dir
    if not image:
        target = feeds / "cover.png"
        generate_cover(target, podcast.title, podcast.subtitle)
        _remove_other_covers(feeds, target.name)
        return Artwork(f"{base_url}/feeds/{target.name}", target)
    source = (ws.root / image).resolve()
    if not source.is_file():
        raise FeedError(f"podcastafbeelding '{image}' bestaat niet (instelling podcast.image)")
    suffix = source.suffix.lower()
    if suffix not in (".png", ".jpg", ".jpeg"):
        raise FeedError(f"podcastafbeelding '{image}' moet een PNG of JPEG zijn")
    target = feeds / f"cover{suffix}"
    data = source.read_bytes()
    if not target.exists() or target.read_bytes() != data:
        feeds.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(source, tmp)
        tmp.chmod(0o644)
        tmp.replace(target)
    _remove_other_covers(feeds, target.name)
    return Artwork(f"{base_url}/feeds/{target.name}", target)
