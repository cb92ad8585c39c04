"""Benchmark of the diarize stage: who speaks when, on real speech, through `vlinder add`.

    .venv/bin/python benchmarks/speakers.py [--long-seconds 1800] [--skip-long]

Data (built once into benchmarks/data/, which git ignores; apt-get download, dpkg-deb and sox):
scripts/make_dialogue.py makes the dev dialogue (the Czech voice acting of Fish Fillets NG, the
shared script's seed 7, 300 s) and a Dutch one (other voices); scripts/make_panel.py a panel of
three voices (Czech small and big fish, Dutch big fish).

- **Accuracy**: `vlinder add` of each recording with its speakers' names (in order of first
  appearance), transcribed by the bundled model in the recording's language (`[transcribe]
  language`: cs or nl; for Czech without the Dutch glossary as a prompt); the `speaker` of every segment of the Podcasting 2.0 JSON is scored
  against the true turns (10 ms frames, 0.25 s collar, best mapping of names), as well as the
  turns themselves. Target: speaker-attributed accuracy >= 0.92 (DER <= 8%) on the dev dialogue.
- **Cost**: the same 5-minute recording added to a fresh workspace as a talk with one speaker
  (the baseline: nothing extra runs) and as an interview with two names; wall time and peak RSS
  of the `vlinder add` process (wait4). Targets: at most 1.15x the time, at most 150 MB more.
  Then a 30-minute recording for linearity (the diarize stage's own seconds, 5 vs 30 min).

Writes benchmarks/results/speakers.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import tomli_w

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.evaluation.speakers import (  # noqa: E402
    Score,
    Span,
    parse_segments_json,
    read_spans,
    score,
)

DATA = ROOT / "benchmarks" / "data" / "speakers"
RESULTS = ROOT / "benchmarks" / "results"
VLINDER = Path(sys.executable).parent / "vlinder"
DEBS = Path(os.environ.get("VLINDER_FILLETS_DIR") or Path.home() / ".cache/vlinder/fillets")


def dialogue(name: str, seconds: int, lang: str, skip: int = 0) -> Path:
    script = str(ROOT / "scripts" / "make_dialogue.py")
    out = DATA / name
    if not (out / "dialogue.wav").exists():
        out.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DEB_DIR": str(DEBS), "SKIP": str(skip)}
        subprocess.run(
            [sys.executable, script, str(out), str(seconds), "7", lang], check=True, env=env
        )
    return out


def panel(name: str, seconds: int, voices: list[str]) -> Path:
    out = DATA / name
    if not (out / "dialogue.wav").exists():
        out.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "DEB_DIR": str(DEBS)}
        script = str(ROOT / "scripts" / "make_panel.py")
        subprocess.run(
            [sys.executable, script, str(out), str(seconds), "11", *voices], check=True, env=env
        )
    return out


def speakers_in_order(folder: Path) -> list[str]:
    names: list[str] = []
    for line in (folder / "dialogue.jsonl").read_text(encoding="utf-8").splitlines():
        name = json.loads(line)["speaker"]
        if name not in names:
            names.append(name)
    return names


def run_add(folder: Path, workspace: Path, language: str, names: list[str], kind: str) -> dict:
    """One `vlinder add` in its own process, measured with wait4 (peak RSS of that process)."""
    code = (
        "import json, os, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE,"
        " text=True)\n"
        "_, status, usage = os.wait4(p.pid, 0)\n"
        "out = p.stdout.read(); err = p.stderr.read()\n"
        "print(json.dumps({'wall': time.perf_counter() - t, 'rss_mb': usage.ru_maxrss / 1024,"
        " 'status': status, 'out': out, 'err': err[-500:]}))\n"
    )
    subprocess.run([str(VLINDER), "init", str(workspace)], check=True, capture_output=True)
    settings = workspace / "vlinder.toml"
    data = tomllib.loads(settings.read_text(encoding="utf-8"))
    data["transcribe"]["language"] = language  # the recording's language for Whisper
    settings.write_text(tomli_w.dumps(data), encoding="utf-8")
    if language != "nl":  # the glossary is Dutch names and terms: no prompt for other speech
        (workspace / "glossary.txt").write_text("", encoding="utf-8")
    args = [str(VLINDER), "-w", str(workspace), "add", str(folder / "dialogue.wav")]
    args += ["--title", "Gesprek", "--kind", kind]
    for name in names:
        args += ["--speaker", name]
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    result = json.loads(done.stdout)
    if result["status"] != 0:
        raise SystemExit(f"vlinder add failed: {result['err']}")
    return result


def accuracy(folder: Path, workspace: Path) -> dict[str, float]:
    truth = read_spans(folder / "dialogue.rttm")
    podcast = workspace / "transcripts" / "gesprek.podcast.json"
    segments: Score = score(truth, parse_segments_json(podcast.read_text(encoding="utf-8")))
    turns_file = workspace / "transcripts" / "gesprek.speakers.json"
    data = json.loads(turns_file.read_text(encoding="utf-8"))
    names = speakers_in_order(folder)
    turns = [Span(a, b, names[s] if s < len(names) else f"x{s}") for a, b, s in data["turns"]]
    turn_score = score(truth, turns)
    return {
        "segments_accuracy": round(segments.accuracy, 4),
        "segments_der": round(segments.der, 4),
        "turns_accuracy": round(turn_score.accuracy, 4),
        "turns_der": round(turn_score.der, 4),
        "speakers_found": int(data["speakers"]),
        "speakers_heard": int(data.get("heard", 0)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--long-seconds", type=int, default=1800)
    ap.add_argument("--skip-long", action="store_true")
    args = ap.parse_args()
    work = DATA / "runs"
    if work.exists():
        subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)

    sets = {
        "cs dev dialogue (5 min)": (dialogue("cs300", 300, "cs"), "cs", "interview"),
        "nl dialogue (5 min)": (dialogue("nl300", 300, "nl"), "nl", "interview"),
        "3-voice panel (5 min)": (panel("panel3", 300, ["cs:m", "cs:v", "nl:v"]), "nl", "panel"),
    }
    results: dict[str, object] = {
        "benchmark": "speakers",
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
    }
    accuracy_rows = {}
    for label, (folder, language, kind) in sets.items():
        names = [n.title() for n in speakers_in_order(folder)]
        ws = work / label.split()[0] / "two"
        measured = run_add(folder, ws, language, names, kind)
        row = accuracy(folder, ws)
        row["add_s"] = round(measured["wall"], 1)
        accuracy_rows[label] = row
        print(label, row, flush=True)
    results["accuracy"] = accuracy_rows

    cost = {}
    lengths = [("5 min", "cs300", 300)]
    if not args.skip_long:
        lengths.append((f"{args.long_seconds // 60} min", "cs_long", args.long_seconds))
    for label, name, seconds in lengths:
        folder = dialogue(name, seconds, "cs") if name != "cs300" else DATA / "cs300"
        names = [n.title() for n in speakers_in_order(folder)]
        one = run_add(folder, work / name / "one", "cs", names[:1], "talk")
        two = run_add(folder, work / name / "two-again", "cs", names, "interview")
        cost[label] = {
            "one_speaker_s": round(one["wall"], 1),
            "two_speakers_s": round(two["wall"], 1),
            "ratio": round(two["wall"] / one["wall"], 3),
            "one_speaker_rss_mb": round(one["rss_mb"]),
            "two_speakers_rss_mb": round(two["rss_mb"]),
            "extra_rss_mb": round(two["rss_mb"] - one["rss_mb"]),
            "diarize_s": round(two["wall"] - one["wall"], 1),
        }
        print(label, cost[label], flush=True)
    results["cost"] = cost
    results["targets"] = {
        "segments_accuracy": 0.92,
        "der": 0.08,
        "ratio": 1.15,
        "extra_rss_mb": 150,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speakers.json").write_text(json.dumps(results, indent=1) + "\n")
    (RESULTS / "speakers.md").write_text(markdown(results))
    print(markdown(results))


def markdown(r: dict) -> str:
    lines = [
        "# Speakers (`benchmarks/speakers.py`)",
        "",
        f"{r['date']}, {r['machine']}. `vlinder add` with the speakers' names, transcribed by the "
        "bundled model in the recording's language; segments of the Podcasting 2.0 JSON and the "
        "turns scored against the true turns (10 ms frames, 0.25 s collar, best name mapping).",
        "",
        "| recording | segments: accuracy | DER | turns: accuracy | DER | speakers (heard) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, a in r["accuracy"].items():
        lines.append(
            f"| {label} | {a['segments_accuracy']:.3f} | {a['segments_der']:.3f} "
            f"| {a['turns_accuracy']:.3f} | {a['turns_der']:.3f} "
            f"| {a['speakers_found']} ({a['speakers_heard']}) |"
        )
    lines += [
        "",
        "Cost: the same recording added as a talk with one speaker (baseline, same run) and as "
        "an interview with two names.",
        "",
        "| length | one speaker | two speakers | ratio | peak RSS one / two | extra |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, c in r["cost"].items():
        lines.append(
            f"| {label} | {c['one_speaker_s']} s | {c['two_speakers_s']} s | {c['ratio']} "
            f"| {c['one_speaker_rss_mb']} / {c['two_speakers_rss_mb']} MB "
            f"| {c['extra_rss_mb']} MB |"
        )
    t = r["targets"]
    lines += [
        "",
        f"Targets: segment accuracy >= {t['segments_accuracy']} (DER <= {t['der']}) on the dev "
        f"dialogue; ratio <= {t['ratio']}; extra peak memory <= {t['extra_rss_mb']} MB; linear "
        "in length (the extra seconds at 5 and 30 minutes).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
