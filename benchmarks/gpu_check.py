"""Check ``--device cuda`` where an NVIDIA GPU exists (not part of CI: its machines have none).

    python benchmarks/gpu_check.py [--out DIR] [--seconds 60]

What it does, through the transcribe stage itself (``transcribe``: ffmpeg decoding,
chunks, every transcript format, the cache):

- openai-whisper on ``cuda`` and on ``cpu`` with a randomly initialised checkpoint of Whisper
  base's dimensions (real weights are 145 MB and cannot travel to a machine without a network;
  a random model says nothing about accuracy, and decodes at most ``max_new_tokens`` per
  window, so the timing is a throughput figure, not a real-time factor for real speech);
  the transcript must have the same structure on both devices;
- faster-whisper on ``cuda``: whether CTranslate2 sees the GPU and finds the CUDA 12 libraries
  (cuBLAS 12, cuDNN 9) its wheels are built for, and the one-line error a user gets if not.

Writes gpu.json and gpu.md to ``--out`` (default benchmarks/results).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.core.episodes import save_episode  # noqa: E402
from pipeline.core.errors import VlinderError  # noqa: E402
from pipeline.core.models import Episode  # noqa: E402
from pipeline.flows import init as init_workspace  # noqa: E402
from pipeline.transcribe.stage import episode_options, transcribe  # noqa: E402
from pipeline.transcribe.store import read_transcript_json  # noqa: E402

SAMPLE = ROOT / "samples" / "klompje-goud.mp3"


def random_base_checkpoint(path: Path) -> Path:
    import torch
    from whisper.model import ModelDimensions, Whisper

    dims = ModelDimensions(
        n_mels=80,
        n_audio_ctx=1500,
        n_audio_state=512,
        n_audio_head=8,
        n_audio_layer=6,
        n_vocab=51865,
        n_text_ctx=448,
        n_text_state=512,
        n_text_head=8,
        n_text_layer=6,
    )
    torch.manual_seed(0)
    model = Whisper(dims)
    torch.save({"dims": asdict(dims), "model_state_dict": model.half().state_dict()}, path)
    return path


def make_audio(folder: Path, seconds: float) -> Path:
    out = folder / "lezing.mp3"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(SAMPLE), "-t", str(seconds)]
        + ["-ac", "1", "-ar", "44100", "-b:a", "96k", str(out)],
        check=True,
    )
    return out


def run_openai(root: Path, mp3: Path, checkpoint: Path, device: str, seconds: float) -> dict:
    import torch

    ws = init_workspace(root / f"ws-{device}")
    folder = ws.episode_dir("lezing")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lezing.mp3").write_bytes(mp3.read_bytes())
    save_episode(
        ws,
        Episode(
            slug="lezing",
            title="GPU-controle",
            date=dt.date(2025, 1, 1),
            guid=f"gpu-{device}",
            audio_file="lezing.mp3",
            duration=seconds,
        ),
    )
    opts = episode_options(
        ws,
        engine="openai-whisper",
        model=str(checkpoint),
        device=device,
        beam_size=5,
        temperature=(0.0,),  # a random model fails every check: no fallback decoding
        max_new_tokens=40,  # and never stops by itself
    )
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.monotonic()
    result = transcribe(ws, "lezing", options=opts)
    wall = time.monotonic() - started
    data = read_transcript_json(ws, "lezing")
    segments = data["segments"]
    words = [w for s in segments for w in s["words"]]
    structure_ok = all(
        {"id", "start", "end", "text", "words"} <= set(s)
        and all(set(w) == {"start", "end", "text", "probability"} for w in s["words"])
        for s in segments
    )
    cached = transcribe(ws, "lezing", options=opts).status
    # again, warm: the first run pays for CUDA's start and Triton's kernel compilation
    started = time.monotonic()
    transcribe(ws, "lezing", options=opts, force=True)
    warm = time.monotonic() - started
    return {
        "device": device,
        "status": result.status,
        "wall_s": round(wall, 2),
        "warm_wall_s": round(warm, 2),
        "audio_s": seconds,
        "segments": len(segments),
        "words": len(words),
        "structure_ok": structure_ok,
        "formats": sorted(p.name[len("lezing") :] for p in ws.transcripts_dir.glob("lezing.*")),
        "second_run": cached,
        "gpu_peak_mb": round(torch.cuda.max_memory_allocated() / 2**20)
        if device == "cuda"
        else None,
    }


def check_faster_whisper_cuda() -> dict:
    """Which CUDA libraries CTranslate2's wheels need (cuBLAS 12, cuDNN 9) this machine has."""
    libs = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True).stdout.split()
    for folder in map(Path, sys.path):
        libs += [p.name for p in folder.glob("nvidia/*/lib/lib*.so*")]
    out: dict = {
        "cublas": sorted({n for n in libs if n.startswith("libcublas.so")}),
        "cudnn": sorted({n for n in libs if n.startswith("libcudnn.so")}),
    }
    try:
        import ctranslate2

        out["ctranslate2"] = ctranslate2.__version__
        out["cuda_devices"] = ctranslate2.get_cuda_device_count()
    except ImportError:
        out["ctranslate2"] = "not installed here"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--markdown-only", action="store_true", help="rewrite the .md from JSON")
    args = parser.parse_args()
    if args.markdown_only:
        data = json.loads((args.out / "gpu.json").read_text(encoding="utf-8"))
        (args.out / "gpu.md").write_text(markdown(data), encoding="utf-8")
        return
    import torch

    figures: dict = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads",
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch": torch.__version__,
    }
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        mp3 = make_audio(tmp, args.seconds)
        checkpoint = random_base_checkpoint(tmp / "base-random.pt")
        runs = []
        for device in ("cuda", "cpu"):
            try:
                runs.append(run_openai(tmp, mp3, checkpoint, device, args.seconds))
            except VlinderError as exc:
                runs.append({"device": device, "error": str(exc)})
            print(json.dumps(runs[-1]), flush=True)
        figures["openai_whisper"] = runs
    figures["faster_whisper_cuda"] = check_faster_whisper_cuda()
    print(json.dumps(figures["faster_whisper_cuda"]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gpu.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    (args.out / "gpu.md").write_text(markdown(figures), encoding="utf-8")


def markdown(f: dict) -> str:
    lines = [
        "# GPU check (`--device cuda`)",
        "",
        f"{f['date']}; {f['gpu']}; torch {f['torch']}; {f['machine']}.",
        "",
        "openai-whisper through `transcribe`, a randomly initialised checkpoint with "
        "Whisper base's dimensions (beam 5, at most 40 tokens per window): a throughput and "
        "plumbing check, not an accuracy or real-time figure.",
        "",
        "| device | first run | again (warm) | audio | segments | words | same structure | "
        "formats | 2nd run | GPU peak |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in f["openai_whisper"]:
        if "error" in r:
            lines.append(f"| {r['device']} | error: {r['error']} ||||||||")
            continue
        peak = f"{r['gpu_peak_mb']} MB" if r["gpu_peak_mb"] else ""
        lines.append(
            f"| {r['device']} | {r['wall_s']} s | {r['warm_wall_s']} s | {r['audio_s']} s | "
            f"{r['segments']} | "
            f"{r['words']} | {r['structure_ok']} | {' '.join(r['formats'])} | "
            f"{r['second_run']} | {peak} |"
        )
    fw = f["faster_whisper_cuda"]
    lines += ["", "faster-whisper on cuda: " + json.dumps(fw) + "."]
    if "libcublas.so.12" not in fw.get("cublas", []):
        lines += [
            "",
            "CTranslate2's wheels (4.x, under faster-whisper) are built for CUDA 12 and load "
            "libcublas.so.12 and cuDNN 9; without cuBLAS 12 on the machine faster-whisper cannot "
            "use the GPU, so it was not run here (install `nvidia-cublas-cu12` and "
            "`nvidia-cudnn-cu12`, or use `--engine openai-whisper --device cuda`).",
        ]
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
