"""The semantic tagger: recognise an ingredient by meaning, with the lexical evidence as a
strong signal (method ``semantic-1``; measurements in ``docs/evaluation.md``).

1. Features of a text: its sentence embedding (multilingual USE, :mod:`.encoder`) next to a
   bag of content stems (idf-weighted, unit length). The embedding carries the meaning of a
   paraphrase; the stems carry the project's own words and survive misheard names.
2. A multinomial logistic regression (:mod:`.classifier`) over those features, trained when
   the tagger is loaded on the taxonomy's ``examples``: one class per ingredient (its
   examples, title and description) and one per off-topic ``[[contexts]]`` entry (its
   examples). No code per ingredient: a new ingredient with a description and a handful of
   examples is a new class.
3. A fragment is cut at sentence ends into windows of at most ~30 words; per ingredient the
   best window counts (a 15-60 s fragment often mixes a lesson with engineering talk).
4. Decision (:func:`decide`): tag on meaning alone when the probability reaches ``threshold``
   and the closest example of that ingredient is at least ``min_similarity`` close (an
   open-set guard: speech far from every example is not tagged, however the probabilities
   fall); or keep a lexical tag (:mod:`.lexicon`) when the meaning supports it
   (``support``, ``lexical_similarity``): a trigger word in another sense ("lef" in a
   football story) gets no support.
5. Score: the noisy-or of the probability and the lexical score. Evidence: the example (or the
   description) closest to the text with its cosine, the probability, and the phrases that
   matched, so the producer sees why.

The compiled state (example embeddings, vocabulary, weights) is cached as
``semantic-<key>.npz`` next to the encoder's ready files in the models folder (the
workspace's ``.vlinder/cache/models``, or ``$VLINDER_MODELS_DIR`` shared by several
workspaces), keyed on the method, the encoder, the options and the taxonomy's version; a
missing or broken file is rebuilt. A process loads the encoder once and each taxonomy once.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.core.models import Fragment, Tag
from pipeline.core.taxonomy import Taxonomy
from pipeline.transcribe.weights.models import models_dir

from . import lexicon
from .classifier import (
    Softmax,
    StemVocabulary,
    features,
    fit_vocabulary,
    normalise,
    train_softmax,
    unit_rows,
    windows,
)
from .encoder import Encoder, package_version, save_arrays, shared_encoder

#: Bump when the method changes: every episode is re-tagged (see :func:`method_version`).
METHOD_VERSION = "semantic-1"


def method_version() -> str:
    """The method part of the tag cache key: this method, the lexical one and the encoder."""
    return f"{METHOD_VERSION}+{lexicon.METHOD_VERSION}+use-m3-{package_version()}"


@dataclass(frozen=True)
class Options:
    stem_weight: float = 1.0  # weight of the stem bag next to the unit-length embedding
    c: float = 100.0  # inverse L2 penalty of the classifier
    iters: int = 200  # gradient steps at load time
    threshold: float = 0.3  # probability that tags on meaning alone
    support: float = 0.22  # probability that a lexical tag needs to be kept
    min_similarity: float = 0.35  # a tag on meaning alone needs an example at least this close
    lexical_similarity: float = 0.25  # a lexical tag needs an example at least this close
    window_words: int = 30  # a fragment is scored per window of whole sentences
    augment: bool = True  # also learn the raw-transcript form (lower case, no punctuation)


@dataclass(frozen=True)
class Compiled:
    """What a taxonomy compiles to; saved in and read from the cache."""

    classes: tuple[str, ...]  # ingredient ids first, then context ids
    vocab: StemVocabulary
    model: Softmax
    texts: tuple[str, ...]  # the training texts (for evidence)
    owners: np.ndarray  # class index per training text
    embeddings: np.ndarray  # unit embeddings of the training texts (n, dim)


def training_texts(tax: Taxonomy) -> tuple[tuple[str, ...], list[str], list[int]]:
    """The classes and their (text, class) pairs, in taxonomy order: an ingredient learns
    from its examples, title and description, a context from its examples."""
    classes = (*tax.ingredient_ids, *(c.id for c in tax.contexts))
    texts: list[str] = []
    owners: list[int] = []
    for k, ing in enumerate(tax.ingredients):
        for text in (*ing.examples, ing.title, ing.description):
            if text:
                texts.append(text)
                owners.append(k)
    for k, ctx in enumerate(tax.contexts, start=len(tax.ingredients)):
        for text in ctx.examples:
            texts.append(text)
            owners.append(k)
    return classes, texts, owners


def compile_semantic(tax: Taxonomy, encoder: Encoder, options: Options) -> Compiled:
    """Embed the examples and train the classifier (no cache)."""
    classes, texts, owners = training_texts(tax)
    texts_all, owners_all = texts, owners
    if options.augment and encoder.dim:
        texts_all, owners_all = texts + [normalise(t) for t in texts], owners + owners
    vocab = fit_vocabulary(texts)
    emb = encoder.encode_remembered(texts_all)
    x = features(emb, texts_all, vocab, options.stem_weight)
    y = np.array(owners_all, dtype=np.int64)
    model = train_softmax(x, y, len(classes), c=options.c, iters=options.iters)
    n = len(texts)
    return Compiled(classes, vocab, model, tuple(texts), np.array(owners), unit_rows(emb[:n]))


def compiled_key(tax: Taxonomy, encoder: Encoder, options: Options) -> str:
    """Method version, encoder, options and taxonomy version: the compiled state's key."""
    blob = json.dumps([METHOD_VERSION, encoder.name, asdict(options), tax.version], sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]


def _save(path: Path, comp: Compiled) -> None:
    stems = sorted(comp.vocab.index, key=comp.vocab.index.__getitem__)
    arrays = {
        "classes": np.array(comp.classes),
        "stems": np.array(stems),
        "idf": comp.vocab.idf,
        "weights": comp.model.weights,
        "bias": comp.model.bias,
        "texts": np.array(comp.texts),
        "owners": comp.owners,
        "embeddings": comp.embeddings,
    }
    save_arrays(path, arrays)


def _load(path: Path, classes: tuple[str, ...]) -> Compiled | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            stems = [str(s) for s in z["stems"]]
            comp = Compiled(
                tuple(str(c) for c in z["classes"]),
                StemVocabulary({s: k for k, s in enumerate(stems)}, z["idf"]),
                Softmax(z["weights"], z["bias"]),
                tuple(str(t) for t in z["texts"]),
                z["owners"],
                z["embeddings"],
            )
    except (OSError, KeyError, ValueError, EOFError):
        return None  # a missing or broken cache file is simply rebuilt
    if comp.classes != classes or comp.model.weights.shape[1] != len(classes):
        return None
    return comp


def decide(prob: float, similarity: float, lexical_hit: bool, options: Options) -> bool:
    """Tag on meaning alone (probable and close to an example), or on lexical evidence that
    the meaning supports."""
    if prob >= options.threshold and similarity >= options.min_similarity:
        return True
    return lexical_hit and prob >= options.support and similarity >= options.lexical_similarity


def evidence_lines(example: str, similarity: float, prob: float, lexical: Tag | None) -> tuple:
    """What the producer sees: the closest example and its cosine, the probability, and the
    phrases that matched."""
    lines = [f'lijkt op "{example}" ({similarity:.2f})', f"kans {prob:.2f}"] if example else []
    return (*lines, *(lexical.evidence if lexical else ()))


class SemanticTagger:
    """A loaded encoder plus one compiled taxonomy. Build with :meth:`load`."""

    def __init__(self, tax: Taxonomy, encoder: Encoder, options: Options, comp: Compiled) -> None:
        self.taxonomy = tax
        self.encoder = encoder
        self.options = options
        self.compiled = comp
        self.lexical = lexicon.compile_taxonomy(tax)
        self.n_ingredients = len(tax.ingredients)
        self._rows = [np.flatnonzero(comp.owners == k) for k in range(self.n_ingredients)]

    @classmethod
    def load(
        cls,
        tax: Taxonomy,
        cache_dir: Path | None = None,
        *,
        encoder: Encoder | None = None,
        options: Options | None = None,
    ) -> SemanticTagger:
        """Compile ``tax`` (or read it from ``cache_dir``) with the shared encoder."""
        options = options or Options()
        encoder = encoder if encoder is not None else shared_encoder(cache_dir)
        classes = training_texts(tax)[0]
        path = None
        comp = None
        if cache_dir is not None:
            path = Path(cache_dir) / f"semantic-{compiled_key(tax, encoder, options)}.npz"
            comp = _load(path, classes)
        if comp is None:
            comp = compile_semantic(tax, encoder, options)
            if path is not None:
                _save(path, comp)
        return cls(tax, encoder, options, comp)

    def window_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per window of every text: ingredient probabilities (windows, ingredients) and unit
        embedding; and the index of each text's first window."""
        wins = [windows(t, self.options.window_words) for t in texts]
        flat = [w for ws in wins for w in ws]
        starts = np.cumsum([0] + [len(ws) for ws in wins[:-1]]).astype(np.int64)
        emb = self.encoder.encode(flat)
        x = features(emb, flat, self.compiled.vocab, self.options.stem_weight)
        probs = self.compiled.model.proba(x)[:, : self.n_ingredients]
        return probs, unit_rows(emb), starts

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(texts, ingredients): per text the best window probability of each ingredient."""
        if not texts:
            return np.zeros((0, self.n_ingredients), dtype=np.float32)
        probs, _, starts = self.window_scores(texts)
        return np.maximum.reduceat(probs, starts, axis=0)  # type: ignore[no-any-return]

    def tag_texts(self, texts: Sequence[str]) -> list[tuple[Tag, ...]]:
        """Per text its ingredients, strongest first, each with score and evidence; all
        windows of all texts go through the encoder in one batch."""
        if not texts:
            return []
        probs, unit, starts = self.window_scores(texts)
        ends = [*starts[1:], len(probs)]
        return [
            self._decide_text(text, probs[a:b], unit[a:b])
            for text, a, b in zip(texts, starts, ends, strict=True)
        ]

    def _decide_text(self, text: str, probs: np.ndarray, unit: np.ndarray) -> tuple[Tag, ...]:
        lex = {t.ingredient: t for t in lexicon.tag_text(text, self.lexical)}
        best_window = probs.argmax(axis=0)
        low = min(self.options.threshold, self.options.support)
        out = []
        for k, ing in enumerate(self.taxonomy.ingredient_ids):
            w = int(best_window[k])
            p = float(probs[w, k])
            if p < low:
                continue
            hit = lex.get(ing)
            j, sim = self._closest(k, unit[w])
            if not decide(p, sim, hit is not None, self.options):
                continue
            score = 1.0 - (1.0 - p) * (1.0 - (hit.score if hit else 0.0))
            example = self.compiled.texts[j] if j >= 0 else ""
            out.append(Tag(ing, round(score, 3), evidence_lines(example, sim, p, hit)))
        return tuple(sorted(out, key=lambda t: (-t.score, t.ingredient)))

    def _closest(self, k: int, unit: np.ndarray) -> tuple[int, float]:
        rows = self._rows[k]
        if len(rows) == 0 or not unit.size:
            return (int(rows[0]) if len(rows) else -1), 0.0
        sims = self.compiled.embeddings[rows] @ unit
        best = int(np.argmax(sims))
        return int(rows[best]), float(sims[best])


def semantic_tagger(tax: Taxonomy, cache_dir: Path | None = None) -> SemanticTagger:
    """The tagger for a taxonomy, loaded once per process (the flows tag many episodes);
    ``cache_dir``: the workspace's cache folder (its models folder keeps the ready files)."""
    return _loaded_tagger(tax, _models(cache_dir))


def _models(cache_dir: Path | None) -> Path | None:
    """The models folder of a workspace cache, or the shared one (if any) without it."""
    if cache_dir is not None:
        return models_dir(cache_dir)
    shared = os.environ.get("VLINDER_MODELS_DIR")
    return Path(shared).expanduser() if shared else None


@lru_cache(maxsize=4)
def _loaded_tagger(tax: Taxonomy, models: Path | None) -> SemanticTagger:
    return SemanticTagger.load(tax, models)


def tag_text(text: str, tax: Taxonomy, cache_dir: Path | None = None) -> tuple[Tag, ...]:
    """The ingredients of one text, strongest first."""
    return semantic_tagger(tax, cache_dir).tag_texts([text])[0]


def tag_fragments(
    fragments: Sequence[Fragment], tax: Taxonomy, cache_dir: Path | None = None
) -> list[Fragment]:
    """The fragments with their automatic tags, in one batch (manual tags are kept)."""
    tagged = semantic_tagger(tax, cache_dir).tag_texts([f.text for f in fragments])
    out = []
    for frag, auto in zip(fragments, tagged, strict=True):
        manual = tuple(t for t in frag.tags if t.source == "manual")
        own = {m.ingredient for m in manual}
        out.append(replace(frag, tags=manual + tuple(t for t in auto if t.ingredient not in own)))
    return out


__all__ = [
    "METHOD_VERSION",
    "Compiled",
    "Options",
    "SemanticTagger",
    "compile_semantic",
    "compiled_key",
    "decide",
    "evidence_lines",
    "method_version",
    "semantic_tagger",
    "tag_fragments",
    "tag_text",
    "training_texts",
]
