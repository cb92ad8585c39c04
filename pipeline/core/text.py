"""Dutch text analysis shared by tagging and search: folding, tokens, stems; and
:func:`clean_text`, the one cleaning of text from users (forms, CLI options, episode.toml,
imported transcripts, and again where XML is written).

Stages may build on these (compound splitting, synonyms) in their own modules.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# C0 control characters except tab and newline, the non-characters U+FFFE/U+FFFF and lone
# surrogates (a str can hold them; UTF-8 and XML cannot). CR is first turned into a newline.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text from a user, safe to store and to put in XML: line breaks made ``\\n`` (CRLF and a
    lone CR), then C0 control characters other than tab and newline, U+FFFE/U+FFFF and lone
    surrogates removed. ``'Word\\x0btekst'`` -> ``'Wordtekst'``."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub("", text)


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
