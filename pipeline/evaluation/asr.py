"""Word error rate with a documented Dutch text normalisation.

Both the reference and the hypothesis go through :func:`normalise` before they are compared:

1. Unicode NFKC, lower case.
2. Diacritics are folded (``één`` -> ``een``, ``ideeën`` -> ``ideeen``, ``café`` -> ``cafe``):
   Whisper writes stress accents (``één``, ``wél``) inconsistently, and a missing accent is not
   a recognition error worth counting. The same folding as search (:func:`pipeline.core.text.fold`).
3. Numbers become Dutch words, one token per number, written together as Dutch does
   (``25`` -> ``vijfentwintig``, ``2025`` -> ``tweeduizendvijfentwintig``); thousands separators
   are dropped (``1.500`` -> ``duizendvijfhonderd``), a decimal comma is read out (``3,5`` -> ``drie komma vijf``), ``%`` -> ``procent``, ``€`` -> ``euro``, ordinals
   ``1e``/``2de``/``20ste`` -> ``eerste``/``tweede``/``twintigste``.
4. Apostrophes inside words are removed (``risico's`` -> ``risicos``, ``'s avonds`` ->
   ``s avonds``); hyphens and slashes split words (``Heuff-terrein`` -> ``heuff terrein``);
   all other punctuation is removed.
5. Words are the runs of letters and digits left, split on white space.

WER = (substitutions + deletions + insertions) / number of reference words, by Levenshtein
distance over words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

_UNITS = [
    "nul",
    "een",
    "twee",
    "drie",
    "vier",
    "vijf",
    "zes",
    "zeven",
    "acht",
    "negen",
    "tien",
    "elf",
    "twaalf",
    "dertien",
    "veertien",
    "vijftien",
    "zestien",
    "zeventien",
    "achttien",
    "negentien",
]
_TENS = [
    "_",
    "_",
    "twintig",
    "dertig",
    "veertig",
    "vijftig",
    "zestig",
    "zeventig",
    "tachtig",
    "negentig",
]


def number_words(n: int) -> str:
    """A whole number in Dutch words, without diacritics: ``23`` -> ``drieentwintig``."""
    if n < 0:
        return "min" + number_words(-n)
    if n < 20:
        return _UNITS[n]
    if n < 100:
        tens, unit = divmod(n, 10)
        return (_UNITS[unit] + "en" if unit else "") + _TENS[tens]
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        head = "honderd" if hundreds == 1 else _UNITS[hundreds] + "honderd"
        return head + (number_words(rest) if rest else "")
    if n < 1_000_000:
        thousands, rest = divmod(n, 1000)
        head = "duizend" if thousands == 1 else number_words(thousands) + "duizend"
        return head + (number_words(rest) if rest else "")
    for size, name in ((10**9, "miljard"), (10**6, "miljoen")):
        if n >= size:
            big, rest = divmod(n, size)
            return number_words(big) + name + (number_words(rest) if rest else "")
    raise AssertionError("unreachable")


def ordinal_words(n: int) -> str:
    """``1`` -> ``eerste``, ``3`` -> ``derde``, ``8`` -> ``achtste``, ``20`` -> ``twintigste``."""
    special = {1: "eerste", 3: "derde", 8: "achtste"}
    if n in special:
        return special[n]
    if n < 20:
        return number_words(n) + "de"
    last = n % 100
    if last in special and n > 100:
        return number_words(n - last) + special[last]
    if 0 < last < 20 and n > 100:
        return number_words(n - last) + ordinal_words(last)
    return number_words(n) + "ste"


_THOUSANDS = re.compile(r"(?<![\d,.])(\d{1,3}(?:\.\d{3})+)(?![\d.,]\d)")
_ORDINAL = re.compile(r"\b(\d+)(?:e|de|ste)\b")
_DECIMAL = re.compile(r"(\d+),(\d+)")
_INTEGER = re.compile(r"\d+")


def _fold(text: str) -> str:
    norm = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).lower())
    return "".join(c for c in norm if not unicodedata.combining(c))


def normalise(text: str) -> list[str]:
    """The word tokens of ``text`` after the Dutch normalisation described above."""
    text = _fold(text)
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'")
    text = _THOUSANDS.sub(lambda m: m.group(1).replace(".", ""), text)
    text = text.replace("%", " procent ").replace("€", " euro ")
    text = _ORDINAL.sub(lambda m: ordinal_words(int(m.group(1))), text)
    text = _DECIMAL.sub(lambda m: f"{m.group(1)} komma {m.group(2)}", text)
    text = _INTEGER.sub(lambda m: " " + number_words(int(m.group(0))) + " ", text)
    text = re.sub(r"(?<=\w)'(?=\w)", "", text)
    text = re.sub(r"[^\w\s]|_", " ", text)
    return text.split()


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance over words (row by row, vectorised with numpy)."""
    if not ref:
        return len(hyp)
    if not hyp:
        return len(ref)
    vocab: dict[str, int] = {}
    r = np.array([vocab.setdefault(w, len(vocab)) for w in ref])
    h = np.array([vocab.setdefault(w, len(vocab)) for w in hyp])
    prev = np.arange(len(h) + 1)
    steps = np.arange(len(h) + 1)
    for i, word in enumerate(r, start=1):
        cur = np.empty_like(prev)
        cur[0] = i
        # substitution / match and deletion
        cur[1:] = np.minimum(prev[:-1] + (h != word), prev[1:] + 1)
        # insertion: cur[j] = min_k<=j (cur[k] + j - k)
        cur = np.minimum.accumulate(cur - steps) + steps
        prev = cur
    return int(prev[-1])


@dataclass(frozen=True)
class WerResult:
    wer: float
    errors: int
    reference_words: int
    hypothesis_words: int


def word_error_rate(reference: str, hypothesis: str) -> WerResult:
    ref, hyp = normalise(reference), normalise(hypothesis)
    errors = edit_distance(ref, hyp)
    wer = errors / len(ref) if ref else float(bool(hyp))
    return WerResult(round(wer, 4), errors, len(ref), len(hyp))
