"""Convert a CTranslate2 Whisper model into an openai-whisper checkpoint, exactly and offline.

The bundled model (:mod:`pipeline.transcribe.weights.models`) is CTranslate2; openai-whisper loads a ``.pt``
file holding ``{"dims": {...}, "model_state_dict": {...}}``. CTranslate2 has no API that hands
out weights, so ``model.bin`` is parsed here. Its layout, as written by
``ctranslate2/specs/model_spec.py`` (``ModelSpec._serialize``, binary version 6), little-endian::

    u32 binary version, str spec name ("WhisperSpec"), u32 spec revision, u32 n variables
    n x (str name, u8 rank, rank x u32 dim, u8 dtype id, u32 n bytes, the bytes)
    u32 n aliases, n x (str alias, str name of the variable it stands for)

where ``str`` is a u16 length (including a trailing NUL) followed by the UTF-8 bytes and the NUL.

How CTranslate2's Whisper converter (``converters/transformers.py``, ``WhisperLoader`` on
``BartLoader``) renamed and fused the weights, and so how they map back:

- self-attention ``linear_0`` is query, key and value stacked along the output axis (split in
  three); openai's ``key`` has no bias, the converter filled that third with zeros (checked);
- cross-attention ``linear_0`` is the query, ``linear_1`` key and value stacked (split in two),
  ``linear_2`` (cross) or ``linear_1`` (self) the output projection;
- no weight is pre-scaled (both scale q.k at run time), layer norms are ``gamma``/``beta``, the
  position encodings (both the encoder's sinusoids and the decoder's learned ones) are stored;
- the output projection is an alias of the token embedding (openai ties them; checked).

The values are copied bit for bit in their stored dtype (float16 for the bundled model, as in
openai's own checkpoints); openai-whisper widens them to float32 when it loads them on a CPU.
"""

from __future__ import annotations

import base64
import gzip
import re
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from pipeline.core.errors import ModelError
from pipeline.core.workspace import atomic_writer

BINARY_VERSION = 6
SPEC_NAME = "WhisperSpec"
# type ids of include/ctranslate2/types.h, as numpy dtypes (bfloat16 read as raw 16 bits)
_DTYPES = ("<f4", "i1", "<i2", "<i4", "<f2", "<u2")
_BFLOAT16 = 5
_GELU = 3  # ctranslate2.specs.common_spec.Activation.GELU


def _read(fh: BinaryIO, fmt: str) -> int:
    size = struct.calcsize("<" + fmt)
    data = fh.read(size)
    if len(data) != size:
        raise ModelError("model.bin is afgekapt")
    return int(struct.unpack("<" + fmt, data)[0])


def _read_str(fh: BinaryIO) -> str:
    n = _read(fh, "H")
    return fh.read(n)[:-1].decode("utf-8")


def read_ct2_variables(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The variables of a CTranslate2 ``model.bin`` as torch tensors, and its aliases.

    Each variable is read straight into its own tensor (one copy of the weights in memory).
    """
    import torch

    variables: dict[str, Any] = {}
    aliases: dict[str, str] = {}
    with open(path, "rb") as fh:
        version = _read(fh, "I")
        if version != BINARY_VERSION:
            raise ModelError(f"{path}: onbekende CTranslate2-versie {version}")
        spec = _read_str(fh)
        if spec != SPEC_NAME:
            raise ModelError(f"{path} is geen Whisper-model maar {spec}")
        _read(fh, "I")  # spec revision: the weights layout has not changed for Whisper
        for _ in range(_read(fh, "I")):
            name = _read_str(fh)
            shape = tuple(_read(fh, "I") for _ in range(_read(fh, "B")))
            type_id = _read(fh, "B")
            nbytes = _read(fh, "I")
            array = np.empty(shape, dtype=_DTYPES[type_id])
            if (
                array.nbytes != nbytes
                or fh.readinto(array.reshape(-1).view(np.uint8).data) != nbytes
            ):
                raise ModelError(f"{path}: variabele {name} is beschadigd")
            tensor = torch.from_numpy(array)
            variables[name] = tensor.view(torch.bfloat16) if type_id == _BFLOAT16 else tensor
        for _ in range(_read(fh, "I")):
            alias = _read_str(fh)
            aliases[alias] = _read_str(fh)
    return variables, aliases


def _count_layers(variables: Iterable[str], prefix: str) -> int:
    found = {int(m.group(1)) for v in variables if (m := re.match(prefix + r"/layer_(\d+)/", v))}
    if found != set(range(len(found))):
        raise ModelError(f"lagen van {prefix} ontbreken: {sorted(found)}")
    return len(found)


def _scalar(variables: dict[str, Any], name: str) -> int:
    value = variables.pop(name, None)
    if value is None:
        raise ModelError(f"model.bin mist {name}")
    return int(value.item())


def _check_supported(v: dict[str, Any]) -> None:
    """Fail on a CTranslate2 Whisper layout openai-whisper cannot take; drop CTranslate2's own
    settings that openai-whisper has no place for."""
    import torch

    if any(name.endswith("_scale") for name in v):
        raise ModelError("een gekwantiseerd CTranslate2-model (int8/int16) kan niet worden omgezet")
    for name, want in (
        ("decoder/activation", _GELU),
        ("decoder/pre_norm", 1),
        ("decoder/alibi", 0),
        ("decoder/scale_embeddings", 0),
    ):
        if name in v and _scalar(v, name) != want:
            raise ModelError(f"onverwacht CTranslate2-Whisper-model: {name} != {want}")
    for name in ("decoder/alignment_heads", "decoder/alignment_layer"):
        v.pop(name, None)  # CTranslate2's own alignment settings; the heads are in config.json
    if v.pop("decoder/start_from_zero_embedding", torch.zeros(())).item():
        raise ModelError("onverwacht CTranslate2-Whisper-model: start_from_zero_embedding")


class _StateDict:
    """Moves CTranslate2 variables (``a/b/c``) into an openai-whisper state dict (``a.b.c``)."""

    def __init__(self, variables: dict[str, Any]):
        self.v = variables
        self.sd: dict[str, Any] = {}

    def need(self, src: str) -> Any:
        if src not in self.v:
            raise ModelError(f"model.bin mist {src}")
        return self.v.pop(src)

    def take(self, src: str, dst: str) -> Any:
        self.sd[dst] = self.need(src)
        return self.sd[dst]

    def linear(self, src: str, dst: str) -> None:
        self.take(f"{src}/weight", f"{dst}.weight")
        self.take(f"{src}/bias", f"{dst}.bias")

    def norm(self, src: str, dst: str) -> None:
        self.take(f"{src}/gamma", f"{dst}.weight")
        self.take(f"{src}/beta", f"{dst}.bias")

    def split(self, src: str, dsts: list[str]) -> None:
        """One fused projection (q/k/v) into separate ones; the key has no bias."""
        import torch

        weight, bias = self.need(f"{src}/weight"), self.need(f"{src}/bias")
        n = weight.shape[0] // len(dsts)
        for i, dst in enumerate(dsts):
            self.sd[f"{dst}.weight"] = weight[i * n : (i + 1) * n].clone()
            part = bias[i * n : (i + 1) * n].clone()
            if not dst.endswith(".key"):
                self.sd[f"{dst}.bias"] = part
            elif torch.count_nonzero(part):  # openai's key projection has no bias
                raise ModelError(f"{src}: de key-bias is niet nul")

    def self_attention(self, src: str, dst: str) -> None:
        self.norm(f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
        qkv = [f"{dst}.attn.{p}" for p in ("query", "key", "value")]
        self.split(f"{src}/self_attention/linear_0", qkv)
        self.linear(f"{src}/self_attention/linear_1", f"{dst}.attn.out")

    def cross_attention(self, src: str, dst: str) -> None:
        self.norm(f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
        self.linear(f"{src}/attention/linear_0", f"{dst}.cross_attn.query")
        kv = [f"{dst}.cross_attn.{p}" for p in ("key", "value")]
        self.split(f"{src}/attention/linear_1", kv)
        self.linear(f"{src}/attention/linear_2", f"{dst}.cross_attn.out")

    def ffn(self, src: str, dst: str) -> None:
        self.norm(f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")
        self.linear(f"{src}/ffn/linear_0", f"{dst}.mlp.0")
        self.linear(f"{src}/ffn/linear_1", f"{dst}.mlp.2")


def _check_projection(v: dict[str, Any], aliases: dict[str, str], embedding: Any) -> None:
    """The output projection: tied to the token embedding in openai-whisper."""
    import torch

    projection = v.pop("decoder/projection/weight", None)
    if projection is None:
        if aliases.get("decoder/projection/weight") != "decoder/embeddings/weight":
            raise ModelError("de uitvoerprojectie van het model is niet de woordinbedding")
    elif not torch.equal(projection, embedding):
        raise ModelError("de uitvoerprojectie van het model is niet de woordinbedding")
    bias = v.pop("decoder/projection/bias", None)
    if bias is not None and torch.count_nonzero(bias):
        raise ModelError("de uitvoerprojectie van het model heeft een bias")


def ct2_whisper_state_dict(
    variables: dict[str, Any], aliases: dict[str, str]
) -> tuple[dict[str, int], dict[str, Any]]:
    """(dims, state_dict) for ``whisper.model.Whisper`` from CTranslate2 variables.

    ``variables`` is emptied on the way (each tensor moves into the state dict); every variable
    must find a place, so a layout we do not know fails loudly instead of being dropped.
    """
    v = variables
    _check_supported(v)
    n_audio_head = _scalar(v, "encoder/num_heads")
    n_text_head = _scalar(v, "decoder/num_heads")
    n_audio_layer = _count_layers(v, "encoder")
    n_text_layer = _count_layers(v, "decoder")
    out = _StateDict(v)

    # encoder
    out.take("encoder/position_encodings/encodings", "encoder.positional_embedding")
    for conv in ("conv1", "conv2"):
        out.linear(f"encoder/{conv}", f"encoder.{conv}")
    for i in range(n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        out.self_attention(src, dst)
        out.ffn(src, dst)
    out.norm("encoder/layer_norm", "encoder.ln_post")

    # decoder
    out.take("decoder/position_encodings/encodings", "decoder.positional_embedding")
    embedding = out.take("decoder/embeddings/weight", "decoder.token_embedding.weight")
    for i in range(n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        out.self_attention(src, dst)
        out.cross_attention(src, dst)
        out.ffn(src, dst)
    out.norm("decoder/layer_norm", "decoder.ln")

    _check_projection(v, aliases, embedding)
    if v:
        raise ModelError(f"onbekende variabelen in model.bin: {sorted(v)[:5]}")

    sd = out.sd
    audio_pos = sd["encoder.positional_embedding"]
    text_pos = sd["decoder.positional_embedding"]
    dims = {
        "n_mels": int(sd["encoder.conv1.weight"].shape[1]),
        "n_audio_ctx": int(audio_pos.shape[0]),
        "n_audio_state": int(audio_pos.shape[1]),
        "n_audio_head": n_audio_head,
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(embedding.shape[0]),
        "n_text_ctx": int(text_pos.shape[0]),
        "n_text_state": int(text_pos.shape[1]),
        "n_text_head": n_text_head,
        "n_text_layer": n_text_layer,
    }
    return dims, sd


def ct2_to_openai_checkpoint(model_dir: Path, out: Path) -> Path:
    """Write ``out``: the openai-whisper checkpoint of the CTranslate2 model in ``model_dir``.

    Written to a temporary file next to ``out`` and renamed into place, so an ``out`` that
    exists is complete. Needs torch (the ``openai-whisper`` extra).
    """
    import torch

    variables, aliases = read_ct2_variables(model_dir / "model.bin")
    dims, state_dict = ct2_whisper_state_dict(variables, aliases)
    with atomic_writer(out) as fh:
        torch.save({"dims": dims, "model_state_dict": state_dict}, fh)
    return out


def alignment_heads_dump(pairs: Iterable[Iterable[int]], n_layer: int, n_head: int) -> bytes:
    """``(layer, head)`` pairs (config.json ``alignment_heads``) packed the way
    ``whisper.model.Whisper.set_alignment_heads`` reads them: a bool array, gzip, base85."""
    mask = np.zeros((n_layer, n_head), dtype=bool)
    for layer, head in pairs:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0))
