"""Benchmark: a 60 s audiogram by `vlinder clip --video` vs one bare ffmpeg command making the
same video.

Run: .venv/bin/python benchmarks/clip.py [--seconds 60] [--size 720] [--repeat 3]

The episode: the sample samples/klompje-goud.mp3 three times over (3 minutes), ingested, with
its exact transcript repeated alongside; the clip is taken from the middle.

* ``vlinder``: the whole command in a subprocess, ``python -m pipeline clip SLUG START END
  --video``: Python's start, snapping to words, cutting with fades, measuring and encoding the
  MP3 at the episode's loudness (as ingest does), the cover background, the captions, and the
  audiogram itself;
* ``bare``: one ffmpeg command with the same filter graph and encoding settings (cut with
  ``-ss``/``-t`` straight from the episode's MP3, no loudness pass), given the same background
  image and captions file ready-made.

Both are timed in the same run, interleaved, best of ``--repeat``, on CPU time (user + system
of the process and its children: on a shared machine the wall clock also counts other
processes; wall times are recorded too). Target: vlinder / bare <= 1.3. Writes
benchmarks/results/clip.json and clip.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.clips.captions import ass_document  # noqa: E402
from pipeline.clips.video import (  # noqa: E402
    cover_source,
    draw_background,
    encode_args,
    filter_graph,
)
from pipeline.clips.words import caption_lines, snap, transcript_words  # noqa: E402
from pipeline.core.episodes import load_episode  # noqa: E402
from pipeline.core.models import EpisodeMeta  # noqa: E402
from pipeline.core.timefmt import cue_time  # noqa: E402
from pipeline.core.workspace import Workspace  # noqa: E402
from pipeline.flows import init as init_workspace  # noqa: E402
from pipeline.ingest import ingest  # noqa: E402
from pipeline.ingest.audio import find_ffmpeg  # noqa: E402
from pipeline.transcribe import import_transcript, load_transcript  # noqa: E402
from pipeline.transcribe.formats.readers import parse_transcript_file  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SAMPLE = ROOT / "samples" / "klompje-goud"
TARGET_RATIO = 1.3
LOOPS = 3


def make_episode(root: Path) -> tuple[Workspace, str, float]:
    """The sample three times over, ingested, with its transcript repeated alongside."""
    ffmpeg = find_ffmpeg()
    recording = root / "drie-keer.wav"
    subprocess.run(
        [ffmpeg, "-nostdin", "-v", "error", "-stream_loop", str(LOOPS - 1), "-i",
         str(SAMPLE.with_suffix(".mp3")), "-ac", "1", "-ar", "44100", str(recording)],
        check=True,
    )  # fmt: skip
    ws = init_workspace(root / "ws")
    slug = ingest(ws, recording, EpisodeMeta(title="Het klompje goud")).episode.slug
    one = parse_transcript_file(SAMPLE.with_suffix(".vtt"))
    length = load_episode(ws, slug).duration / LOOPS
    cues = ["WEBVTT", ""]
    for loop in range(LOOPS):
        for seg in one.segments:
            start, end = seg.start + loop * length, seg.end + loop * length
            voice = f"<v {seg.speaker}>" if seg.speaker else ""
            cues += [f"{cue_time(start)} --> {cue_time(end)}", f"{voice}{seg.text}", ""]
    vtt = root / "drie-keer.vtt"
    vtt.write_text("\n".join(cues), encoding="utf-8")
    import_transcript(ws, slug, vtt)
    return ws, slug, load_episode(ws, slug).duration


def cpu_of(cmd: list[str]) -> dict[str, float]:
    """CPU time (user + system) of ``cmd`` and everything it starts, and its wall time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed: {' '.join(cmd)}\n{done.stdout}{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_s": cpu, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", type=int, default=720)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="vlinder-bench-clip-") as tmp_name:
        tmp = Path(tmp_name)
        ws, slug, duration = make_episode(tmp)
        start = round((duration - args.seconds) / 2, 1)
        end = start + args.seconds
        transcript = load_transcript(ws, slug)
        assert transcript is not None
        span = snap(transcript_words(transcript), start, end, duration)

        # the bare command's ready-made inputs: the same background and captions
        background = tmp / "background.png"
        draw_background(cover_source(ws, load_episode(ws, slug)), args.size, background)
        captions = tmp / "captions.ass"
        captions.write_text(
            ass_document(caption_lines(span.words), size=args.size, offset=span.start),
            encoding="utf-8",
        )
        audio = ws.episode_dir(slug) / load_episode(ws, slug).audio_file
        bare_cmd = [
            find_ffmpeg(), "-nostdin", "-v", "error",
            "-i", str(background),
            "-ss", f"{span.start:.3f}", "-t", f"{span.duration:.3f}", "-i", str(audio),
            "-filter_complex", filter_graph(args.size, captions),
            "-map", "[video]", "-map", "1:a:0",
            *encode_args(span.duration), "-y", str(tmp / "bare.mp4"),
        ]  # fmt: skip
        vlinder_cmd = [
            sys.executable, "-m", "pipeline", "-w", str(ws.root), "clip", slug,
            f"{start:.1f}", f"{end:.1f}", "--video", "--size", str(args.size),
            "-o", str(tmp / "vlinder.mp4"),
        ]  # fmt: skip
        runs: dict[str, list[dict[str, float]]] = {"bare": [], "vlinder": []}
        for _ in range(args.repeat):
            runs["bare"].append(cpu_of(bare_cmd))
            runs["vlinder"].append(cpu_of(vlinder_cmd))
        sizes = {k: (tmp / f"{k}.mp4").stat().st_size for k in runs}

    best = {k: min(v, key=lambda r: r["cpu_s"]) for k, v in runs.items()}
    ratio = round(best["vlinder"]["cpu_s"] / best["bare"]["cpu_s"], 3)
    result = {
        "clip": {
            "seconds": round(span.duration, 2),
            "size": f"{args.size}x{args.size}",
            "fps": 25,
            "words": len(span.words),
        },
        "ffmpeg": find_ffmpeg(),
        "machine": f"{platform.machine()} {platform.system()}, python {platform.python_version()}",
        "repeat": args.repeat,
        "bare": {
            "what": "one ffmpeg command: -ss/-t from the episode MP3, the same filter graph "
            "(loop, showwaves, overlay, subtitles) and encoding (libx264 veryfast crf 23, AAC)",
            "cpu_s": round(best["bare"]["cpu_s"], 2),
            "wall_s": round(best["bare"]["wall_s"], 2),
            "mb": round(sizes["bare"] / 1e6, 2),
        },
        "vlinder": {
            "what": "python -m pipeline clip SLUG START END --video: start-up, snapping, cut "
            "with fades, loudness measure + MP3 encode (as ingest), background, captions, video",
            "cpu_s": round(best["vlinder"]["cpu_s"], 2),
            "wall_s": round(best["vlinder"]["wall_s"], 2),
            "mb": round(sizes["vlinder"] / 1e6, 2),
        },
        "ratio": ratio,
        "target": {"ratio_max": TARGET_RATIO, "ok": ratio <= TARGET_RATIO},
        "all_runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "clip.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    b, v = result["bare"], result["vlinder"]
    md = f"""# Clip benchmark

A {result["clip"]["seconds"]} s audiogram ({result["clip"]["size"]}, 25 fps, {len(span.words)}
words of captions), best of {args.repeat} interleaved runs each, on {result["machine"]}.

| | CPU (s) | wall (s) | MP4 (MB) |
|---|---|---|---|
| bare ffmpeg, same filter graph and encoding | {b["cpu_s"]} | {b["wall_s"]} | {b["mb"]} |
| `vlinder clip --video` | {v["cpu_s"]} | {v["wall_s"]} | {v["mb"]} |

Ratio vlinder / bare (CPU time): **{ratio}** (target <= {TARGET_RATIO}).

Vlinder's extra work: the Python start, the MP3 clip at the episode's loudness (a loudnorm
measure pass, the encode and an ebur128 pass over 60 s of audio), the captions and the
background image (drawn on the first run, then taken from the cache). The video encode
dominates both.
"""
    (RESULTS / "clip.md").write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
