"""The taxonomy: vlinders and their ingredients, read from ``taxonomy.toml`` in the workspace.

The taxonomy is data, not code: a producer adds a vlinder or an ingredient by editing the file.
Its :attr:`Taxonomy.version` (a hash of the parsed content, not of comments or layout) is part
of the tag stage's cache key, so a changed taxonomy re-tags what it affects.

File format (TOML)::

    [[vlinders]]
    id = "klompje-goud"                 # stable id: lower case, digits and hyphens
    title = "Het klompje goud"
    description = "..."

    [[ingredients]]
    id = "kennis-actief-delen"
    vlinder = "klompje-goud"            # the id of a vlinder above
    title = "Kennis actief delen"
    description = "..."
    phrases = ["kennis delen", "symposi*"]  # strong evidence: one match tags the fragment
    hints = ["podcast*"]                # weak evidence: counts half; two hints tag
    threshold = 1.0                     # optional, default 1.0
    examples = ["Bij een tegenvaller betaalde de aannemer mee.", ...]  # sentences as people
                                        # say it: the semantic tagger learns the meaning

    [[contexts]]                        # off-topic subjects (dike engineering, housekeeping):
    id = "dijktechniek"                 # never tagged; they guard against weak evidence
    title = "Dijktechniek"              # and help find chapter boundaries
    phrases = ["steunberm", "kruin*"]
    strict = false                      # optional: true = one single word alone never tags
    examples = ["Aan de binnenkant komt een steunberm."]  # what off-topic talk sounds like

An ingredient needs ``phrases``, ``hints`` or ``examples``: one with only a description and a
handful of examples is tagged by meaning alone (:mod:`pipeline.tagging.semantic`), no code.

Phrase syntax: words are compared on their Dutch stem with diacritics folded (``één`` = ``een``);
all words of a phrase must occur within a few words of each other, in any order. ``woord*``
matches words that begin with it (``risico*``: risicoverdeling), ``*woord`` words that end with
it (``*toernooi``: sporttoernooi).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.core.errors import TaxonomyError

DEFAULT_TAXONOMY = Path(__file__).parent / "data" / "taxonomy.toml"
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Vlinder:
    id: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class Ingredient:
    id: str
    vlinder: str
    title: str
    description: str = ""
    phrases: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    threshold: float = 1.0
    #: Sentences that say this ingredient in people's own words (the semantic tagger's
    #: training examples, with the title and description).
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    """An off-topic subject: never a tag, but evidence that a fragment is off-topic."""

    id: str
    title: str
    phrases: tuple[str, ...] = ()
    #: Strict: next to this subject even one single-word phrase alone does not tag (small talk,
    #: housekeeping); otherwise only hints alone are ignored (engineering, planning).
    strict: bool = False
    #: Sentences of this off-topic kind: the semantic tagger learns what is *not* an ingredient.
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    vlinders: tuple[Vlinder, ...]
    ingredients: tuple[Ingredient, ...]
    contexts: tuple[Context, ...] = ()
    version: str = ""

    def ingredient(self, ingredient_id: str) -> Ingredient:
        for ing in self.ingredients:
            if ing.id == ingredient_id:
                return ing
        raise TaxonomyError(f"onbekend ingrediënt '{ingredient_id}' in de taxonomie")

    def vlinder(self, vlinder_id: str) -> Vlinder:
        for v in self.vlinders:
            if v.id == vlinder_id:
                return v
        raise TaxonomyError(f"onbekende vlinder '{vlinder_id}' in de taxonomie")

    @property
    def ingredient_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.ingredients)

    def ingredients_of(self, vlinder_id: str) -> tuple[Ingredient, ...]:
        return tuple(i for i in self.ingredients if i.vlinder == vlinder_id)


def _str(table: dict[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key)
    if value is None:
        if required:
            raise TaxonomyError(f"{where}: verplicht veld '{key}' ontbreekt")
        return ""
    if not isinstance(value, str):
        raise TaxonomyError(f"{where}: '{key}' moet tekst zijn")
    return value.strip()


def _phrases(table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise TaxonomyError(f"{where}: '{key}' moet een lijst met teksten zijn")
    out = tuple(p.strip() for p in value if p.strip())
    for p in out:
        if not re.search(r"[0-9A-Za-zÀ-ÿ]", p):
            raise TaxonomyError(f"{where}: lege frase '{p}' in '{key}'")
    return out


def _id(table: dict[str, Any], where: str, seen: set[str]) -> str:
    ident = _str(table, "id", where)
    if not _ID.match(ident):
        raise TaxonomyError(
            f"{where}: ongeldige id '{ident}' (alleen kleine letters, cijfers en streepjes)"
        )
    if ident in seen:
        raise TaxonomyError(f"{where}: id '{ident}' komt dubbel voor")
    seen.add(ident)
    return ident


def _tables(data: dict[str, Any], key: str, origin: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise TaxonomyError(f"{origin}: '{key}' moet een lijst van tabellen zijn ([[{key}]])")
    return value


def parse_taxonomy(text: str, origin: str = "taxonomy.toml") -> Taxonomy:
    """Parse and validate taxonomy TOML; a problem raises :class:`TaxonomyError` naming it."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{origin}: geen geldige TOML ({exc})") from exc
    unknown = set(data) - {"vlinders", "ingredients", "contexts", "format"}
    if unknown:
        raise TaxonomyError(f"{origin}: onbekende sectie '{sorted(unknown)[0]}'")
    seen: set[str] = set()
    vlinders = []
    for n, table in enumerate(_tables(data, "vlinders", origin), start=1):
        where = f"{origin}: vlinder {table.get('id', n)}"
        vlinders.append(
            Vlinder(
                id=_id(table, where, seen),
                title=_str(table, "title", where),
                description=_str(table, "description", where, required=False),
            )
        )
    if not vlinders:
        raise TaxonomyError(f"{origin}: geen enkele vlinder ([[vlinders]])")
    vlinder_ids = {v.id for v in vlinders}
    ingredients = []
    for n, table in enumerate(_tables(data, "ingredients", origin), start=1):
        where = f"{origin}: ingrediënt {table.get('id', n)}"
        ident = _id(table, where, seen)
        vlinder = _str(table, "vlinder", where)
        if vlinder not in vlinder_ids:
            raise TaxonomyError(f"{where}: verwijst naar onbekende vlinder '{vlinder}'")
        threshold = table.get("threshold", 1.0)
        if not isinstance(threshold, int | float) or isinstance(threshold, bool) or threshold <= 0:
            raise TaxonomyError(f"{where}: 'threshold' moet een positief getal zijn")
        phrases = _phrases(table, "phrases", where)
        hints = _phrases(table, "hints", where)
        examples = _phrases(table, "examples", where)
        if not phrases and not hints and not examples:
            raise TaxonomyError(
                f"{where}: geen 'phrases', 'hints' of 'examples' om op te herkennen"
            )
        ingredients.append(
            Ingredient(
                id=ident,
                vlinder=vlinder,
                title=_str(table, "title", where),
                description=_str(table, "description", where, required=False),
                phrases=phrases,
                hints=hints,
                threshold=float(threshold),
                examples=examples,
            )
        )
    if not ingredients:
        raise TaxonomyError(f"{origin}: geen enkel ingrediënt ([[ingredients]])")
    contexts = []
    for n, table in enumerate(_tables(data, "contexts", origin), start=1):
        where = f"{origin}: context {table.get('id', n)}"
        strict = table.get("strict", False)
        if not isinstance(strict, bool):
            raise TaxonomyError(f"{where}: 'strict' moet true of false zijn")
        contexts.append(
            Context(
                id=_id(table, where, seen),
                title=_str(table, "title", where),
                phrases=_phrases(table, "phrases", where),
                strict=strict,
                examples=_phrases(table, "examples", where),
            )
        )
    tax = Taxonomy(tuple(vlinders), tuple(ingredients), tuple(contexts))
    return Taxonomy(tax.vlinders, tax.ingredients, tax.contexts, version=taxonomy_version(tax))


def taxonomy_version(tax: Taxonomy) -> str:
    """A short hash of what the taggers use (ids, titles, descriptions, phrases, thresholds,
    examples), not of comments or layout."""
    payload = {
        "vlinders": [[v.id, v.title] for v in tax.vlinders],
        "ingredients": [
            [i.id, i.vlinder, list(i.phrases), list(i.hints), i.threshold]
            + [i.title, i.description, list(i.examples)]
            for i in tax.ingredients
        ],
        "contexts": [
            [c.id, list(c.phrases), *(["strict"] if c.strict else []), c.title, list(c.examples)]
            for c in tax.contexts
        ],
    }
    blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def load_taxonomy_file(path: Path) -> Taxonomy:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise TaxonomyError(f"taxonomiebestand {path} bestaat niet") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise TaxonomyError(f"taxonomiebestand {path} is niet leesbaar ({exc})") from exc
    return parse_taxonomy(text, str(path))


def load_taxonomy(ws: Any | None = None) -> Taxonomy:
    """The workspace's ``taxonomy.toml``, or the bundled default when the workspace has none."""
    if ws is not None and ws.taxonomy_path.exists():
        return load_taxonomy_file(ws.taxonomy_path)
    return load_taxonomy_file(DEFAULT_TAXONOMY)
