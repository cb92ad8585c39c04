"""Producer edits from the web forms, written to the same files the CLI uses.

* metadata: ``episodes/<slug>/episode.toml`` (:func:`pipeline.core.episodes.update_episode`);
* chapter titles and boundaries: ``[[chapter_overrides]]`` in ``episode.toml``;
* ingredient tags per fragment: ``[[tag_overrides]]`` in ``episode.toml`` (format in
  :mod:`pipeline.tagging.overrides`); both survive every re-run of the tag stage;
* transcript corrections: ``transcripts/<slug>.*`` through :mod:`pipeline.transcribe.store`.

Every form carries the version of what it was loaded from (:mod:`.versions`): only what the
producer changed is applied, merged with what others saved meanwhile where that is safe; a
change to the same segment, field, chapter or fragment raises :class:`ConflictError` (409).

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
from pipeline.core.errors import ConflictError, InputError, VlinderError
from pipeline.core.models import KINDS, Chapter, Episode, Fragment, Segment, Transcript
from pipeline.core.taxonomy import load_taxonomy
from pipeline.core.timefmt import clock, parse_time
from pipeline.core.workspace import Workspace
from pipeline.tagging import load_fragments
from pipeline.transcribe.formats.readers import estimate_words
from pipeline.transcribe.store import load_transcript, save_corrected_transcript

from . import versions

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
    versions: dict[str, str] = field(default_factory=dict)  # form -> version it shows
    hashes: dict[str, str] = field(default_factory=dict)  # unit -> hash of what it shows


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
    units = {
        "gegevens": metadata_units(ep),
        "hoofdstukken": chapter_units(chapters),
        "tags": tag_units(fragments),
        "transcript": transcript_units(segments),
    }
    return EpisodeView(
        episode=ep,
        chapters=tuple(chapters),
        fragments=tuple(fragments),
        segments=segments,
        ingredients=ingredients,
        ingredient_titles=dict(ingredients),
        notes=tuple(notes),
        versions={form: versions.version(u) for form, u in units.items()},
        hashes={k: v for u in units.values() for k, v in versions.hashes(u).items()},
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
    """Run the tag stage again for one episode, so corrections show up everywhere (under the
    workspace lock, so the last edit's tags are the ones that stay)."""
    flows.tag(ws, slug, force=True)


def _text(form: Form, name: str, limit: int = 5000) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise InputError(f"veld {name} is ongeldig")
    value = value.replace("\r\n", "\n").strip()
    if "\x00" in value:
        raise InputError(f"veld {name} bevat een ongeldig teken")
    if len(value) > limit:
        raise InputError(f"veld {name} is te lang (hoogstens {limit} tekens)")
    return value


# --- units: what each form shows, as canonical texts (see .versions) --------------------------
def _words(text: str) -> str:
    return " ".join(text.split())


def metadata_units(ep: Episode) -> dict[str, str]:
    return {
        "title": ep.title.strip(),
        "date": ep.date.isoformat() if ep.date else "",
        "speakers": ", ".join(ep.speakers),
        "event": ep.event.strip(),
        "kind": ep.kind,
        "description": ep.description.replace("\r\n", "\n").strip(),
    }


def chapter_units(chapters: list[Chapter] | tuple[Chapter, ...]) -> dict[str, str]:
    return {f"chapter_{n}": f"{clock(c.start)}|{c.title}" for n, c in enumerate(chapters, 1)}


def _span(fragment: Fragment) -> str:
    return f"{fragment.start:.1f}-{fragment.end:.1f}"


def tag_units(fragments: list[Fragment] | tuple[Fragment, ...]) -> dict[str, str]:
    return {
        f"fragment_{n}": f"{_span(f)}|{','.join(sorted(t.ingredient for t in f.tags))}"
        for n, f in enumerate(fragments, 1)
    }


def transcript_units(segments: tuple[Segment, ...]) -> dict[str, str]:
    return {f"seg_{s.id}": _words(s.text) for s in segments}


def _numbers(form: Form, *prefixes: str) -> list[int]:
    """The numbers ``n`` of the form's fields ``<prefix><n>`` (1-based rows of a table)."""
    found = set()
    for key in form:
        for prefix in prefixes:
            rest = key[len(prefix) :]
            if key.startswith(prefix) and rest.isdigit() and 0 < int(rest) <= 10_000:
                found.add(int(rest))
    return sorted(found)


def _merge(
    current: dict[str, str], posted: dict[str, str], form: Form, what: str, label: Any
) -> versions.Merge:
    """The merge of a form; ConflictError (409) naming what was changed on both sides."""
    merged = versions.merge(current, posted, form)
    if merged.missing_version:
        raise ConflictError(
            f"dit formulier voor {what} is verouderd; laad de pagina opnieuw, er is niets opgeslagen"
        )
    if merged.conflicts:
        shown = [label(unit) for unit in merged.conflicts[:3]]
        more = f" en {len(merged.conflicts) - 3} meer" if len(merged.conflicts) > 3 else ""
        raise ConflictError(
            f"{what} is intussen door iemand anders gewijzigd ({'; '.join(shown)}{more}); "
            "er is niets opgeslagen. Laad de pagina opnieuw en breng je wijziging opnieuw aan"
        )
    return merged


def _merged_note(merged: versions.Merge) -> str:
    return " Samengevoegd met wat iemand anders intussen opsloeg." if merged.stale else ""


# --- metadata ------------------------------------------------------------------------------
METADATA_LABELS = {
    "title": "titel",
    "date": "datum",
    "speakers": "sprekers",
    "event": "gelegenheid",
    "kind": "soort",
    "description": "beschrijving",
}


def save_metadata(ws: Workspace, slug: str, form: Form) -> str:
    posted: dict[str, str] = {}
    if "title" in form:
        posted["title"] = _text(form, "title", 300)
        if not posted["title"]:
            raise InputError("de titel mag niet leeg zijn")
    if "date" in form:
        posted["date"] = parse_date(_text(form, "date", 20)).isoformat()
    if "kind" in form:
        posted["kind"] = _text(form, "kind", 20) or "talk"
        if posted["kind"] not in KINDS:
            raise InputError("soort moet lezing of interview zijn")
    if "speakers" in form:
        names = _text(form, "speakers", 1000).replace("\n", ",").split(",")
        posted["speakers"] = ", ".join(s.strip() for s in names if s.strip())
    for key, limit in (("description", 5000), ("event", 300)):
        if key in form:
            posted[key] = _text(form, key, limit)
    with ws.lock():
        ep = load_episode(ws, slug)
        merged = _merge(
            metadata_units(ep), posted, form, "de gegevens", lambda u: METADATA_LABELS[u]
        )
        if not merged.changes:
            return "Er was niets veranderd aan de gegevens."
        values: dict[str, Any] = dict(merged.changes)
        if "date" in values:
            values["date"] = parse_date(values["date"])
        if "speakers" in values:
            values["speakers"] = tuple(s for s in values["speakers"].split(", ") if s)
        ep = replace(ep, **values)
        save_episode(ws, ep)
        with open_catalogue(ws) as cat:
            cat.upsert_episode(ep)
    return (
        "De gegevens zijn opgeslagen. Publiceer om de site en feeds bij te werken."
        + _merged_note(merged)
    )


# --- chapters ------------------------------------------------------------------------------
def _overrides(ep: Episode, key: str) -> list[dict[str, Any]]:
    value = ep.overrides.get(key, [])
    return [dict(v) for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def save_chapters(ws: Workspace, slug: str, form: Form) -> str:
    """Chapter ``n`` (1-based) has fields ``title_n`` and ``start_n`` (mm:ss)."""
    with ws.lock():
        chapters, _ = _load_tagging(ws, slug)
        if not chapters:
            raise InputError("deze aflevering heeft nog geen hoofdstukken")
        posted: dict[str, str] = {}
        for n in _numbers(form, "title_", "start_"):
            current = chapters[n - 1] if n <= len(chapters) else None
            title = _text(form, f"title_{n}", 300) if f"title_{n}" in form else ""
            title = title or (current.title if current and f"title_{n}" not in form else "")
            if not title:
                raise InputError(f"hoofdstuk {n} heeft geen titel")
            start_text = _text(form, f"start_{n}", 20)
            start = parse_time(start_text) if start_text and n > 1 else None
            if start is None:
                start = current.start if current else 0.0
            posted[f"chapter_{n}"] = f"{clock(start)}|{title}"
        merged = _merge(
            chapter_units(chapters), posted, form, "de hoofdstukken", lambda u: f"hoofdstuk {u[8:]}"
        )
        if not merged.changes:
            return "Er was niets veranderd aan de hoofdstukken."
        ep = load_episode(ws, slug)
        duration = ep.duration or max((c.end for c in chapters), default=0.0)
        starts = [c.start for c in chapters]
        changes: dict[int, dict[str, Any]] = {}
        for unit, text in merged.changes.items():
            n = int(unit[8:])
            start_text, title = text.split("|", 1)
            chapter = chapters[n - 1]
            change: dict[str, Any] = {}
            if title != chapter.title:
                change["title"] = title
            if start_text != clock(chapter.start):
                starts[n - 1] = parse_time(start_text)
                change["start"] = round(starts[n - 1], 3)
            changes[n] = change
        for n in range(2, len(starts) + 1):
            if starts[n - 1] <= starts[n - 2] or (duration and starts[n - 1] >= duration):
                raise InputError(
                    f"hoofdstuk {n}: begin {clock(starts[n - 1])} moet na het vorige hoofdstuk "
                    "en vóór het einde liggen"
                )
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
    return (
        f"{len(changes)} hoofdstuk(ken) aangepast. Publiceer om de site bij te werken."
        + _merged_note(merged)
    )


# --- tags ----------------------------------------------------------------------------------
def save_tags(ws: Workspace, slug: str, form: Form) -> str:
    """Fragment ``n`` (1-based): checkboxes ``keep_n`` (ids to keep), select ``add_n`` and the
    fragment's span ``span_n`` as the form showed it.

    Stored as ``[[tag_overrides]]`` addressed by time (``at`` = the fragment's middle), so a
    correction keeps pointing at the same words when the fragments are cut differently later.
    """
    try:
        known = {i.id for i in load_taxonomy(ws).ingredients}
    except VlinderError:
        known = set()
    getlist = getattr(form, "getlist", None)
    with ws.lock():
        _, fragments = _load_tagging(ws, slug)
        if not fragments:
            raise InputError("deze aflevering heeft nog geen fragmenten")
        posted: dict[str, str] = {}
        for n in _numbers(form, "shown_"):
            keep = set(getlist(f"keep_{n}")) if getlist else set()
            added = _text(form, f"add_{n}", 100)
            if added and added not in known:
                raise InputError(f"onbekend ingrediënt '{added}'")
            span = _text(form, f"span_{n}", 40)
            if not span:
                span = _span(fragments[n - 1]) if n <= len(fragments) else "?"
            tags = keep | ({added} if added else set())
            posted[f"fragment_{n}"] = f"{span}|{','.join(sorted(tags))}"
        merged = _merge(
            tag_units(fragments), posted, form, "de tags", lambda u: f"fragment {u[9:]}"
        )
        if not merged.changes:
            return "Er was niets veranderd aan de tags."
        ep = load_episode(ws, slug)
        entries = _overrides(ep, "tag_overrides")
        count = 0
        for unit, text in merged.changes.items():
            fragment = fragments[int(unit[9:]) - 1]
            current = {t.ingredient for t in fragment.tags}
            new = {t for t in text.split("|", 1)[1].split(",") if t}
            add, remove = new - current, current - new
            count += len(add) + len(remove)
            entry = next((e for e in entries if _points_at(e, fragment)), None)
            if entry is None:
                entry = {"at": round((fragment.start + fragment.end) / 2, 1)}
                entries.append(entry)
            entry["add"] = sorted((set(entry.get("add", [])) - remove) | add)
            entry["remove"] = sorted((set(entry.get("remove", [])) - add) | remove)
        entries = [e for e in entries if e.get("add") or e.get("remove")]
        save_episode(ws, replace(ep, overrides={**ep.overrides, "tag_overrides": entries}))
        _retag(ws, slug)
    return f"{count} tag(s) aangepast. Publiceer om de site bij te werken." + _merged_note(merged)


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
    """Field ``seg_<id>`` holds the corrected text of segment ``id``; only the segments this
    form changed are applied (merged with other producers' corrections of other segments)."""

    posted: dict[str, str] = {}
    for key in form:
        if key.startswith("seg_") and key[4:].isdigit():
            posted[key] = _words(_text(form, key, 5000))
    with ws.lock():
        transcript = load_transcript(ws, slug)
        if transcript is None:
            raise InputError("deze aflevering heeft nog geen transcript")
        starts = {f"seg_{s.id}": s.start for s in transcript.segments}

        def label(unit: str) -> str:
            at = f" ({clock(starts[unit])})" if unit in starts else ""
            return f"zin {int(unit[4:]) + 1}{at}"

        merged = _merge(
            transcript_units(transcript.segments), posted, form, "het transcript", label
        )
        texts = {int(unit[4:]): text for unit, text in merged.changes.items()}
        corrected, changed = correct_transcript(transcript, texts)
        if not changed:
            return "Er was niets veranderd aan het transcript."
        save_corrected_transcript(ws, slug, corrected)
        _retag(ws, slug)
    return f"{changed} zin(nen) verbeterd. Publiceer om de site bij te werken." + _merged_note(
        merged
    )
