"""A light Dutch noun-phrase chunker for chapter titles (no model: word lists and lemmas).

Pattern, inside one clause (punctuation ends a phrase)::

    NP   = [DET] ADJ* NOUN
    PHRASE = NP [(PREP [DET] ADJ* NOUN) | ("en" [DET] ADJ* NOUN)]

DET are articles, demonstratives and possessives; ADJ an inflected adjective, participle or
ordinal in front of another word (:func:`.lexicon_words.is_adjective_like`); NOUN any other
content word that is no verb form (:func:`.lexicon_words.is_verb_form`). Without a
determiner a phrase must open with an adjective or be a plural noun, so that loose verbs and
adverbs do not start one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .lexicon_words import (
    FUNCTION_WORDS,
    fold,
    is_adjective_like,
    is_infinitive,
    is_name_like,
    is_noun_like,
    lemma,
    zipf,
)

#: Determiners that open a noun phrase, with the article a title uses in their place
#: ("" = drop it). Demonstratives become the matching article: "deze dijk" -> "de dijk".
DETERMINERS: dict[str, str] = {
    "de": "de", "het": "het", "een": "een", "deze": "de", "die": "de", "dit": "het",
    "dat": "het", "onze": "onze", "ons": "ons", "elke": "", "iedere": "", "alle": "",
    "veel": "", "twee": "twee", "drie": "drie", "vier": "vier", "vijf": "vijf", "geen": "",
    "beide": "", "welke": "", "zo'n": "", "mijn": "mijn", "jullie": "", "hun": "",
}  # fmt: skip

#: Prepositions that may join a second noun phrase to the first: "de frietkar op vrijdag".
_PREPOSITIONS_TEXT = """
    van op in met voor bij over zonder tussen tegen uit onder na tijdens langs rond binnen
    buiten achter aan door naar
"""
PREPOSITIONS = frozenset(_PREPOSITIONS_TEXT.split())

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*|\d+|[^\w\s]", re.UNICODE)
_BREAK = frozenset('.,;:!?()[]{}"“”„…–—/')


@dataclass(frozen=True)
class Token:
    text: str  # as written
    key: str  # folded, lower case
    start: bool  # first word of a sentence
    brk: bool = False  # punctuation: ends any phrase


@dataclass(frozen=True)
class Phrase:
    """A candidate title phrase: its words as a title shows them, and for scoring the lemmas
    of its content words (``head`` last) and which words are names."""

    words: tuple[str, ...]
    content: tuple[str, ...]  # folded lemmas of the content words, head noun last
    names: tuple[bool, ...]  # per word of ``words``: a name (keeps its capital)
    heads: tuple[str, ...]  # the head noun (folded lemma) of each joined noun phrase
    head_words: tuple[str, ...] = ()  # the same, folded as written

    @property
    def text(self) -> str:
        return " ".join(self.words)


def tokenize(sentence: str) -> list[Token]:
    """Words and punctuation of a sentence, in order."""
    return list(_tokenize(sentence))


@lru_cache(maxsize=20_000)
def _tokenize(sentence: str) -> tuple[Token, ...]:
    out: list[Token] = []
    first = True
    for m in _WORD.finditer(sentence.replace("’", "'")):
        t = m.group(0)
        if t in _BREAK or not (t[0].isalnum()):
            out.append(Token(t, t, False, brk=True))
            first = first or t in ".!?…"
            continue
        out.append(Token(t, fold(t), first))
        first = False
    return tuple(out)


def _content(tok: Token) -> bool:
    return (
        not tok.brk
        and tok.key.replace("'", "").isalpha()
        and len(tok.key) > 2
        and tok.key not in FUNCTION_WORDS
        and tok.key not in DETERMINERS
        and tok.key not in PREPOSITIONS
    )


@dataclass(frozen=True)
class _NP:
    det: str  # article for the title ("" = none)
    words: tuple[Token, ...]  # modifiers then head
    end: int  # index after the last token


def _noun_phrase(toks: Sequence[Token], i: int, need_det: bool) -> _NP | None:
    """The noun phrase starting at ``toks[i]`` (a determiner or its first content word)."""
    det = ""
    if i < len(toks) and toks[i].key in DETERMINERS and not toks[i].brk:
        det = DETERMINERS[toks[i].key]
        i += 1
    elif need_det:
        return None
    words: list[Token] = []
    while i < len(toks) and _content(toks[i]) and len(words) < 4:
        tok = toks[i]
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if is_adjective_like(tok.key) and nxt is not None and _content(nxt):
            words.append(tok)
            i += 1
            continue
        if not is_noun_like(tok.key) or (det == "een" and _plural(tok.key)):
            return None  # "een muizen": a misheard article or noun
        words.append(tok)
        return _NP(det, tuple(words), i + 1)
    return None


def _plural(word: str) -> bool:
    base = fold(lemma(word))
    return base != word and word.endswith(("en", "s")) and word.startswith(base[:3])


def _bare_start(toks: Sequence[Token], i: int) -> bool:
    """Without a determiner a phrase opens with an adjective (after a word that is not a
    content word), or with a noun at the start of a clause, after "en" or after a preposition
    ("te trekken", "is donker" are no noun phrases)."""
    tok = toks[i]
    prev = toks[i - 1] if i > 0 else None
    if not _content(tok) or (prev is not None and (_content(prev) or prev.key == "te")):
        return False
    if is_adjective_like(tok.key):
        return True
    if not is_noun_like(tok.key) or (tok.key.endswith("en") and is_infinitive(tok.key)):
        return False
    if not _plural(tok.key) and zipf(tok.key) >= 4.5:
        return False  # a frequent bare word is mostly an adjective or adverb: "kort", "goed"
    return prev is None or prev.brk or prev.key in PREPOSITIONS or prev.key == "en"


def _phrase(det: str, nps: Sequence[_NP], joins: Sequence[str]) -> Phrase:
    words: list[str] = []
    names: list[bool] = []
    content: list[str] = []
    heads: list[str] = []
    head_words: list[str] = []
    for n, np_ in enumerate(nps):
        if n:
            words.append(joins[n - 1])
            names.append(False)
        art = det if n == 0 else np_.det
        if art:
            words.append(art)
            names.append(False)
        for tok in np_.words:
            words.append(tok.text)
            names.append(is_name_like(tok.text, tok.start))
            content.append(fold(lemma(tok.key)).replace("_", ""))
        heads.append(fold(lemma(np_.words[-1].key)).replace("_", ""))
        head_words.append(np_.words[-1].key)
    return Phrase(tuple(words), tuple(content), tuple(names), tuple(heads), tuple(head_words))


def phrases(sentence: str) -> list[Phrase]:
    """Candidate title phrases of one sentence: every noun phrase, alone and with the noun
    phrase joined to it by a preposition or "en"."""
    toks = tokenize(sentence)
    out: list[Phrase] = []
    i = 0
    while i < len(toks):
        np_ = _noun_phrase(toks, i, need_det=True)
        if np_ is None and _bare_start(toks, i):
            np_ = _noun_phrase(toks, i, need_det=False)
        if np_ is None:
            i += 1
            continue
        out.append(_phrase(np_.det, [np_], []))
        j = np_.end
        if j < len(toks) and (toks[j].key in PREPOSITIONS or toks[j].key == "en"):
            second = _noun_phrase(toks, j + 1, need_det=False)
            if second is not None:
                out.append(_phrase(np_.det, [np_, second], [toks[j].key]))
        i = np_.end
    return out
