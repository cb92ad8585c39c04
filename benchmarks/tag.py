"""Benchmark of the tag stage: quality, speed on one core, load time and memory.

The shipped semantic tagger (``semantic-1``) against the lexical tagger (``lexical-3``, the
baseline) in the same run. Speed, load and memory are measured in fresh processes pinned to one
core with one BLAS thread (``taskset -c 0``, ``OMP_NUM_THREADS=1``), tagging 200 fragments of
about 70 words (the fragments of the off-topic hour, as the bundled Whisper model heard them,
and the own evaluation lines joined to fragment length) in one batch, as the stage tags an
episode. Load is measured twice: cold (an empty models folder: the encoder's ready files and
the compiled taxonomy are built) and warm (they are there, as from the second episode on).

    .venv/bin/python benchmarks/tag.py          # writes benchmarks/results/tag.json and .md
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.core.taxonomy import DEFAULT_TAXONOMY, load_taxonomy_file  # noqa: E402
from pipeline.evaluation.segmentation import (  # noqa: E402
    evaluate_segmentation,
    read_segmentation_jsonl,
)
from pipeline.evaluation.tagging import (  # noqa: E402
    cross_validate,
    evaluate_tagging,
    read_tagging_jsonl,
    score,
)
from pipeline.tagging.lexicon import METHOD_VERSION as LEXICAL  # noqa: E402
from pipeline.tagging.lexicon import tag_text  # noqa: E402
from pipeline.tagging.semantic import method_version  # noqa: E402

DATA = ROOT / "tests" / "data"
SETS = {
    "own": DATA / "tagging-own.jsonl",
    "dev": ROOT.parent / "shared" / "eval" / "tagging-dev.jsonl",
    "extra": DATA / "tagging-extra.jsonl",
    "extra2": DATA / "tagging-extra2.jsonl",
    "offtopic_hour": DATA / "offtopic-hour.jsonl",
    "offtopic_rest": DATA / "offtopic-rest.jsonl",
    "offtopic_extra": DATA / "offtopic-extra.jsonl",
    "distractors": DATA / "distractors.jsonl",
}
SEG = DATA / "segmentation-dev.jsonl"
OUT = ROOT / "benchmarks" / "results"

CHILD = r"""
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
from pathlib import Path
kind, frag_file, models = sys.argv[1], sys.argv[2], sys.argv[3]
texts = json.loads(Path(frag_file).read_text())
from pipeline.core.taxonomy import DEFAULT_TAXONOMY, load_taxonomy_file
tax = load_taxonomy_file(DEFAULT_TAXONOMY)
if kind == "lexical":
    from pipeline.tagging.lexicon import compile_taxonomy, tag_text
    tagger = compile_taxonomy(tax)
    run = lambda xs: [tag_text(x, tagger) for x in xs]
else:
    from pipeline.tagging.semantic import SemanticTagger
    run = SemanticTagger.load(tax, Path(models)).tag_texts
load, load_cpu = time.perf_counter() - t0, time.process_time() - c0
run(texts[:5])
t, c = time.perf_counter(), time.process_time()
tagged = run(texts)
wall, cpu = time.perf_counter() - t, time.process_time() - c
status = Path("/proc/self/status").read_text()
rss = int(next(x for x in status.splitlines() if x.startswith("VmHWM")).split()[1]) / 1024
print(json.dumps({"load_s": round(load, 3), "load_cpu_s": round(load_cpu, 3),
    "fragments_per_s": round(len(texts) / wall, 1), "fragments_per_cpu_s": round(len(texts) / cpu, 1),
    "peak_rss_mb": round(rss, 1), "tagged": sum(1 for t in tagged if t)}))
"""


def read(path: Path):
    return read_tagging_jsonl(path.read_text(encoding="utf-8").splitlines(), path.name)


def fragments(n: int = 200, words: int = 70) -> list[str]:
    """The off-topic hour's fragments, then own lines joined to about ``words`` words."""
    out = [it.text for it in read(SETS["offtopic_hour"])]
    lines = [it.text for it in read(SETS["own"])]
    cur: list[str] = []
    k = 0
    while len(out) < n:
        cur.append(lines[k % len(lines)])
        k += 1
        if sum(len(c.split()) for c in cur) >= words:
            out.append(" ".join(cur))
            cur = []
    return out[:n]


def measure(kind: str, texts_file: Path, models: Path) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    env["PYTHONPATH"] = str(ROOT)
    cmd = [sys.executable, "-c", CHILD, kind, str(texts_file), str(models)]
    if os.path.exists("/usr/bin/taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(res.stdout.strip().splitlines()[-1])


def speed() -> dict:
    texts = fragments()
    with tempfile.TemporaryDirectory() as tmp:
        frag_file = Path(tmp) / "fragments.json"
        frag_file.write_text(json.dumps(texts, ensure_ascii=False))
        models = Path(tmp) / "models"
        lexical = measure("lexical", frag_file, models)
        cold = measure("semantic", frag_file, models)
        warm = [measure("semantic", frag_file, models) for _ in range(2)]
    best = max(warm, key=lambda r: r["fragments_per_cpu_s"])
    return {
        "fragments": len(texts),
        "fragment_words": round(sum(len(t.split()) for t in texts) / len(texts)),
        "lexical_baseline": lexical,
        "semantic_cold": cold,
        "semantic_warm": best,
        "semantic_vs_lexical_cpu": round(
            best["fragments_per_cpu_s"] / lexical["fragments_per_cpu_s"], 3
        ),
    }


def lexical_scores(items, tax) -> dict:
    return score(items, [tag_text(it.text, tax) for it in items], tax)


def quality(tax) -> dict:
    out: dict = {}
    for name, path in SETS.items():
        if not path.exists():
            continue
        items = read(path)
        row = {}
        for method, result in (
            ("semantic", evaluate_tagging(items, tax)),
            ("lexical", lexical_scores(items, tax)),
        ):
            row[method] = {"micro": result["micro"], "offtopic": result["offtopic"]["tagged"]}
        row["items"] = len(items)
        out[name] = row
    cv = cross_validate(read(SETS["own"]), tax, folds=5)
    out["own_cv5"] = {
        "semantic": {"micro": cv["micro"], "offtopic": cv["offtopic"]["tagged"]},
        "items": cv["items"],
    }
    return out


def _prf(m: dict) -> str:
    return f"{m['precision']:.3f} / {m['recall']:.3f} / {m['f1']:.3f}"


def markdown(result: dict) -> str:
    sp, q = result["speed"], result["quality"]
    lex, cold, warm = sp["lexical_baseline"], sp["semantic_cold"], sp["semantic_warm"]
    lines = [
        "# Tag benchmark",
        "",
        f"Method `{result['method']}` against the lexical baseline `{LEXICAL}`, taxonomy "
        f"`{result['taxonomy_version']}`. One core, one thread; {sp['fragments']} fragments of "
        f"~{sp['fragment_words']} words in one batch. Figures are per CPU second of the process "
        "(the machine is shared); wall-clock in brackets.",
        "",
        "| | semantic (shipped) | lexical (baseline) | target |",
        "|---|---|---|---|",
        f"| fragments/s, 1 core | {warm['fragments_per_cpu_s']:.0f} ({warm['fragments_per_s']:.0f}) "
        f"| {lex['fragments_per_cpu_s']:.0f} ({lex['fragments_per_s']:.0f}) | ≥ 100 |",
        f"| load, warm (ready files there) | {warm['load_cpu_s']:.2f} s ({warm['load_s']:.2f} s) "
        f"| {lex['load_cpu_s']:.2f} s ({lex['load_s']:.2f} s) | ≤ 2 s |",
        f"| load, cold (first use: builds them) | {cold['load_cpu_s']:.2f} s "
        f"({cold['load_s']:.2f} s) | – | |",
        f"| peak memory | {warm['peak_rss_mb']:.0f} MB | {lex['peak_rss_mb']:.0f} MB | ≤ 500 MB |",
        "",
        "| set (items) | semantic P / R / F1 | lexical P / R / F1 | off-topic items tagged "
        "(semantic / lexical) |",
        "|---|---|---|---|",
    ]
    for name, row in q.items():
        sem = row["semantic"]
        lx = row.get("lexical")
        lines.append(
            f"| {name} ({row.get('items', '')}) | {_prf(sem['micro'])} | "
            f"{_prf(lx['micro']) if lx else '–'} | {sem['offtopic']} / "
            f"{lx['offtopic'] if lx else '–'} |"
        )
    seg = result["segmentation"]
    lines += [
        "",
        f"Segmentation (`{SEG.name}`): Pk {seg['pk']:.3f}, WindowDiff {seg['window_diff']:.3f} "
        "(target Pk ≤ 0.25).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    tax = load_taxonomy_file(DEFAULT_TAXONOMY)
    seg = evaluate_segmentation(read_segmentation_jsonl(SEG.read_text().splitlines()), tax)
    result = {
        "method": method_version(),
        "taxonomy_version": tax.version,
        "cpu": "1 core (taskset -c 0), 1 BLAS thread; fragments per CPU second and per wall second",
        "speed": speed(),
        "quality": quality(tax),
        "segmentation": {"pk": seg["pk"], "window_diff": seg["window_diff"], "talks": seg["items"]},
        "targets": {"fragments_per_s": 100, "load_s": 2.0, "rss_mb": 500, "pk": 0.25},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tag.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    (OUT / "tag.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
