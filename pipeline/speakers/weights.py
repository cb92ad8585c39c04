"""The weights of Resemblyzer's GE2E speaker encoder, read without torch.

The PyPI wheel ``resemblyzer==0.1.4`` (Apache-2.0) ships them as ``resemblyzer/pretrained.pt``,
a torch serialisation (the legacy format of torch < 1.6: pickles followed by raw storages).
:func:`read_torch_checkpoint` parses it with ``pickle`` and a restricted unpickler: only
``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2``/``_rebuild_parameter`` and the
storage types are resolved (to numpy stand-ins), anything else is refused, so a crafted file
cannot run code. The zip format of newer torch versions is read as well.

Install: ``pip install --no-deps resemblyzer==0.1.4`` (its torch, librosa and webrtcvad are
not needed). :func:`find_checkpoint` locates the file with ``importlib.util.find_spec``, which
does not import the package (its ``__init__`` imports torch). :func:`load_weights` converts it
once to ``<cache>/ge2e-<sha256>.npz``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from pipeline.core.errors import SpeakerModelError

LAYERS = 3
CHECKPOINT_PACKAGE = "resemblyzer"
CHECKPOINT_NAME = "pretrained.pt"
INSTALL_HINT = "pip install --no-deps resemblyzer==0.1.4"
WHEEL = "Resemblyzer-0.1.4-py3-none-any.whl"  # or: pip download --no-deps -d <cache> ...
WHEEL_MEMBER = "resemblyzer/pretrained.pt"
CHECKPOINT_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"


# --- torch-free checkpoint reader ------------------------------------------------------------

_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


@dataclass
class _Storage:
    dtype: np.dtype[Any]
    numel: int
    data: np.ndarray | None = None


@dataclass(frozen=True)
class _StorageType:
    dtype: np.dtype[Any]


@dataclass
class _LazyTensor:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> np.ndarray:
        if self.storage.data is None:
            raise SpeakerModelError("het modelbestand is onvolledig (een tensor zonder gegevens)")
        item = self.storage.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            self.storage.data[self.offset :],
            shape=self.shape,
            strides=tuple(s * item for s in self.stride),
        )
        return np.array(view)  # a contiguous copy


def _rebuild_tensor(
    storage: _Storage, offset: int, shape: Sequence[int], stride: Sequence[int], *_: Any
) -> _LazyTensor:
    return _LazyTensor(storage, int(offset), tuple(shape), tuple(stride))


def _rebuild_parameter(data: _LazyTensor, *_: Any) -> _LazyTensor:
    return data


class _RestrictedUnpickler(pickle.Unpickler):
    """Allows only what a state dict of plain tensors needs; anything else is refused."""

    def __init__(self, file: IO[bytes], storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch._utils" and name == "_rebuild_tensor_v2":
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _DTYPES:
            return _StorageType(np.dtype(_DTYPES[name]))
        raise pickle.UnpicklingError(f"niet toegestaan in een modelbestand: {module}.{name}")

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or pid[0] != "storage":
            raise pickle.UnpicklingError(f"onbekende verwijzing in het modelbestand: {pid!r}")
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"onbekend opslagtype: {storage_type!r}")
        key = str(key)
        if key not in self.storages:
            self.storages[key] = _Storage(storage_type.dtype, int(numel))
        return self.storages[key]


def _materialise(obj: Any) -> Any:
    if isinstance(obj, _LazyTensor):
        return obj.array()
    if isinstance(obj, dict):
        return {k: _materialise(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_materialise(v) for v in obj)
    return obj


class _PlainUnpickler(pickle.Unpickler):
    """The header pickles of the legacy format: plain values only."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"niet toegestaan in een modelbestand: {module}.{name}")


def _read_legacy(f: IO[bytes]) -> Any:
    magic = _PlainUnpickler(f).load()
    if magic != _LEGACY_MAGIC:
        raise SpeakerModelError("geen torch-modelbestand (onbekend formaat)")
    _PlainUnpickler(f).load()  # protocol version
    _PlainUnpickler(f).load()  # sys info (endianness, type sizes)
    storages: dict[str, _Storage] = {}
    result = _RestrictedUnpickler(f, storages).load()
    keys = _PlainUnpickler(f).load()
    for key in keys:
        storage = storages[str(key)]
        numel = int(np.frombuffer(f.read(8), dtype="<i8")[0])
        raw = f.read(numel * storage.dtype.itemsize)
        storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"), count=numel)
    return _materialise(result)


def _read_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = next((n for n in names if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if pkl is None:
            raise SpeakerModelError("geen torch-modelbestand (data.pkl ontbreekt)")
        prefix = pkl[: -len("data.pkl")]
        storages: dict[str, _Storage] = {}
        with zf.open(pkl) as f:
            result = _RestrictedUnpickler(f, storages).load()
        for key, storage in storages.items():
            raw = zf.read(f"{prefix}data/{key}")
            storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<"))
    return _materialise(result)


def read_torch_checkpoint(path: Path) -> Any:
    """A ``torch.save`` file (legacy or zip format) as nested dicts of numpy arrays."""
    try:
        if zipfile.is_zipfile(path):
            return _read_zip(path)
        with open(path, "rb") as f:
            return _read_legacy(f)
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError) as exc:
        raise SpeakerModelError(f"het sprekermodel {path} is niet te lezen: {exc}") from exc


# --- weights ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    """The encoder's parameters in torch's layout (gates i, f, g, o), float32."""

    w_ih: tuple[np.ndarray, ...]  # per layer (1024, in)
    w_hh: tuple[np.ndarray, ...]  # per layer (1024, 256)
    b_ih: tuple[np.ndarray, ...]  # per layer (1024,)
    b_hh: tuple[np.ndarray, ...]
    linear_w: np.ndarray  # (256, 256): embeds = relu(h @ linear_w.T + linear_b)
    linear_b: np.ndarray

    @classmethod
    def from_state(cls, state: dict[str, np.ndarray]) -> Weights:
        def layers(name: str) -> tuple[np.ndarray, ...]:
            return tuple(np.asarray(state[f"lstm.{name}_l{i}"], np.float32) for i in range(LAYERS))

        try:
            return cls(
                w_ih=layers("weight_ih"),
                w_hh=layers("weight_hh"),
                b_ih=layers("bias_ih"),
                b_hh=layers("bias_hh"),
                linear_w=np.asarray(state["linear.weight"], np.float32),
                linear_b=np.asarray(state["linear.bias"], np.float32),
            )
        except KeyError as exc:
            raise SpeakerModelError(f"het sprekermodel mist de parameter {exc}") from exc


def find_checkpoint(cache_dir: Path | None = None) -> Path:
    """``resemblyzer/pretrained.pt``: of the installed package (found without importing it),
    else taken once out of the wheel ``cache_dir/Resemblyzer-0.1.4-py3-none-any.whl``."""
    spec = importlib.util.find_spec(CHECKPOINT_PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            path = Path(folder) / CHECKPOINT_NAME
            if path.exists():
                return path
    if cache_dir is not None and (cache_dir / WHEEL).exists():
        return _from_wheel(cache_dir / WHEEL, cache_dir / "resemblyzer-0.1.4-pretrained.pt")
    raise SpeakerModelError(
        "het sprekermodel (Resemblyzer) is niet geïnstalleerd; installeer het met: " + INSTALL_HINT
    )


def _from_wheel(wheel: Path, target: Path) -> Path:
    if not target.exists():
        try:
            with zipfile.ZipFile(wheel) as zf:
                data = zf.read(WHEEL_MEMBER)
        except (zipfile.BadZipFile, KeyError) as exc:
            raise SpeakerModelError(f"{wheel.name} bevat geen sprekermodel") from exc
        tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _model_state(checkpoint: Any) -> dict[str, np.ndarray]:
    state = checkpoint.get("model_state", checkpoint) if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict):
        raise SpeakerModelError("het sprekermodel heeft geen model_state")
    return state


def convert_checkpoint(checkpoint: Path, npz: Path) -> None:
    """Write the encoder's state dict of ``checkpoint`` as an ``.npz`` (atomically)."""
    state = _model_state(read_torch_checkpoint(checkpoint))
    arrays = {
        k: np.asarray(v, np.float32) for k, v in state.items() if k.startswith(("lstm", "lin"))
    }
    npz.parent.mkdir(parents=True, exist_ok=True)
    tmp = npz.with_name(npz.name + f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    os.replace(tmp, npz)


def load_weights(cache_dir: Path | None = None, checkpoint: Path | None = None) -> Weights:
    """The encoder weights, converted once from the checkpoint to ``cache_dir/ge2e-<sha>.npz``.

    Without ``checkpoint``, Resemblyzer 0.1.4's own is used (:func:`find_checkpoint`) and its
    sha256 checked.
    """
    if checkpoint is None:
        checkpoint = find_checkpoint(cache_dir)
        digest = _sha256(checkpoint)
        if digest != CHECKPOINT_SHA256:
            raise SpeakerModelError(
                f"onverwacht sprekermodel {checkpoint} (sha256 {digest[:12]}…): "
                "verwacht dat van Resemblyzer 0.1.4"
            )
    else:
        digest = _sha256(checkpoint)
    if cache_dir is None:
        return Weights.from_state(_model_state(read_torch_checkpoint(checkpoint)))
    npz = cache_dir / f"ge2e-{digest[:16]}.npz"
    if not npz.exists():
        convert_checkpoint(checkpoint, npz)
    with np.load(npz) as data:
        return Weights.from_state({k: data[k] for k in data.files})
