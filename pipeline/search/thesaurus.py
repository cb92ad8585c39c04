"""The thesaurus: groups of related words and phrases (data in ``data/thesaurus.toml``):
``moed`` ~ ``lef``, ``durven``; ``samen eten`` ~ ``lunch``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.core.text import fold

from .words import irregular_forms, stopwords, thesaurus_data, words


@dataclass(frozen=True)
class Thesaurus:
    """Groups of related terms (each a tuple of key sequences), stopwords, irregular forms."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]
    stopwords: frozenset[str]
    forms: dict[str, str] = field(default_factory=dict, compare=False)
    # key sequence -> indices of the groups it belongs to
    index: dict[tuple[str, ...], tuple[int, ...]] = field(default_factory=dict, compare=False)

    def related(self, phrase: tuple[str, ...]) -> list[tuple[str, ...]]:
        """The other members of every group that ``phrase`` (a key sequence) is in."""
        out: list[tuple[str, ...]] = []
        for g in self.index.get(phrase, ()):
            out.extend(m for m in self.groups[g] if m != phrase and m not in out)
        return out

    @property
    def max_phrase(self) -> int:
        return max((len(p) for p in self.index), default=1)


def build_thesaurus(key: Callable[[str], str]) -> Thesaurus:
    """The thesaurus with its terms as search keys (``key`` maps a word form to its key)."""
    data = thesaurus_data()
    stop = stopwords()
    # keys that stand for a stopword (eenheid -> een, kans -> kan): no use as a related term
    stop_keys = stop | {key(w) for w in stop}
    groups: list[tuple[tuple[str, ...], ...]] = []
    index: dict[tuple[str, ...], list[int]] = {}
    for entry in data.get("related", []):
        members: list[tuple[str, ...]] = []
        lookups: list[tuple[str, ...]] = []
        for term in entry.get("terms", []):
            ws = words(term)
            full = tuple(key(w) for w in ws)
            kept = tuple(key(w) for w in ws if fold(w) not in stop)
            # "samen eten": both; "alles delen", "wij-zij": only whole (else it means "delen")
            phrase = kept if len(kept) >= 2 else full
            if not phrase or (len(phrase) == 1 and phrase[0] in stop_keys):
                continue
            if phrase not in members:
                members.append(phrase)
            lookups.extend(f for f in {phrase, full} if f not in lookups)
        if len(members) < 2:
            continue
        for m in lookups:
            index.setdefault(m, []).append(len(groups))
        groups.append(tuple(members))
    return Thesaurus(
        groups=tuple(groups),
        stopwords=stop,
        forms=irregular_forms(),
        index={k: tuple(v) for k, v in index.items()},
    )


def thesaurus_words() -> set[str]:
    """The words whose analysis compiling the thesaurus needs."""
    data = thesaurus_data()
    out = set(stopwords())
    for entry in data.get("related", []):
        for term in entry.get("terms", []):
            out.update(words(term))
    return out
