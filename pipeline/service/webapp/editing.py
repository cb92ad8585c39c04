"""Producer edits from the web forms, written to the same files the CLI uses.

* metadata: ``episodes/<slug>/episode.toml`` (:func:`pipeline.core.episodes.update_episode`);
* chapter titles and boundaries: ``[[chapter_overrides]]`` in ``episode.toml``;
* ingredient tags per fragment: ``[[tag_overrides]]`` in ``episode.toml`` (format in
  :mod:`pipeline.tagging.overrides`); both survive every re-run of the tag stage;
* transcript corrections: ``transcripts/<slug>.*`` through :mod:`pipeline.transcribe.store`.

After an edit the tag stage runs again for the episode (cheap), so chapters, fragments and
search see the change; the site and feeds change when the producer publishes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pipeline import flows
from pipeline.catalogue import open_catalogue
from pipeline.core.episodes import load_episode, parse_date, save_episode
from pipeline.core.errors import InputError, VlinderError
from pipeline.core.models import KINDS, Chapter, Episode, Fragment, Segment, Transcript
from pipeline.core.taxonomy import load_taxonomy
from pipeline.core.timefmt import clock, parse_time
from pipeline.core.workspace import Workspace
from pipeline.tagging import load_fragments
from pipeline.transcribe.formats.readers import estimate_words
from pipeline.transcribe.store import load_transcript, save_corrected_transcript

Form = Mapping[str, Any]


@dataclass(frozen=True)
class EpisodeView:
    """Everything the edit page shows."""

    episode: Episode
    chapters: tuple[Chapter, ...] = ()
    fragments: tuple[Fragment, ...] = ()
    segments: tuple[Segment, ...] = ()
    ingredients: tuple[tuple[str, str], ...] = ()  # (id, title)
    ingredient_titles: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # why a section is empty


def _load_tagging(ws: Workspace, slug: str) -> tuple[list[Chapter], list[Fragment]]:
    """Chapters and fragments (with their tags, corrections applied) of an episode."""
    loaded = load_fragments(ws, slug)
    if loaded is None:
        return [], []
    chapters, fragments = loaded
    return list(chapters), list(fragments)


def episode_view(ws: Workspace, slug: str) -> EpisodeView:
    ep = load_episode(ws, slug)
    notes: list[str] = []
    segments: tuple[Segment, ...] = ()
    try:
        transcript = load_transcript(ws, slug)
    except VlinderError as exc:
        transcript = None
        notes.append(f"Het transcript kan niet gelezen worden: {exc}")
    if transcript is not None:
        segments = transcript.segments
    else:
        notes.append("Er is nog geen transcript.")
    chapters: list[Chapter] = []
    fragments: list[Fragment] = []
    try:
        chapters, fragments = _load_tagging(ws, slug)
    except VlinderError as exc:
        notes.append(f"Hoofdstukken en tags kunnen niet gelezen worden: {exc}")
    ingredients: tuple[tuple[str, str], ...] = ()
    try:
        tax = load_taxonomy(ws)
        ingredients = tuple((i.id, i.title) for i in tax.ingredients)
    except VlinderError as exc:
        notes.append(f"De taxonomie kan niet gelezen worden: {exc}")
    return EpisodeView(
        episode=ep,
        chapters=tuple(chapters),
        fragments=tuple(fragments),
        segments=segments,
        ingredients=ingredients,
        ingredient_titles=dict(ingredients),
        notes=tuple(notes),
    )


# Whisper's word probability below which the editor marks a word "listen again". Chosen on real
# Dutch speech (a 240 s two-voice dialogue, bundled Whisper base, 69% of the words right): below
# 0.5 a fifth of the words is marked and 63% of those are wrong, catching 42% of the errors;
# lower thresholds mark too few errors, higher ones mostly right words (docs/producer.md).
UNSURE = 0.5


def unsure_words(segment: Segment) -> tuple[tuple[str, bool], ...]:
    """The segment's words, each with whether Whisper was unsure of it; empty when it was sure
    of all of them (imported and corrected text counts as sure)."""
    words = tuple((w.text.strip(), w.probability < UNSURE) for w in segment.words)
    return words if any(doubt for _, doubt in words) else ()


def _retag(ws: Workspace, slug: str) -> None:
    """Run the tag stage again for one episode, so corrections show up everywhere."""
    flows.tag(ws, slug, force=True)


def _text(form: Form, name: str, limit: int = 5000) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise InputError(f"veld {name} is ongeldig")
    value = value.strip()
    if "\x00" in value:
        raise InputError(f"veld {name} bevat een ongeldig teken")
    if len(value) > limit:
        raise InputError(f"veld {name} is te lang (hoogstens {limit} tekens)")
    return value


# --- metadata ------------------------------------------------------------------------------
def save_metadata(ws: Workspace, slug: str, form: Form) -> str:
    title = _text(form, "title", 300)
    if not title:
        raise InputError("de titel mag niet leeg zijn")
    kind = _text(form, "kind", 20) or "talk"
    if kind not in KINDS:
        raise InputError("soort moet lezing of interview zijn")
    speakers = tuple(
        s.strip() for s in _text(form, "speakers", 1000).replace("\n", ",").split(",") if s.strip()
    )
    with ws.lock():
        ep = replace(
            load_episode(ws, slug),
            title=title,
            date=parse_date(_text(form, "date", 20)),
            speakers=speakers,
            description=_text(form, "description"),
            event=_text(form, "event", 300),
            kind=kind,
        )
        save_episode(ws, ep)
        with open_catalogue(ws) as cat:
            cat.upsert_episode(ep)
    return "De gegevens zijn opgeslagen. Publiceer om de site en feeds bij te werken."


# --- chapters ------------------------------------------------------------------------------
def _overrides(ep: Episode, key: str) -> list[dict[str, Any]]:
    value = ep.overrides.get(key, [])
    return [dict(v) for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def save_chapters(ws: Workspace, slug: str, form: Form) -> str:
    """Chapter ``n`` (1-based) has fields ``title_n`` and ``start_n`` (mm:ss)."""
    view = episode_view(ws, slug)
    if not view.chapters:
        raise InputError("deze aflevering heeft nog geen hoofdstukken")
    duration = view.episode.duration or max((c.end for c in view.chapters), default=0.0)
    changes: dict[int, dict[str, Any]] = {}
    previous_start = -1.0
    for n, chapter in enumerate(view.chapters, start=1):
        title = _text(form, f"title_{n}", 300) if f"title_{n}" in form else chapter.title
        if not title:
            raise InputError(f"hoofdstuk {n} heeft geen titel")
        start_text = _text(form, f"start_{n}", 20) if f"start_{n}" in form else ""
        start = parse_time(start_text) if start_text else chapter.start
        if n == 1:
            start = chapter.start  # the first chapter always starts at the beginning
        if start <= previous_start or (duration and start >= duration):
            raise InputError(
                f"hoofdstuk {n}: begin {clock(start)} moet na het vorige hoofdstuk "
                "en vóór het einde liggen"
            )
        previous_start = start
        change: dict[str, Any] = {}
        if title != chapter.title:
            change["title"] = title
        if abs(start - chapter.start) >= 0.5:
            change["start"] = round(start, 3)
        if change:
            changes[n] = change
    if not changes:
        return "Er was niets veranderd aan de hoofdstukken."
    with ws.lock():
        ep = load_episode(ws, slug)
        entries = _overrides(ep, "chapter_overrides")
        for n, change in changes.items():
            entry = next((e for e in entries if e.get("chapter") == n), None)
            if entry is None:
                entries.append({"chapter": n, **change})
            else:
                entry.update(change)
        entries.sort(key=lambda e: int(e.get("chapter", 0)))
        save_episode(ws, replace(ep, overrides={**ep.overrides, "chapter_overrides": entries}))
    _retag(ws, slug)
    return f"{len(changes)} hoofdstuk(ken) aangepast. Publiceer om de site bij te werken."


# --- tags ----------------------------------------------------------------------------------
def save_tags(ws: Workspace, slug: str, form: Form) -> str:
    """Fragment ``n`` (1-based): checkboxes ``keep_n`` (ids to keep) and select ``add_n``.

    Stored as ``[[tag_overrides]]`` addressed by time (``at`` = the fragment's middle), so a
    correction keeps pointing at the same words when the fragments are cut differently later.
    """
    view = episode_view(ws, slug)
    known = set(view.ingredient_titles)
    if not view.fragments:
        raise InputError("deze aflevering heeft nog geen fragmenten")
    getlist = getattr(form, "getlist", None)
    changes: list[tuple[Fragment, set[str], set[str]]] = []
    for n, fragment in enumerate(view.fragments, start=1):
        if f"shown_{n}" not in form:
            continue  # fragment not in the submitted form: leave it alone
        current = {t.ingredient for t in fragment.tags}
        keep = set(getlist(f"keep_{n}")) if getlist else set()
        added = _text(form, f"add_{n}", 100)
        if added and added not in known:
            raise InputError(f"onbekend ingrediënt '{added}'")
        new = (current & keep) | ({added} if added else set())
        if new != current:
            changes.append((fragment, new - current, current - new))
    if not changes:
        return "Er was niets veranderd aan de tags."
    with ws.lock():
        ep = load_episode(ws, slug)
        entries = _overrides(ep, "tag_overrides")
        for fragment, add, remove in changes:
            entry = next((e for e in entries if _points_at(e, fragment)), None)
            if entry is None:
                entry = {"at": round((fragment.start + fragment.end) / 2, 1)}
                entries.append(entry)
            entry["add"] = sorted((set(entry.get("add", [])) - remove) | add)
            entry["remove"] = sorted((set(entry.get("remove", [])) - add) | remove)
        entries = [e for e in entries if e.get("add") or e.get("remove")]
        save_episode(ws, replace(ep, overrides={**ep.overrides, "tag_overrides": entries}))
    _retag(ws, slug)
    count = sum(len(a) + len(r) for _, a, r in changes)
    return f"{count} tag(s) aangepast. Publiceer om de site bij te werken."


def _points_at(entry: dict[str, Any], fragment: Fragment) -> bool:
    """Whether a ``[[tag_overrides]]`` entry addresses this fragment (by its ``at`` time)."""
    at = entry.get("at")
    if at is None:
        return False
    try:
        seconds = parse_time(str(at))
    except InputError:
        return False
    return fragment.start <= seconds < fragment.end


# --- transcript ----------------------------------------------------------------------------
def correct_segment(segment: Segment, text: str) -> Segment:
    """A segment with corrected text: word timings are kept when the number of words is the
    same (a misheard name), otherwise spread over the segment again."""

    tokens = text.split()
    if segment.words and len(tokens) == len(segment.words):
        words = tuple(
            replace(w, text=(" " if w.text.startswith(" ") else "") + tok)
            for w, tok in zip(segment.words, tokens, strict=True)
        )
    else:
        words = estimate_words(text, segment.start, segment.end)
    return replace(
        segment, text=text if not segment.text.startswith(" ") else " " + text, words=words
    )


def correct_transcript(transcript: Transcript, texts: Mapping[int, str]) -> tuple[Transcript, int]:
    """Apply corrected texts by segment id; returns the new transcript and how many changed."""
    segments = []
    changed = 0
    for seg in transcript.segments:
        new = texts.get(seg.id)
        if new is not None and " ".join(new.split()) != " ".join(seg.text.split()):
            new = " ".join(new.split())
            if not new:
                raise InputError(f"segment {seg.id + 1} mag niet leeg zijn")
            seg = correct_segment(seg, new)
            changed += 1
        segments.append(seg)
    options = {**transcript.options, "corrected": True} if changed else transcript.options
    return replace(transcript, segments=tuple(segments), options=options), changed


def save_transcript(ws: Workspace, slug: str, form: Form) -> str:
    """Field ``seg_<id>`` holds the corrected text of segment ``id``."""

    texts: dict[int, str] = {}
    for key in form:
        if key.startswith("seg_") and key[4:].isdigit():
            texts[int(key[4:])] = _text(form, key, 5000)
    with ws.lock():
        transcript = load_transcript(ws, slug)
        if transcript is None:
            raise InputError("deze aflevering heeft nog geen transcript")
        corrected, changed = correct_transcript(transcript, texts)
        if not changed:
            return "Er was niets veranderd aan het transcript."
        save_corrected_transcript(ws, slug, corrected)
    _retag(ws, slug)
    return f"{changed} zin(nen) verbeterd. Publiceer om de site bij te werken."
