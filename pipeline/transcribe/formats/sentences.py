"""Segments as sentences: join cues that continue a sentence, split long segments at sentence ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from pipeline.core.models import Segment, Word

_SENTENCE_END = (".", "?", "!", "…", '."', '?"', '!"')


def merge_sentences(segments: Sequence[Segment], max_chars: int = 300) -> list[Segment]:
    """Join cues that continue a sentence (same speaker, short gap) into one segment.

    Subtitle cues and word-level Podcasting segments break mid-sentence; later stages
    (segmentation, tagging) want sentences.
    """
    out: list[Segment] = []
    for seg in segments:
        if out:
            prev = out[-1]
            continues = not prev.text.rstrip().endswith(_SENTENCE_END)
            if (
                continues
                and prev.speaker == seg.speaker
                and seg.start - prev.end < 1.5
                and len(prev.text) + len(seg.text) < max_chars
            ):
                out[-1] = replace(
                    prev,
                    end=max(prev.end, seg.end),
                    text=f"{prev.text} {seg.text}",
                    words=prev.words + seg.words,
                )
                continue
        out.append(replace(seg, id=len(out)))
    return out


def split_sentences(segments: Sequence[Segment], max_words: int = 40) -> list[Segment]:
    """Split long segments at sentence ends (by their word timings).

    faster-whisper's batched mode returns one segment per VAD window (up to 30 s); subtitles,
    the Podcasting JSON and the later stages read better by sentence. A sentence longer than
    ``max_words`` is split after a comma (or, failing that, at ``max_words``).
    """
    out: list[Segment] = []
    for seg in segments:
        if not seg.words:
            out.append(replace(seg, id=len(out)))
            continue
        pieces: list[list[Word]] = [[]]
        for word in seg.words:
            current = pieces[-1]
            current.append(word)
            text = word.text.rstrip()
            if (
                text.endswith(_SENTENCE_END)
                or (len(current) >= max_words // 2 and text.endswith((",", ";", ":")))
                or len(current) >= max_words
            ):
                pieces.append([])
        for words in pieces:
            if words:
                out.append(
                    Segment(
                        id=len(out),
                        start=words[0].start,
                        end=words[-1].end,
                        text=" ".join(w.text.strip() for w in words),
                        words=tuple(words),
                        speaker=seg.speaker,
                    )
                )
    return out
