"""The audiogram's captions as an ASS subtitle script (rendered by ffmpeg's ``subtitles``
filter with libass): the words, lit up one by one as they are said, and the speaker's name
above them when it is known."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .words import CAPTION_PAUSE_S, CaptionLine

FONT = "DejaVu Sans"
#: ASS colours are &HAABBGGRR: the cover's butterfly yellow for said words, white for the rest.
YELLOW = "&H002DAEF6"
WHITE = "&H00FFFFFF"
BLACK = "&H00000000"
SHADE = "&H80000000"
#: A caption stays up this long after its last word when no other caption follows soon.
HOLD_S = 0.4


@dataclass(frozen=True)
class Layout:
    """Where things go on a square video of ``size`` pixels."""

    size: int

    def _px(self, fraction: float) -> int:
        return int(round(self.size * fraction / 2)) * 2  # even: yuv420p wants even sizes

    @property
    def cover_top(self) -> int:  # the cover, sharp, in the upper half
        return self._px(0.05)

    @property
    def cover_size(self) -> int:
        return self._px(0.44)

    @property
    def wave_top(self) -> int:
        return self._px(0.51)

    @property
    def wave_height(self) -> int:
        return self._px(0.16)

    @property
    def speaker_top(self) -> int:
        return self._px(0.69)

    @property
    def speaker_font(self) -> int:
        return max(8, round(self.size * 0.042))

    @property
    def caption_font(self) -> int:
        return max(10, round(self.size * 0.058))

    @property
    def caption_bottom(self) -> int:
        return self._px(0.05)

    @property
    def margin(self) -> int:
        return self._px(0.05)


def ass_time(seconds: float) -> str:
    """``H:MM:SS.cc``, the ASS form."""
    cs = max(0, round(seconds * 100))
    hours, rest = divmod(cs, 360_000)
    minutes, rest = divmod(rest, 6000)
    secs, cs = divmod(rest, 100)
    return f"{hours}:{minutes:02d}:{secs:02d}.{cs:02d}"


def _plain(text: str) -> str:
    """Text that libass shows as it is: no override blocks, no escapes, one line."""
    return " ".join(text.replace("{", "(").replace("}", ")").replace("\\", "/").split())


def _karaoke(line: CaptionLine) -> str:
    """``{\\k40}Een {\\k25}klompje ...``: each word lights up when it is said."""
    parts: list[str] = []
    words = line.words
    for n, w in enumerate(words):
        until = words[n + 1].start if n + 1 < len(words) else w.end
        centis = max(1, round((until - w.start) * 100))
        parts.append(f"{{\\k{centis}}}{_plain(w.text)}")
    return " ".join(parts)


def ass_document(lines: Sequence[CaptionLine], *, size: int, offset: float) -> str:
    """The ASS script for captions ``lines`` on a ``size`` video; ``offset`` is the clip's
    start in the episode (caption times are relative to the clip)."""
    lay = Layout(size)
    out = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {size}",
        f"PlayResY: {size}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Caption,{FONT},{lay.caption_font},{YELLOW},{WHITE},{BLACK},{SHADE},"
        f"-1,0,0,0,100,100,0,0,1,{max(1, size // 360)},0,2,"
        f"{lay.margin},{lay.margin},{lay.caption_bottom},1",
        f"Style: Speaker,{FONT},{lay.speaker_font},{WHITE},{WHITE},{BLACK},{SHADE},"
        f"0,0,0,0,100,100,0,0,1,{max(1, size // 540)},0,8,"
        f"{lay.margin},{lay.margin},{lay.speaker_top},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    shown: list[tuple[float, float, CaptionLine]] = []
    for n, line in enumerate(lines):
        end = line.end + HOLD_S
        if n + 1 < len(lines) and lines[n + 1].start - line.end <= CAPTION_PAUSE_S:
            end = lines[n + 1].start
        shown.append((max(0.0, line.start - offset), max(0.0, end - offset), line))
    for start, end, line in shown:
        out.append(
            f"Dialogue: 0,{ass_time(start)},{ass_time(end)},Caption,,0,0,0,,{_karaoke(line)}"
        )
    # the speaker's name, for as long as they speak
    turn_start = 0
    for n in range(1, len(shown) + 1):
        if n < len(shown) and shown[n][2].speaker == shown[turn_start][2].speaker:
            continue
        speaker = shown[turn_start][2].speaker
        if speaker:
            start, end = shown[turn_start][0], shown[n - 1][1]
            out.append(
                f"Dialogue: 1,{ass_time(start)},{ass_time(end)},Speaker,,0,0,0,,{_plain(speaker)}"
            )
        turn_start = n
    return "\n".join(out) + "\n"
