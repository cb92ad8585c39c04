"""Tag: give every fragment its vlinder ingredients, each with a score and its evidence.

Method (chosen by measurement, see ``docs/evaluation.md`` and ``benchmarks/results/tag.json``):
lexical evidence against the descriptor phrases of the taxonomy. Each phrase of an ingredient is
matched on Dutch stems with diacritics folded, its words in any order within a short window;
``woord*`` and ``*woord`` match compounds. A phrase counts 1, a hint 0.5; an ingredient is tagged
when its sum reaches its threshold (default 1). Words count once per ingredient: a match that
reuses words already counted (``kennen`` inside ``elkaar kennen``) adds nothing. Off-topic guard:
when a fragment matches an off-topic context of the taxonomy (dike engineering, permits, planning,
housekeeping, weather), hints alone never tag it; next to a ``strict`` context (housekeeping,
small talk) one single-word phrase alone does not either. The evidence of a tag is the list of
descriptor phrases that matched.

:func:`tag_fragments` is pure. :func:`tag_episode` is the stage: it loads the transcript,
segments it, tags it, applies the producer's corrections from ``episode.toml`` and writes
``transcripts/<slug>.tags.json`` (atomically) and the catalogue rows.

Producer corrections (``episodes/<slug>/episode.toml``; they survive every re-run)::

    [[chapter_overrides]]
    chapter = 2                  # chapter number, counting from 1 as on the site
    title = "Samen de risico's dragen"   # optional: rename
    summary = "..."              # optional: replace the summary
    start = "5:12"               # optional: move its start to the sentence nearest 5:12

    [[tag_overrides]]
    at = "12:40"                 # the fragment playing at 12:40 (or seconds: 760)
    add = ["bestuurlijk-lef"]    # add ingredients (score 1.0, source "manual")
    remove = ["een-team"]        # remove ingredients

    [[tag_overrides]]
    chapter = 3                  # a whole chapter: add puts the ingredient on the chapter,
    remove = ["sociale-binding"] # remove takes it off the chapter and all its fragments

Times are addressed by time, not by fragment number, so a correction still points at the same
words when a changed taxonomy or method cuts the fragments differently. Chapters are numbered.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from .errors import InputError, NotFoundError, TaxonomyError, VlinderError, WorkspaceError
from .models import Chapter, Episode, Fragment, Tag, Transcript
from .taxonomy import Taxonomy, load_taxonomy
from .text import fold, stem, tokens
from .workspace import Workspace, atomic_write_text

if TYPE_CHECKING:
    from .db import Catalogue

#: Bump when the method (not the taxonomy) changes: every episode is re-tagged.
METHOD_VERSION = "lexical-3"
PHRASE_WEIGHT = 1.0
HINT_WEIGHT = 0.5
WINDOW_SLACK = 2  # a phrase of n words matches within n + WINDOW_SLACK tokens
#: Endings that turn a descriptor word into an inflected form (``podcast`` -> ``podcasts``).
_INFLECTIONS = ("s", "en", "es", "n", "e", "er", "ers", "je", "jes", "tje", "tjes", "d", "t")


# --- matching -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Word:
    text: str  # folded descriptor word, without '*'
    stem: str
    mode: str  # "word" | "form" | "prefix" | "suffix"


@dataclass(frozen=True)
class _Phrase:
    owner: str  # ingredient or context id
    text: str
    weight: float
    alternatives: tuple[tuple[_Word, ...], ...]


def _compile_words(text: str) -> tuple[_Word, ...]:
    words = []
    for raw in fold(text).replace("’", "'").split():
        raw = raw.strip(".,;:!?\"'()")
        prefix, suffix = raw.endswith("*"), raw.startswith("*")
        toks = tokens(raw.strip("*"))
        for n, tok in enumerate(toks):
            if prefix and n == len(toks) - 1:
                words.append(_Word(tok, tok, "prefix"))
            elif suffix and n == 0:
                words.append(_Word(tok, tok, "suffix"))
            else:
                st = stem(tok)
                # A stem that strips much of the word (openheid -> open, uitje -> uit) would
                # match unrelated words: such words match on their form (plus inflection) only.
                form_only = len(tok) <= 3 or (
                    st != tok and (len(st) <= 3 or len(tok) - len(st) >= 4)
                )
                words.append(_Word(tok, st, "form" if form_only else "word"))
    return tuple(words)


def _compile_phrase(owner: str, text: str, weight: float) -> _Phrase | None:
    """``"a b|c d"``: alternatives of one descriptor, which counts at most once."""
    alternatives = tuple(w for w in (_compile_words(alt) for alt in text.split("|")) if w)
    if not alternatives:
        return None
    return _Phrase(owner, text, weight, alternatives)


@dataclass(frozen=True)
class _Analysed:
    folded: tuple[str, ...]
    stems: tuple[str, ...]
    by_stem: dict[str, list[int]]
    by_token: dict[str, list[int]]
    memo: dict[_Word, list[int]]


def _analyse(text: str) -> _Analysed:
    folded = tuple(tokens(text))
    stems_ = tuple(stem(t) for t in folded)
    by_stem: dict[str, list[int]] = {}
    by_token: dict[str, list[int]] = {}
    for i, (t, s) in enumerate(zip(folded, stems_, strict=True)):
        by_stem.setdefault(s, []).append(i)
        by_token.setdefault(t, []).append(i)
    return _Analysed(folded, stems_, by_stem, by_token, {})


def _positions(word: _Word, doc: _Analysed) -> list[int]:
    """Where ``word`` occurs; exact words were indexed by :func:`_index_words` already."""
    cached = doc.memo.get(word)
    if cached is None:
        if word.mode in ("prefix", "suffix"):
            test = str.startswith if word.mode == "prefix" else str.endswith
            cached = sorted(p for t, ps in doc.by_token.items() if test(t, word.text) for p in ps)
        else:
            cached = []
        doc.memo[word] = cached
    return cached


def _word_forms(word: _Word) -> tuple[str, ...]:
    """The token forms a (non-wildcard) word matches besides its stem: itself, inflected."""
    if len(word.text) < 4:
        return (word.text,)
    return (word.text, *(word.text + e for e in _INFLECTIONS))


def _index_words(
    doc: _Analysed, by_form: dict[str, tuple[_Word, ...]], by_stem: dict[str, tuple[_Word, ...]]
) -> None:
    """One pass over the tokens: the positions of every exact descriptor word in ``doc``."""
    found: dict[_Word, set[int]] = {}
    for i, (tok, st) in enumerate(zip(doc.folded, doc.stems, strict=True)):
        for word in by_form.get(tok, ()):
            found.setdefault(word, set()).add(i)
        for word in by_stem.get(st, ()):
            found.setdefault(word, set()).add(i)
    for word, pos in found.items():
        doc.memo[word] = sorted(pos)


def _match_words(words: tuple[_Word, ...], doc: _Analysed) -> tuple[int, ...] | None:
    lists = []
    for word in words:
        pos = _positions(word, doc)
        if not pos:
            return None
        lists.append(pos)
    if len(lists) == 1:
        return (lists[0][0],)
    window = len(words) + WINDOW_SLACK
    for anchor in lists[0]:
        chosen = [anchor]
        for pos in lists[1:]:
            near = [p for p in pos if abs(p - anchor) < window and p not in chosen]
            if not near:
                break
            chosen.append(min(near, key=lambda p: abs(p - anchor)))
        else:
            if max(chosen) - min(chosen) < window:
                return tuple(chosen)
    return None


def _match(phrase: _Phrase, doc: _Analysed) -> tuple[int, ...] | None:
    """Token positions of the first alternative that occurs in ``doc``, or None."""
    for words in phrase.alternatives:
        found = _match_words(words, doc)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class Tagger:
    """The taxonomy compiled for matching; build once with :func:`compile_taxonomy`."""

    taxonomy: Taxonomy
    phrases: tuple[_Phrase, ...]
    contexts: tuple[_Phrase, ...]
    by_form: dict[str, tuple[_Word, ...]] = field(default_factory=dict, compare=False)
    by_stem: dict[str, tuple[_Word, ...]] = field(default_factory=dict, compare=False)


def compile_taxonomy(tax: Taxonomy) -> Tagger:
    phrases = []
    for ing in tax.ingredients:
        for text in ing.phrases:
            p = _compile_phrase(ing.id, text, PHRASE_WEIGHT)
            if p:
                phrases.append(p)
        for text in ing.hints:
            p = _compile_phrase(ing.id, text, HINT_WEIGHT)
            if p:
                phrases.append(p)
    contexts = []
    for ctx in tax.contexts:
        for text in ctx.phrases:
            p = _compile_phrase(ctx.id, text, PHRASE_WEIGHT)
            if p:
                contexts.append(p)
    by_form: dict[str, list[_Word]] = {}
    by_stem: dict[str, list[_Word]] = {}
    for phrase in (*phrases, *contexts):
        for words in phrase.alternatives:
            for word in words:
                if word.mode in ("prefix", "suffix"):
                    continue
                for form in _word_forms(word):
                    if word not in by_form.setdefault(form, []):
                        by_form[form].append(word)
                if word.mode == "word" and word not in by_stem.setdefault(word.stem, []):
                    by_stem[word.stem].append(word)
    return Tagger(
        tax,
        tuple(phrases),
        tuple(contexts),
        {k: tuple(v) for k, v in by_form.items()},
        {k: tuple(v) for k, v in by_stem.items()},
    )


@lru_cache(maxsize=8)
def _cached_tagger(tax: Taxonomy) -> Tagger:
    return compile_taxonomy(tax)


def _score(total: float) -> float:
    """Map the summed evidence to (0, 1): 1 -> 0.5, 2 -> 0.75, 3 -> 0.875."""
    return round(1.0 - math.pow(0.5, total), 3)


@dataclass(frozen=True)
class Evidence:
    """What the tagger saw in one text: per ingredient its sum and matched phrases."""

    totals: dict[str, float]
    strong: dict[str, bool]  # at least one phrase (not only hints) matched
    matched: dict[str, tuple[str, ...]]
    contexts: tuple[str, ...]  # off-topic contexts that matched
    strict: bool = False  # one of them is strict (housekeeping, small talk)
    #: Ingredients whose only evidence is one single-word phrase (``congres``, ``lef``).
    lone: frozenset[str] = frozenset()


def evidence(text: str, tagger: Tagger) -> Evidence:
    doc = _analyse(text)
    _index_words(doc, tagger.by_form, tagger.by_stem)
    totals: dict[str, float] = {}
    strong: dict[str, bool] = {}
    matched: dict[str, list[str]] = {}
    covered: dict[str, set[int]] = {}
    single: set[str] = set()
    for phrase in tagger.phrases:  # phrases first, then hints (compile order)
        found = _match(phrase, doc)
        if found is None:
            continue
        seen = covered.setdefault(phrase.owner, set())
        if not seen.isdisjoint(found):
            continue  # these words already counted for this ingredient (kennen, elkaar kennen)
        seen.update(found)
        totals[phrase.owner] = totals.get(phrase.owner, 0.0) + phrase.weight
        if phrase.weight >= PHRASE_WEIGHT:
            strong[phrase.owner] = True
        matched.setdefault(phrase.owner, []).append(phrase.text)
        if len(found) == 1 and phrase.weight >= PHRASE_WEIGHT and len(matched[phrase.owner]) == 1:
            single.add(phrase.owner)
    lone = frozenset(i for i in single if len(matched[i]) == 1)
    contexts = tuple(dict.fromkeys(p.owner for p in tagger.contexts if _match(p, doc) is not None))
    strict = any(c.strict for c in tagger.taxonomy.contexts if c.id in contexts)
    return Evidence(
        totals,
        strong,
        {k: tuple(v) for k, v in matched.items()},
        contexts,
        strict,
        lone,
    )


def tag_text(text: str, tagger: Tagger | Taxonomy) -> tuple[Tag, ...]:
    """The ingredients of one text, strongest first."""
    if isinstance(tagger, Taxonomy):
        tagger = _cached_tagger(tagger)
    ev = evidence(text, tagger)
    tags = []
    for ing in tagger.taxonomy.ingredients:
        total = ev.totals.get(ing.id, 0.0)
        if total < ing.threshold:
            continue
        if ev.contexts and not ev.strong.get(ing.id):
            continue  # off-topic guard: hints next to engineering or housekeeping are noise
        if ev.strict and ing.id in ev.lone:
            continue  # next to housekeeping or small talk, one word ("borrel", "lef") is noise
        tags.append(Tag(ing.id, _score(total), ev.matched[ing.id]))
    return tuple(sorted(tags, key=lambda t: (-t.score, t.ingredient)))


def tag_fragments(fragments: Sequence[Fragment], tax: Taxonomy) -> list[Fragment]:
    """Pure: the fragments with their automatic tags (manual tags are kept)."""
    tagger = _cached_tagger(tax)
    out = []
    for frag in fragments:
        manual = tuple(t for t in frag.tags if t.source == "manual")
        auto = tuple(
            t
            for t in tag_text(frag.text, tagger)
            if t.ingredient not in {m.ingredient for m in manual}
        )
        out.append(replace(frag, tags=manual + auto))
    return out


def sum_tags(tag_lists: Iterable[Iterable[Tag]]) -> tuple[Tag, ...]:
    """Ingredients of a chapter or an episode: the scores of its fragments' tags, summed."""
    totals: dict[str, float] = {}
    evid: dict[str, list[str]] = {}
    manual: set[str] = set()
    for tags in tag_lists:
        for t in tags:
            totals[t.ingredient] = totals.get(t.ingredient, 0.0) + t.score
            for e in t.evidence:
                if e not in evid.setdefault(t.ingredient, []):
                    evid[t.ingredient].append(e)
            if t.source == "manual":
                manual.add(t.ingredient)
    return tuple(
        Tag(i, round(s, 3), tuple(evid.get(i, ())[:5]), "manual" if i in manual else "auto")
        for i, s in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    )


def chapters_with_tags(chapters: Sequence[Chapter], fragments: Sequence[Fragment]) -> list[Chapter]:
    out = []
    for ch in chapters:
        own = [f.tags for f in fragments if f.chapter == ch.index]
        manual = [t for t in ch.tags if t.source == "manual"]
        summed = sum_tags([*own, manual])
        out.append(replace(ch, tags=summed))
    return out


# --- evaluation -----------------------------------------------------------------------------
@dataclass(frozen=True)
class EvalItem:
    id: str
    text: str
    gold: frozenset[str]


def read_tagging_jsonl(lines: Iterable[str], origin: str = "bestand") -> list[EvalItem]:
    """Items in the format of ``tagging-dev.jsonl``; a bad line raises :class:`InputError`."""
    items = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(
                EvalItem(str(row.get("id", n)), str(row["text"]), frozenset(row["ingredients"]))
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(
                f"{origin}, regel {n}: verwacht JSON met 'text' en 'ingredients'"
            ) from exc
    if not items:
        raise InputError(f"{origin}: geen items")
    return items


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def evaluate_tagging(items: Sequence[EvalItem], tax: Taxonomy) -> dict[str, Any]:
    """Micro and macro precision/recall/F1, a per-ingredient table and every prediction."""
    unknown = sorted({i for it in items for i in it.gold} - set(tax.ingredient_ids))
    if unknown:
        raise TaxonomyError(
            f"ingrediënt '{unknown[0]}' uit de evaluatieset staat niet in de taxonomie"
        )
    tagger = _cached_tagger(tax)
    counts = {i: [0, 0, 0] for i in tax.ingredient_ids}  # tp, fp, fn
    predictions = []
    for it in items:
        tags = tag_text(it.text, tagger)
        pred = {t.ingredient for t in tags}
        for i in pred & it.gold:
            counts[i][0] += 1
        for i in pred - it.gold:
            counts[i][1] += 1
        for i in it.gold - pred:
            counts[i][2] += 1
        predictions.append(
            {
                "id": it.id,
                "gold": sorted(it.gold),
                "predicted": [
                    {"ingredient": t.ingredient, "score": t.score, "evidence": list(t.evidence)}
                    for t in tags
                ],
            }
        )
    tp, fp, fn = (sum(c[k] for c in counts.values()) for k in range(3))
    per = {i: {**_prf(*c), "support": c[0] + c[2]} for i, c in counts.items()}
    present = [v for i, v in per.items() if counts[i][0] + counts[i][1] + counts[i][2]]
    macro = {
        k: round(sum(v[k] for v in present) / len(present), 4) if present else 0.0
        for k in ("precision", "recall", "f1")
    }
    return {
        "items": len(items),
        "taxonomy_version": tax.version,
        "method": METHOD_VERSION,
        "micro": _prf(tp, fp, fn),
        "macro": macro,
        "per_ingredient": per,
        "predictions": predictions,
    }


# --- producer corrections -------------------------------------------------------------------
def parse_time(value: object, where: str) -> float:
    """Seconds from ``312``, ``312.5``, ``"5:12"`` or ``"1:05:12"``."""
    if isinstance(value, bool):
        raise InputError(f"{where}: ongeldige tijd {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            parts = [float(p) for p in value.strip().split(":")]
        except ValueError:
            parts = []
        if 1 <= len(parts) <= 3 and all(p >= 0 for p in parts):
            seconds = 0.0
            for p in parts:
                seconds = seconds * 60 + p
            return seconds
    raise InputError(f"{where}: ongeldige tijd {value!r} (gebruik seconden of mm:ss)")


@dataclass(frozen=True)
class Overrides:
    renames: dict[int, tuple[str | None, str | None]]  # chapter index -> (title, summary)
    moves: dict[int, float]  # chapter index -> start seconds
    fragment_tags: tuple[tuple[float, tuple[str, ...], tuple[str, ...]], ...]  # at, add, remove
    chapter_tags: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...]


def _ids(table: dict[str, Any], key: str, where: str, tax: Taxonomy) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: '{key}' moet een lijst met ingrediënt-id's zijn")
    for v in value:
        if v not in tax.ingredient_ids:
            raise InputError(f"{where}: onbekend ingrediënt '{v}' (zie taxonomy.toml)")
    return tuple(value)


def _chapter_no(table: dict[str, Any], where: str) -> int:
    n = table.get("chapter")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise InputError(f"{where}: 'chapter' moet een hoofdstuknummer zijn (1, 2, ...)")
    return n - 1


def parse_overrides(raw: dict[str, Any], tax: Taxonomy, origin: str = "episode.toml") -> Overrides:
    """Validate the ``[[chapter_overrides]]`` and ``[[tag_overrides]]`` tables."""
    renames: dict[int, tuple[str | None, str | None]] = {}
    moves: dict[int, float] = {}
    frag_tags = []
    chap_tags = []
    for key in ("chapter_overrides", "tag_overrides"):
        tables = raw.get(key, [])
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise InputError(f"{origin}: '{key}' moet een lijst van tabellen zijn ([[{key}]])")
    for n, table in enumerate(raw.get("chapter_overrides", []), start=1):
        where = f"{origin}: [[chapter_overrides]] nr. {n}"
        ci = _chapter_no(table, where)
        title, summary = table.get("title"), table.get("summary")
        for name, value in (("title", title), ("summary", summary)):
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise InputError(f"{where}: '{name}' moet tekst zijn")
        if title is not None or summary is not None:
            renames[ci] = (title.strip() if title else None, summary.strip() if summary else None)
        if "start" in table:
            if ci == 0:
                raise InputError(f"{where}: het eerste hoofdstuk begint altijd aan het begin")
            moves[ci] = parse_time(table["start"], where)
    for n, table in enumerate(raw.get("tag_overrides", []), start=1):
        where = f"{origin}: [[tag_overrides]] nr. {n}"
        add, remove = _ids(table, "add", where, tax), _ids(table, "remove", where, tax)
        if "at" in table:
            frag_tags.append((parse_time(table["at"], where), add, remove))
        elif "chapter" in table:
            chap_tags.append((_chapter_no(table, where), add, remove))
        else:
            raise InputError(f"{where}: geef 'at' (tijd van het fragment) of 'chapter'")
    return Overrides(renames, moves, tuple(frag_tags), tuple(chap_tags))


def _edit_tags(tags: tuple[Tag, ...], add: Iterable[str], remove: Iterable[str]) -> tuple[Tag, ...]:
    drop = set(remove)
    kept = [t for t in tags if t.ingredient not in drop]
    have = {t.ingredient for t in kept}
    for i in add:
        if i not in have and i not in drop:
            kept = [t for t in kept if t.ingredient != i]
            kept.insert(0, Tag(i, 1.0, ("handmatig toegevoegd",), "manual"))
            have.add(i)
    return tuple(kept)


def apply_overrides(
    chapters: Sequence[Chapter], fragments: Sequence[Fragment], ov: Overrides
) -> tuple[list[Chapter], list[Fragment]]:
    """Pure: tag corrections on fragments and chapters, summed chapter tags, renames."""
    frags = list(fragments)
    for at, add, remove in ov.fragment_tags:
        for k, f in enumerate(frags):
            last = k == len(frags) - 1
            if f.start <= at < f.end or (last and f.start <= at <= f.end + 1e-6):
                frags[k] = replace(f, tags=_edit_tags(f.tags, add, remove))
                break
    chapter_manual: dict[int, tuple[Tag, ...]] = {}
    for ci, add, remove in ov.chapter_tags:
        for k, f in enumerate(frags):
            if f.chapter == ci and remove:
                frags[k] = replace(f, tags=_edit_tags(f.tags, (), remove))
        chapter_manual[ci] = _edit_tags(chapter_manual.get(ci, ()), add, remove)
    chaps = [replace(c, tags=chapter_manual.get(c.index, ())) for c in chapters]
    chaps = chapters_with_tags(chaps, frags)
    removed = {ci: set(remove) for ci, _, remove in ov.chapter_tags}
    out = []
    for c in chaps:
        tags = tuple(t for t in c.tags if t.ingredient not in removed.get(c.index, set()))
        title, summary = ov.renames.get(c.index, (None, None))
        out.append(replace(c, tags=tags, title=title or c.title, summary=summary or c.summary))
    return out, frags


# --- the stage ------------------------------------------------------------------------------
def transcript_hash(transcript: Transcript) -> str:
    data = [[round(s.start, 3), round(s.end, 3), s.text] for s in transcript.segments]
    blob = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def _overrides_hash(raw: dict[str, Any]) -> str:
    data = {k: raw.get(k) for k in ("chapter_overrides", "tag_overrides") if raw.get(k)}
    blob = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:12]


def cache_key(transcript: Transcript, tax: Taxonomy, overrides: dict[str, Any]) -> str:
    """transcript hash + taxonomy version + method version (+ the producer's corrections)."""
    return ":".join(
        (transcript_hash(transcript), tax.version, METHOD_VERSION, _overrides_hash(overrides))
    )


def _tag_dict(t: Tag) -> dict[str, Any]:
    return {
        "ingredient": t.ingredient,
        "score": t.score,
        "evidence": list(t.evidence),
        "source": t.source,
    }


def _tag_from(d: dict[str, Any]) -> Tag:
    return Tag(
        str(d["ingredient"]),
        float(d["score"]),
        tuple(d.get("evidence", ())),
        str(d.get("source", "auto")),
    )


def tags_data(
    slug: str, key: str, chapters: Sequence[Chapter], fragments: Sequence[Fragment]
) -> dict[str, Any]:
    return {
        "slug": slug,
        "cache_key": key,
        "method": METHOD_VERSION,
        "episode_tags": [_tag_dict(t) for t in sum_tags(f.tags for f in fragments)],
        "chapters": [
            {
                "index": c.index,
                "start": round(c.start, 3),
                "end": round(c.end, 3),
                "title": c.title,
                "summary": c.summary,
                "tags": [_tag_dict(t) for t in c.tags],
            }
            for c in chapters
        ],
        "fragments": [
            {
                "index": f.index,
                "chapter": f.chapter,
                "start": round(f.start, 3),
                "end": round(f.end, 3),
                "text": f.text,
                "tags": [_tag_dict(t) for t in f.tags],
            }
            for f in fragments
        ],
    }


def _read_tags_file(ws: Workspace, slug: str) -> dict[str, Any] | None:
    path = ws.transcript_path(slug, "tags.json")
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WorkspaceError(
            f"{path}: geen geldige JSON; draai `vlinder tag {slug} --force`"
        ) from exc
    if not isinstance(data, dict):
        raise WorkspaceError(
            f"{path}: verwacht een JSON-object; draai `vlinder tag {slug} --force`"
        )
    return data


def _from_data(data: dict[str, Any], origin: str) -> tuple[list[Chapter], list[Fragment]]:
    try:
        chapters = [
            Chapter(
                int(c["index"]),
                float(c["start"]),
                float(c["end"]),
                str(c["title"]),
                str(c.get("summary", "")),
                tuple(_tag_from(t) for t in c.get("tags", ())),
            )
            for c in data["chapters"]
        ]
        fragments = [
            Fragment(
                int(f["index"]),
                float(f["start"]),
                float(f["end"]),
                str(f["text"]),
                tuple(_tag_from(t) for t in f.get("tags", ())),
                int(f.get("chapter", 0)),
            )
            for f in data["fragments"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise WorkspaceError(
            f"{origin}: onvolledig bestand ({exc}); draai `vlinder tag --force`"
        ) from exc
    return chapters, fragments


def load_fragments(ws: Workspace, slug: str) -> tuple[list[Chapter], list[Fragment]] | None:
    """The chapters and tagged fragments of an episode, or None when it is not tagged yet."""
    data = _read_tags_file(ws, slug)
    if data is None:
        return None
    return _from_data(data, str(ws.transcript_path(slug, "tags.json")))


def tag_episode(
    ws: Workspace, slug: str, *, force: bool = False
) -> tuple[list[Chapter], list[Fragment]]:
    """Segment and tag one episode (skipped when its cache key is unchanged), apply the
    producer's corrections, write ``transcripts/<slug>.tags.json`` and the catalogue rows."""
    from .db import open_catalogue
    from .episodes import load_episode
    from .transcripts import load_transcript

    ep = load_episode(ws, slug)
    transcript = load_transcript(ws, slug)
    if transcript is None:
        raise NotFoundError(
            f"aflevering '{slug}' heeft nog geen transcript (draai eerst `vlinder transcribe {slug}`)"
        )
    tax = load_taxonomy(ws)
    ov = parse_overrides(ep.overrides, tax, str(ws.episode_file(slug)))
    key = cache_key(transcript, tax, ep.overrides)
    existing = None if force else _read_tags_file_quiet(ws, slug)
    if existing is not None and existing.get("cache_key") == key:
        chapters, fragments = _from_data(existing, str(ws.transcript_path(slug, "tags.json")))
    else:
        chapters, fragments = segment_and_tag(transcript, tax, ov)
        atomic_write_text(
            ws.transcript_path(slug, "tags.json"),
            json.dumps(tags_data(slug, key, chapters, fragments), ensure_ascii=False, indent=1)
            + "\n",
        )
    with open_catalogue(ws) as cat:
        _index(cat, ep, key, chapters, fragments)
    return chapters, fragments


def _read_tags_file_quiet(ws: Workspace, slug: str) -> dict[str, Any] | None:
    try:
        return _read_tags_file(ws, slug)
    except WorkspaceError:
        return None  # a broken file is simply rebuilt


def segment_and_tag(
    transcript: Transcript, tax: Taxonomy, ov: Overrides | None = None
) -> tuple[list[Chapter], list[Fragment]]:
    """Pure: segment, tag, apply corrections, sum the chapter tags."""
    from .segment import segment

    ov = ov or Overrides({}, {}, (), ())
    chapters, fragments = segment(transcript, tax, moves=ov.moves)
    fragments = tag_fragments(fragments, tax)
    return apply_overrides(chapters, fragments, ov)


def _index(
    cat: Catalogue,
    ep: Episode,
    key: str,
    chapters: Sequence[Chapter],
    fragments: Sequence[Fragment],
) -> None:
    cat.upsert_episode(ep)
    cat.replace_fragments(ep.slug, chapters, fragments)
    cat.set_stage(ep.slug, "tag", "done", key)


def reindex_tags(ws: Workspace, cat: Catalogue, ep: Episode) -> None:
    """Reindex hook: put the chapters and fragments of ``tags.json`` back in the catalogue."""
    data = _read_tags_file_quiet(ws, ep.slug)
    if data is None:
        return
    chapters, fragments = _from_data(data, str(ws.transcript_path(ep.slug, "tags.json")))
    cat.replace_fragments(ep.slug, chapters, fragments)
    cat.set_stage(ep.slug, "tag", "done", str(data.get("cache_key", "")))


def _register_reindexer() -> None:
    try:
        from .reindex import REINDEXERS
    except ImportError:
        return
    if reindex_tags not in REINDEXERS:
        REINDEXERS.append(reindex_tags)


_register_reindexer()

__all__ = [
    "METHOD_VERSION",
    "Tagger",
    "VlinderError",
    "compile_taxonomy",
    "tag_text",
    "tag_fragments",
    "sum_tags",
    "evaluate_tagging",
    "read_tagging_jsonl",
    "tag_episode",
    "load_fragments",
    "segment_and_tag",
    "apply_overrides",
    "parse_overrides",
]
