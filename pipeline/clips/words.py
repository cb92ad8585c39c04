"""Which words a clip holds: the asked range snapped to whole words, its title and its
caption lines. Pure functions over the transcript's word timings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from pipeline.core.errors import InputError
from pipeline.core.models import Transcript, Word
from pipeline.core.timefmt import clock

#: Room kept before the first and after the last word (never more than half the pause to the
#: neighbouring word), so the fades never touch a word.
PAD_S = 0.25
#: A title made from the clip's first words has at most this many words.
TITLE_WORDS = 8


@dataclass(frozen=True)
class Span:
    """The part of the episode a clip holds: ``start``/``end`` in seconds of the episode."""

    start: float
    end: float
    words: tuple[Word, ...] = ()

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(w.speaker for w in self.words if w.speaker))


def transcript_words(transcript: Transcript) -> tuple[Word, ...]:
    """Every word of the transcript in time order, each with its speaker (the segment's when
    the word has none of its own)."""
    words: list[Word] = []
    for seg in transcript.segments:
        for w in seg.words:
            if w.text.strip() and w.end > w.start >= 0:
                words.append(w if w.speaker or not seg.speaker else replace(w, speaker=seg.speaker))
    words.sort(key=lambda w: (w.start, w.end))
    return tuple(words)


def check_range(start: float, end: float, duration: float) -> None:
    """``start`` < ``end`` and both within the episode (:class:`InputError` in Dutch otherwise)."""
    if end <= start:
        raise InputError(f"het einde ({clock(end)}) moet na het begin ({clock(start)}) liggen")
    if duration > 0 and start >= duration:
        raise InputError(
            f"het begin ({clock(start)}) ligt na het einde van de aflevering ({clock(duration)})"
        )
    if duration > 0 and end > duration + 0.05:
        raise InputError(
            f"het einde ({clock(end)}) ligt na het einde van de aflevering ({clock(duration)})"
        )


def snap(words: Sequence[Word], start: float, end: float, duration: float) -> Span:
    """The range cut at whole words: the words whose middle lies in [start, end] (or, for a
    range inside one word, that word), plus a little room on either side.

    Raises :class:`InputError` when nobody speaks in the range.
    """
    inside = [n for n, w in enumerate(words) if start <= (w.start + w.end) / 2 <= end]
    if not inside:
        inside = [n for n, w in enumerate(words) if w.end > start and w.start < end]
    if not inside:
        raise InputError(f"tussen {clock(start)} en {clock(end)} wordt niets gezegd")
    first, last = inside[0], inside[-1]
    lead = words[first].start
    before = words[first - 1].end if first > 0 else 0.0
    begin = max(0.0, lead - PAD_S, (before + lead) / 2 if first > 0 else 0.0)
    tail = words[last].end
    after = words[last + 1].start if last + 1 < len(words) else None
    stop = tail + PAD_S
    if after is not None:
        stop = min(stop, (tail + after) / 2)
    if duration > 0:
        stop = min(stop, duration)
    return Span(round(begin, 3), round(stop, 3), tuple(words[first : last + 1]))


def first_words(words: Iterable[Word], limit: int = TITLE_WORDS) -> str:
    """The first words of a clip as its title: ``'Een klompje goud in een la…'``."""
    texts = [w.text.strip() for w in words if w.text.strip()]
    if not texts:
        return ""
    text = " ".join(texts[:limit]).rstrip(",;:")
    if len(texts) > limit:
        return text.rstrip(".!?") + "…"
    return text


@dataclass(frozen=True)
class CaptionLine:
    """Words shown together on screen; times in seconds of the episode."""

    words: tuple[Word, ...]
    speaker: str | None = None

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def text(self) -> str:
        return " ".join(w.text.strip() for w in self.words)


#: A caption holds at most this many characters (two lines on a square video).
CAPTION_CHARS = 42
#: A pause this long (seconds) starts a new caption.
CAPTION_PAUSE_S = 0.8


def caption_lines(words: Sequence[Word], max_chars: int = CAPTION_CHARS) -> list[CaptionLine]:
    """Group words into captions: a new one at a change of speaker, after a long pause, when
    the caption is full, or after a sentence."""
    lines: list[CaptionLine] = []
    current: list[Word] = []

    def flush() -> None:
        if current:
            lines.append(CaptionLine(tuple(current), current[0].speaker))
            current.clear()

    for w in words:
        if current:
            prev = current[-1]
            length = sum(len(x.text.strip()) + 1 for x in current) + len(w.text.strip())
            if (
                w.speaker != prev.speaker
                or w.start - prev.end > CAPTION_PAUSE_S
                or length > max_chars
                or prev.text.strip().endswith((".", "?", "!"))
            ):
                flush()
        current.append(w)
    flush()
    return lines
