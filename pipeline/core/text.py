"""Dutch text analysis shared by tagging and search: folding, tokens, stems.

Stages may build on these (compound splitting, synonyms) in their own modules.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

_TOKEN = re.compile(r"[0-9a-z]+(?:'[a-z]+)?")
_stemmer = Stemmer.Stemmer("dutch")


def fold(text: str) -> str:
    """Lower case without diacritics: ``'Één ingrediënt'`` -> ``'een ingredient'``."""
    norm = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in norm if not unicodedata.combining(c))


def tokens(text: str) -> list[str]:
    """Folded word tokens; hyphens and slashes split words (``wij-zij`` -> ``wij``, ``zij``)."""
    folded = fold(text).replace("’", "'").replace("‘", "'")
    return [t.replace("'", "") for t in _TOKEN.findall(folded)]


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball Dutch stem of one folded token."""
    return _stemmer.stemWord(word)


def stems(text: str) -> list[str]:
    return [stem(t) for t in tokens(text)]


def sentences(text: str) -> list[str]:
    """Split text into sentences on . ! ? followed by white space and a capital or digit."""
    parts = re.split(r"(?<=[.!?…])\s+(?=[\"'‘“(]?[A-ZÀ-Ý0-9])", text.strip())
    return [p.strip() for p in parts if p.strip()]
