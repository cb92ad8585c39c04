"""Benchmark: `ingest()` of a 10-minute recording vs bare ffmpeg two-pass loudnorm + MP3 encode.

Run: .venv/bin/python benchmarks/ingest.py [--minutes 10] [--repeat 2]

Both run on the same file in the same run (best of --repeat each, interleaved). Each runs in its
own subprocess so peak RSS can be read from getrusage: the Python process itself
(RUSAGE_SELF) and its ffmpeg children (RUSAGE_CHILDREN, the largest child). The loudness of
both outputs is measured with ffmpeg's ebur128. Writes benchmarks/results/ingest.json and .md.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.ingest.audio import find_ffmpeg  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SEEDS = ROOT.parent / "shared" / "seeds"
FALLBACK_TEXT = (
    "De dijkversterking tussen Gorinchem en Waardenburg werd gedaan door een alliantie. "
    "Het waterschap en de aannemers deelden de risico's en werkten als één team. "
) * 20

RUSAGE = textwrap.dedent(
    """
    import json, resource, sys, time
    t0 = time.perf_counter()
    {body}
    wall = time.perf_counter() - t0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({{"wall_s": wall, "python_rss_mb": own, "ffmpeg_rss_mb": kids}}))
    """
)


def make_recording(folder: Path, minutes: float) -> Path:
    """Dutch espeak speech, looped to `minutes`, with noise under it: stereo 48 kHz WAV."""
    ffmpeg = find_ffmpeg()
    text = FALLBACK_TEXT
    seeds = sorted(SEEDS.glob("*.txt")) if SEEDS.exists() else []
    if seeds:
        text = " ".join(seeds[0].read_text(encoding="utf-8").split())[:4000]
    speech = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "nl", "-w", str(speech), text], check=True)
    out = folder / "tien minuten.wav"
    seconds = int(minutes * 60)
    subprocess.run(
        [
            ffmpeg, "-nostdin", "-v", "error", "-y",
            "-stream_loop", "-1", "-i", str(speech),
            "-f", "lavfi", "-i", f"anoisesrc=color=pink:amplitude=0.02:duration={seconds}",
            "-filter_complex",
            "[0:a]aresample=48000,volume=-6dB[s];[1:a]aresample=48000[n];"
            "[s][n]amix=inputs=2:duration=shortest:normalize=0,aformat=channel_layouts=stereo",
            "-t", str(seconds), "-ar", "48000", "-ac", "2", "-c:a", "pcm_s16le", str(out),
        ],
        check=True,
    )  # fmt: skip
    return out


def run_measured(body: str) -> dict[str, float]:
    code = RUSAGE.format(body=textwrap.indent(textwrap.dedent(body), "").strip())
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline_body(source: Path, out: Path) -> str:
    return f"""
import json, subprocess
ff = {find_ffmpeg()!r}
src, out = {str(source)!r}, {str(out)!r}
p1 = subprocess.run([ff, "-nostdin", "-hide_banner", "-nostats", "-i", src, "-af",
    "aformat=channel_layouts=mono,loudnorm=I=-16:TP=-1:LRA=11:print_format=json",
    "-f", "null", "-"],
    capture_output=True, text=True, check=True).stderr
m = json.loads(p1[p1.rfind("{{"):p1.rfind("}}") + 1])
af = ("aformat=channel_layouts=mono,loudnorm=I=-16:TP=-1:LRA=11:measured_I={{input_i}}:measured_TP={{input_tp}}"
      ":measured_LRA={{input_lra}}:measured_thresh={{input_thresh}}:offset={{target_offset}}"
      ":linear=true").format(**m)
subprocess.run([ff, "-nostdin", "-v", "error", "-y", "-i", src, "-af", af, "-ar", "44100",
    "-ac", "1", "-c:a", "libmp3lame", "-b:a", "96k", out], check=True)
"""


def ingest_body(source: Path, ws_root: Path) -> str:
    return f"""
import shutil
from pathlib import Path
from pipeline.core.models import EpisodeMeta
from pipeline.ingest import ingest
from pipeline.flows import init as init_workspace
root = Path({str(ws_root)!r})
shutil.rmtree(root, ignore_errors=True)
ws = init_workspace(root)
t0 = time.perf_counter()
ingest(ws, Path({str(source)!r}), EpisodeMeta(title="Benchmark"))
"""


def loudness(path: Path) -> dict[str, float]:
    log = subprocess.run(
        [find_ffmpeg(), "-nostdin", "-hide_banner", "-nostats", "-i", str(path),
         "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    summary = log[log.rfind("Summary:") :]
    i = re.search(r"I:\s+(\S+) LUFS", summary)
    tp = re.search(r"Peak:\s+(\S+) dBFS", summary)
    return {
        "lufs": float(i.group(1)) if i else None,
        "true_peak": float(tp.group(1)) if tp else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vlinder-bench-") as tmp_name:
        tmp = Path(tmp_name)
        source = make_recording(tmp, args.minutes)
        baseline_out = tmp / "baseline.mp3"
        ws_root = tmp / "ws"
        runs: dict[str, list[dict[str, float]]] = {"baseline": [], "ingest": []}
        for _ in range(args.repeat):
            runs["baseline"].append(run_measured(baseline_body(source, baseline_out)))
            runs["ingest"].append(run_measured(ingest_body(source, ws_root)))
        ingest_mp3 = next((ws_root / "episodes").glob("*/*.mp3"))
        best = {k: min(v, key=lambda r: r["wall_s"]) for k, v in runs.items()}
        result = {
            "recording": {
                "minutes": args.minutes,
                "format": "wav stereo 48 kHz s16",
                "mb": round(source.stat().st_size / 1e6, 1),
            },
            "ffmpeg": find_ffmpeg(),
            "machine": f"{platform.machine()} {platform.system()}, python {platform.python_version()}",
            "repeat": args.repeat,
            "baseline": {
                "what": "bare ffmpeg: downmix + loudnorm measure pass, downmix + loudnorm "
                "linear=true pass + libmp3lame 96k mono 44.1k",
                "wall_s": round(best["baseline"]["wall_s"], 2),
                "ffmpeg_rss_mb": round(best["baseline"]["ffmpeg_rss_mb"], 1),
                "output": loudness(baseline_out),
            },
            "ingest": {
                "what": "pipeline.ingest.ingest(): probe, sha256, loudnorm measure, "
                "(limiter calibration), encode + ebur128, ID3, episode.toml, catalogue",
                "wall_s": round(best["ingest"]["wall_s"], 2),
                "python_rss_mb": round(best["ingest"]["python_rss_mb"], 1),
                "ffmpeg_rss_mb": round(best["ingest"]["ffmpeg_rss_mb"], 1),
                "output": loudness(ingest_mp3),
            },
            "all_runs": runs,
        }
        result["ratio"] = round(result["ingest"]["wall_s"] / result["baseline"]["wall_s"], 3)
        result["peak_rss_mb"] = max(
            result["ingest"]["python_rss_mb"], result["ingest"]["ffmpeg_rss_mb"]
        )
        result["targets"] = {
            "ratio_max": 1.2,
            "peak_rss_mb_max": 300,
            "ratio_ok": result["ratio"] <= 1.2,
            "rss_ok": result["peak_rss_mb"] <= 300,
        }

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    b, g = result["baseline"], result["ingest"]
    md = f"""# Ingest benchmark

{args.minutes:g}-minute recording ({result["recording"]["format"]}, {result["recording"]["mb"]} MB),
best of {args.repeat} interleaved runs each, on {result["machine"]}.

| | wall (s) | Python peak RSS (MB) | ffmpeg peak RSS (MB) | output LUFS | output true peak (dBTP) |
|---|---|---|---|---|---|
| bare ffmpeg two-pass loudnorm + MP3 | {b["wall_s"]} | - | {b["ffmpeg_rss_mb"]} | {b["output"]["lufs"]} | {b["output"]["true_peak"]} |
| `ingest()` | {g["wall_s"]} | {g["python_rss_mb"]} | {g["ffmpeg_rss_mb"]} | {g["output"]["lufs"]} | {g["output"]["true_peak"]} |

Ratio ingest / baseline: **{result["ratio"]}** (target <= 1.2).
Peak RSS: **{result["peak_rss_mb"]} MB** (target <= 300 MB; audio is streamed through ffmpeg).

The baseline's loudnorm falls back to dynamic mode when a linear gain would exceed the true-peak
limit, and then lands below -16 LUFS on peaky speech; ingest calibrates a gain + true-peak
limiter instead (see pipeline/audio.py).
"""
    (RESULTS / "ingest.md").write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
