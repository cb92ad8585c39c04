"""Segmentation: a transcript into chapters (topical sections) and fragments (the tagging unit).

Pure functions only. Steps:

1. :func:`sentences_of` splits the transcript's segments into sentences with start and end
   times (from the word timings when there are any, else in proportion to the text).
2. :func:`chapter_starts` finds topic shifts TextTiling-style: the lexical cohesion (cosine of
   content-word stems, plus the taxonomy's vlinder and off-topic evidence as extra features)
   between a window of sentences before and after each gap; gaps whose depth stands out start a
   chapter, strongest first, within a budget that follows the length of the recording
   (:mod:`.boundaries`: a few minutes per chapter, at most about 20 an hour).
3. :func:`group_fragments` cuts each chapter into fragments of whole sentences, about
   ``target_fragment_s`` long and never longer than ``max_fragment_s`` unless one sentence is.
4. Each chapter gets a title a listener would write, a short Dutch noun phrase of real words
   taken from what is said (:mod:`.titles`), and a summary of its one or two most central
   sentences. A chapter without such a phrase gets "Deel N" here; the tag stage then names it
   after its strongest ingredient (:func:`titles_from_tags`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pipeline.core.models import Chapter, Fragment, Transcript
from pipeline.core.taxonomy import Taxonomy
from pipeline.core.text import fold, sentences, stem, tokens

from .boundaries import ChapterPolicy, Span, choose_starts
from .lexicon import evidence, sum_tags, tagger_for
from .lexicon_words import fold_word
from .titles import ChapterText, TitleOptions, chapter_titles

#: Common Dutch words that carry no topic (folded).
_STOPWORDS_TEXT = """
    aan af al alle alles als altijd ander andere anders ben bij bijna binnen dan dat de deze die
    dit doe doen door dus echt een eens eigenlijk elk elke en er ergens even gaan gaat gedaan
    geen gehad geweest gewoon ging had hadden heb hebben hebt heeft hele het hier hij hoe hoor
    hun iemand iets ik in is ja je jij jullie kan keer kon konden kunnen kwam laat laten maar
    man me meer men met mij mijn moest moet moeten mogen na naar natuurlijk niet niets nog nooit
    nou nu of om omdat ons onze ook op over paar precies best s t toch toe toen tot u uit van
    veel via voor vond vooral waar waarom wanneer want waren was wat we weer wel werd werden wie
    wij wil willen word worden wordt zal ze zeg zegt zei zeggen zelf zich zie zien zij zijn zo
    zoals zou zouden zullen daar daarom daarna dingen ding heel erg mensen allemaal beetje
    eerst steeds ineens gezegd goed groot grote kunt moment nee oké okay tja uh eh ehm mmm
    vandaag gisteren morgen gegeven stond stonden nieuwe nieuw dezelfde hetzelfde zitten zaten
    konden hadden moesten wilden gingen kregen mochten hoefden begin einde eigen ander verder
"""


STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


@dataclass(frozen=True, kw_only=True)
class SegmentOptions:
    min_fragment_s: float = 15.0
    target_fragment_s: float = 30.0
    max_fragment_s: float = 60.0
    window: int = 4  # sentences on each side of a gap
    topic_weight: float = 2.0  # weight of taxonomy evidence against plain word overlap
    chapters: ChapterPolicy = ChapterPolicy()  # how long and how many chapters
    titles: TitleOptions = TitleOptions()


@dataclass(frozen=True)
class Sentence:
    start: float
    end: float
    text: str


# --- sentences ------------------------------------------------------------------------------
def sentences_of(transcript: Transcript) -> list[Sentence]:
    """The transcript as sentences with times; a segment may hold several sentences."""
    out: list[Sentence] = []
    for seg in transcript.segments:
        text = seg.text.strip()
        if not text:
            continue
        parts = sentences(text) or [text]
        if len(parts) == 1:
            out.append(Sentence(seg.start, seg.end, text))
            continue
        if seg.words:
            out.extend(_timed_by_words(parts, seg.words, seg.start, seg.end))
        else:
            out.extend(_timed_by_length(parts, seg.start, seg.end))
    # Sentence that continues over a segment boundary: join when the text has no end mark.
    joined: list[Sentence] = []
    for s in out:
        prev = joined[-1] if joined else None
        if prev and not prev.text.rstrip().endswith((".", "!", "?", "…")) and s.text[:1].islower():
            joined[-1] = Sentence(prev.start, s.end, f"{prev.text} {s.text}")
        else:
            joined.append(s)
    return joined


def _timed_by_length(parts: list[str], start: float, end: float) -> list[Sentence]:
    total = sum(len(p) for p in parts) or 1
    out, t = [], start
    for p in parts:
        dur = (end - start) * len(p) / total
        out.append(Sentence(round(t, 3), round(t + dur, 3), p))
        t += dur
    return out


def _timed_by_words(parts: list[str], words: Sequence, start: float, end: float) -> list[Sentence]:
    counts = [len(tokens(w.text)) for w in words]
    out, w = [], 0
    for n, p in enumerate(parts):
        need = len(tokens(p))
        first = w
        got = 0
        while w < len(words) and (got < need or need == 0):
            got += counts[w]
            w += 1
            if need == 0:
                break
        if n == len(parts) - 1:
            w = len(words)
        s = words[first].start if first < len(words) else start
        e = words[w - 1].end if w > first else s
        out.append(Sentence(s, max(e, s), p))
    if out:
        out[-1] = Sentence(out[-1].start, max(out[-1].end, end), out[-1].text)
    return out


# --- features -------------------------------------------------------------------------------
def content_stems(text: str) -> list[str]:
    return [stem(t) for t in tokens(text) if t not in STOPWORDS and len(t) > 2 and not t.isdigit()]


def _features(sents: Sequence[Sentence], tax: Taxonomy | None, weight: float) -> list[Counter[str]]:
    feats: list[Counter[str]] = [Counter() for _ in sents]
    for f, s in zip(feats, sents, strict=True):
        for st in content_stems(s.text):
            f[st] += 1.0  # type: ignore[assignment]
    if tax is None:
        return feats
    tagger = tagger_for(tax)
    vlinder_of = {i.id: i.vlinder for i in tax.ingredients}
    for f, s in zip(feats, sents, strict=True):
        ev = evidence(s.text, tagger)
        for ing, total in ev.totals.items():
            f["@" + vlinder_of[ing]] += weight * total  # type: ignore[assignment]
            f["#" + ing] += weight * total  # type: ignore[assignment]
        for ctx in ev.contexts:
            f["@" + ctx] += weight  # type: ignore[assignment]
    return feats


def _cosine(a: Counter, b: Counter) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


# --- chapters -------------------------------------------------------------------------------
def gap_scores(feats: Sequence[Counter], window: int) -> list[float]:
    """Cohesion at each gap ``g`` (between sentence g-1 and g), for g in 1..n-1."""
    scores = []
    for g in range(1, len(feats)):
        left: Counter = Counter()
        right: Counter = Counter()
        for f in feats[max(0, g - window) : g]:
            left.update(f)
        for f in feats[g : g + window]:
            right.update(f)
        scores.append(_cosine(left, right))
    return scores


def depth_scores(scores: Sequence[float]) -> list[float]:
    depths = []
    for i, s in enumerate(scores):
        # TextTiling: climb to the nearest peak on each side.
        lp = s
        for v in reversed(scores[: i + 1]):
            if v < lp:
                break
            lp = v
        rp = s
        for v in scores[i:]:
            if v < rp:
                break
            rp = v
        depths.append((lp - s) + (rp - s))
    return depths


def chapter_starts(
    sents: Sequence[Sentence],
    tax: Taxonomy | None = None,
    options: SegmentOptions | None = None,
    feats: Sequence[Counter[str]] | None = None,
) -> list[int]:
    """Sentence indices where a chapter starts (always including 0); ``feats``: the
    sentences' features when the caller has them already."""
    opts = options or SegmentOptions()
    if len(sents) < 2:
        return [0]
    if feats is None:
        feats = _features(sents, tax, opts.topic_weight)
    depths = depth_scores(gap_scores(feats, opts.window))
    spans = [Span(s.start, s.end, s.text) for s in sents]
    return choose_starts(depths, spans, opts.chapters)


# --- fragments ------------------------------------------------------------------------------
def group_fragments(
    sents: Sequence[Sentence], options: SegmentOptions | None = None
) -> list[list[int]]:
    """Consecutive groups of sentence indices, each about the target length."""
    opts = options or SegmentOptions()
    groups: list[list[int]] = []
    cur: list[int] = []
    for i, s in enumerate(sents):
        if cur:
            dur = sents[cur[-1]].end - sents[cur[0]].start
            with_next = s.end - sents[cur[0]].start
            if (
                dur >= opts.target_fragment_s
                or (with_next > opts.max_fragment_s and dur >= opts.min_fragment_s)
                or with_next > opts.max_fragment_s
            ):
                groups.append(cur)
                cur = []
        cur.append(i)
    if cur:
        dur = sents[cur[-1]].end - sents[cur[0]].start
        if groups and dur < opts.min_fragment_s:
            merged = sents[cur[-1]].end - sents[groups[-1][0]].start
            if merged <= opts.max_fragment_s:
                groups[-1].extend(cur)
                cur = []
        if cur:
            groups.append(cur)
    return groups


# --- titles and summaries -------------------------------------------------------------------
def ingredient_titles(
    feats: Sequence[Counter[str]], tax: Taxonomy | None, weight: float, threshold: float = 1.0
) -> tuple[str, ...]:
    """Titles of the ingredients with lexical evidence in these sentences' features (the
    ``#id`` keys of :func:`_features`), strongest first, at least ``threshold`` phrases'
    worth: their words favour a title candidate."""
    if tax is None or weight <= 0:
        return ()
    totals: dict[str, float] = {}
    for f in feats:
        for key, value in f.items():
            if key.startswith("#"):
                totals[key[1:]] = totals.get(key[1:], 0.0) + value / weight
    title_of = {i.id: i.title for i in tax.ingredients}
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(title_of[k] for k, v in ranked if v >= threshold and k in title_of)


def word_confidences(transcript: Transcript) -> dict[str, float]:
    """Per folded word: its lowest ASR probability in the transcript (none for a transcript
    without word timings: an imported or corrected one counts as clean)."""
    worst: dict[str, float] = {}
    for seg in transcript.segments:
        for w in seg.words:
            key = fold_word(w.text)
            if key:
                worst[key] = min(worst.get(key, 1.0), w.probability)
    return worst


def titles_from_tags(
    chapters: Sequence[Chapter],
    fragments: Sequence[Fragment],
    tax: Taxonomy,
    options: TitleOptions | None = None,
) -> list[Chapter]:
    """Chapters that got no title from the text ("Deel N") take the title of their
    strongest tagged ingredient, if it is not used by another chapter already."""
    numbered = (options or TitleOptions()).fallback
    used = {fold(c.title) for c in chapters}
    title_of = {i.id: i.title for i in tax.ingredients}
    out = []
    for ch in chapters:
        if ch.title == numbered.format(n=ch.index + 1):
            tags = sum_tags(f.tags for f in fragments if f.chapter == ch.index)
            names = [title_of[t.ingredient] for t in tags if t.ingredient in title_of]
            fresh = [n for n in names if fold(n) not in used]
            if fresh:
                used.add(fold(fresh[0]))
                ch = replace(ch, title=fresh[0])
        out.append(ch)
    return out


def chapter_summary(sents: Sequence[Sentence], max_sentences: int = 2, max_chars: int = 320) -> str:
    """The one or two most central sentences, in their original order."""
    if not sents:
        return ""
    feats = [Counter(content_stems(s.text)) for s in sents]
    centroid: Counter = Counter()
    for f in feats:
        centroid.update(f)
    ranked = sorted(range(len(sents)), key=lambda i: (-_cosine(feats[i], centroid), i))
    take = 1 if len(sents) < 5 else max_sentences
    chosen = sorted(ranked[:take])
    summary = ""
    for i in chosen:
        candidate = f"{summary} {sents[i].text}".strip()
        if summary and len(candidate) > max_chars:
            break
        summary = candidate
    if len(summary) > max_chars:
        summary = summary[: max_chars - 1].rsplit(" ", 1)[0] + "…"
    return summary


# --- the stage function ---------------------------------------------------------------------
def move_starts(
    sents: Sequence[Sentence], starts: Sequence[int], moves: dict[int, float]
) -> list[int]:
    """Apply producer corrections: chapter ``i`` (0-based) starts at the sentence nearest to
    ``moves[i]`` seconds. Chapter 0 always starts at the first sentence."""
    out = list(starts)
    for i, t in moves.items():
        if 0 < i < len(out):
            out[i] = min(range(len(sents)), key=lambda j: abs(sents[j].start - t))
    return sorted(set(out) | {0})


def segment(
    transcript: Transcript,
    tax: Taxonomy | None = None,
    options: SegmentOptions | None = None,
    moves: dict[int, float] | None = None,
) -> tuple[list[Chapter], list[Fragment]]:
    """Chapters and (untagged) fragments of a transcript; indices start at 0.

    ``moves`` maps a chapter index to a corrected start time (seconds).
    """
    opts = options or SegmentOptions()
    sents = sentences_of(transcript)
    if not sents:
        return [], []
    feats = _features(sents, tax, opts.topic_weight)
    starts = chapter_starts(sents, tax, opts, feats)
    if moves:
        starts = move_starts(sents, starts, moves)
    ranges = [(a, b) for a, b in zip(starts, [*starts[1:], len(sents)], strict=True) if b > a]
    texts = [
        ChapterText(
            sentences=tuple(s.text for s in sents[a:b]),
            ingredients=ingredient_titles(feats[a:b], tax, opts.topic_weight),
        )
        for a, b in ranges
    ]
    titles = chapter_titles(texts, word_confidences(transcript), opts.titles)
    chapters: list[Chapter] = []
    fragments: list[Fragment] = []
    for ci, ((a, b), title) in enumerate(zip(ranges, titles, strict=True)):
        part = sents[a:b]
        chapters.append(
            Chapter(
                index=ci,
                start=part[0].start,
                end=part[-1].end,
                title=title,
                summary=chapter_summary(part),
            )
        )
        for group in group_fragments(part, opts):
            fragments.append(
                Fragment(
                    index=len(fragments),
                    start=part[group[0]].start,
                    end=part[group[-1]].end,
                    text=" ".join(part[i].text for i in group),
                    chapter=ci,
                )
            )
    return chapters, fragments
