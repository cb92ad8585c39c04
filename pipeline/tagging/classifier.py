"""Pure functions of the semantic tagger: text windows and features of raw transcripts, and a
small numpy classifier (multinomial logistic regression) trained at load time.

Raw automatic transcripts come lower case and without punctuation; written lines come with
both. Both map onto the same features: content stems are case- and punctuation-free, and the
classifier also learns every example in the raw form (:func:`normalise`).

Training is deterministic (zero start, full-batch gradient descent with Nesterov momentum), so
the same taxonomy always gives the same classifier and the same tags.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.core.text import stem, tokens

#: Function words and fillers of spoken Dutch: they carry no subject, so they are no features.
_STOPWORDS_TEXT = """
    aan al alle alles als allebei ben bij daar daarom dan dat de den der deze die dit doen door
    dus een eens eh en er even ge geen gewoon had hadden heb hebben heeft hem hen het hier hij
    hoe hun iemand iets ik in is ja je jij jou jouw jullie kan kon konden kunnen maar me meer
    men met mij mijn moet moeten na naar niet niets nog nou nu of om omdat ons onze ook op over
    te tegen toch toen tot u uh uit van veel voor want waren was wat we wel werd wie wij wordt
    worden zal ze zei zelf zich zij zijn zo zoals zou zouden zeg maar eigenlijk echt heel best
    natuurlijk hoor nee oke okay ok da dr zn z'n m'n werden geweest
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


# --- text -----------------------------------------------------------------------------------
def normalise(text: str) -> str:
    """Lower case, no punctuation, single spaces: the shape of a raw automatic transcript."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"[^\w' ]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


_SENTENCE_END = re.compile(r"[.!?;:…][\"')]*$")


def windows(text: str, max_words: int = 30) -> list[str]:
    """The text cut at sentence ends into about equal windows of at most ~``max_words`` words.

    The number of windows is ``ceil(words / max_words)``; each cut is the sentence end nearest
    to an equal share (an unpunctuated raw transcript is cut between words). A text of at most
    ``max_words`` words is one window, so short fragments are scored as a whole.
    """
    words = text.split()
    n = -(-len(words) // max_words)
    if n <= 1:
        return [text.strip()]
    ends = [i + 1 for i, w in enumerate(words[:-1]) if _SENTENCE_END.search(w)]
    cuts = []
    for k in range(1, n):
        target = round(k * len(words) / n)
        near = [e for e in ends if abs(e - target) <= max_words // 3 and e not in cuts]
        cuts.append(min(near, key=lambda e: abs(e - target)) if near else target)
    bounds = [0, *sorted(set(cuts)), len(words)]
    return [" ".join(words[a:b]) for a, b in itertools.pairwise(bounds) if b > a]


def content_stems(text: str) -> list[str]:
    """Snowball stems of the content words (diacritics folded, stop words and digits left out)."""
    return [stem(t) for t in tokens(text) if t not in STOPWORDS and not t.isdigit() and len(t) > 1]


# --- features -------------------------------------------------------------------------------
@dataclass(frozen=True)
class StemVocabulary:
    """Binary bag of content stems with idf weights, rows of unit length."""

    index: dict[str, int]
    idf: np.ndarray  # float32, one weight per stem

    @property
    def size(self) -> int:
        return len(self.index)


def fit_vocabulary(texts: Sequence[str]) -> StemVocabulary:
    """The stems of ``texts`` (the training examples) with smoothed idf weights."""
    counts: dict[str, int] = {}
    for text in texts:
        for s in set(content_stems(text)):
            counts[s] = counts.get(s, 0) + 1
    kept = sorted(counts)
    n = len(texts)
    idf = np.array([math.log((1 + n) / (1 + counts[s])) + 1.0 for s in kept], dtype=np.float32)
    return StemVocabulary({s: k for k, s in enumerate(kept)}, idf)


def bag_of_stems(texts: Iterable[str], vocab: StemVocabulary) -> np.ndarray:
    """One row per text: idf weights of the vocabulary stems it contains, unit length."""
    texts = list(texts)
    out = np.zeros((len(texts), vocab.size), dtype=np.float32)
    for r, text in enumerate(texts):
        for s in content_stems(text):
            k = vocab.index.get(s)
            if k is not None:
                out[r, k] = vocab.idf[k]
    return unit_rows(out)


def unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(norms > 0, norms, 1.0)).astype(np.float32, copy=False)


def features(
    embeddings: np.ndarray, texts: Sequence[str], vocab: StemVocabulary, stem_weight: float
) -> np.ndarray:
    """[unit embedding | stem_weight * stem bag] per text."""
    bag = bag_of_stems(texts, vocab) * np.float32(stem_weight)
    return np.hstack([unit_rows(embeddings), bag])


# --- the classifier -------------------------------------------------------------------------
@dataclass(frozen=True)
class Softmax:
    weights: np.ndarray  # (features, classes) float32
    bias: np.ndarray  # (classes,) float32

    def proba(self, x: np.ndarray) -> np.ndarray:
        return softmax_rows(x @ self.weights + self.bias)


def softmax_rows(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, numerically stable."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def train_softmax(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    *,
    c: float = 100.0,
    iters: int = 200,
    lr: float = 4.0,
    momentum: float = 0.9,
) -> Softmax:
    """Multinomial logistic regression with L2 penalty ``1 / (c * n)`` on the weights."""
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError("x must be (n, d) with one label per row")
    if len(y) and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError("labels must lie in [0, n_classes)")
    x = x.astype(np.float32, copy=False)
    n, d = x.shape
    onehot = np.eye(n_classes, dtype=np.float32)[y]
    w = np.zeros((d, n_classes), dtype=np.float32)
    b = np.zeros(n_classes, dtype=np.float32)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    decay = np.float32(1.0 / (c * max(n, 1)))
    step, mom = np.float32(lr), np.float32(momentum)
    for _ in range(iters):
        lw, lb = w + mom * vw, b + mom * vb  # Nesterov: the gradient at the look-ahead point
        g = (softmax_rows(x @ lw + lb) - onehot) / np.float32(max(n, 1))
        vw = mom * vw - step * (x.T @ g + decay * lw)
        vb = mom * vb - step * g.sum(axis=0)
        w += vw
        b += vb
    return Softmax(w, b)


__all__ = [
    "STOPWORDS",
    "Softmax",
    "StemVocabulary",
    "bag_of_stems",
    "content_stems",
    "features",
    "fit_vocabulary",
    "normalise",
    "softmax_rows",
    "train_softmax",
    "unit_rows",
    "windows",
]
