"""Search latency at 10, 100 and 1,000 hours of transcripts (issue 6).

Builds synthetic catalogues of Dutch-ish fragments (sentences of the seed text, the eval
fragments and generated off-topic talk, with words swapped in from a Zipf-like vocabulary so
the vocabulary grows with the corpus), one fragment per 40 s of audio, and measures:

* ``search()``: the full query path of ``vlinder search`` in a warm process (analysis, every
  FTS5 variant query, scoring, ingredient boost, rows and snippets), p50/p95 over a set of
  typed queries;
* a bare baseline in the same run: one FTS5 ``MATCH`` on the raw text with ``ORDER BY rank
  LIMIT 10`` for the same words, OR-ed;
* the CLI end to end (``vlinder search`` in a new process: start-up, imports, the word
  analyses the catalogue keeps, query), p50 over a few runs at each size, with a bare
  ``python -c pass`` as the start-up baseline and whether the process had to load the lemma or
  frequency tables (it should not: they load only for words the catalogue does not know).

Writes ``benchmarks/results/search.json`` and ``search.md``.
Run: ``.venv/bin/python benchmarks/search.py [--hours 10 100 1000] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.catalogue import Catalogue  # noqa: E402
from pipeline.core.models import Episode, Fragment, Tag  # noqa: E402
from pipeline.core.taxonomy import load_taxonomy  # noqa: E402
from pipeline.core.text import sentences  # noqa: E402
from pipeline.search import Searcher, SearchOptions, index  # noqa: E402

SEEDS = ROOT.parent / "shared" / "seeds"
EVAL = ROOT.parent / "shared" / "eval" / "tagging-dev.jsonl"
RESULTS = ROOT / "benchmarks" / "results"
FRAGMENT_SECONDS = 40
FRAGMENTS_PER_EPISODE = 90  # one hour

QUERIES = [
    "hoe deelden ze risico's",
    "frietkar",
    "natuur compensatie",
    "toernooi",
    "moed",
    "samen eten",
    "kennis delen met de sector",
    "leergroepen",
    "het gesprek kwam weer op gang",
    "symposium",
    "geen wij-zij",
    "zelf beslissen",
    "damwand bij de sluis",
    "omleiding voor fietsers",
    "problemen niet verstoppen",
    "kostprijs",
]


def _sentence_pool() -> list[str]:
    pool: list[str] = []
    for path in sorted(SEEDS.glob("*.txt")):
        text = re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))
        pool.extend(s for s in sentences(text) if len(s.split()) >= 5)
    if EVAL.exists():
        for line in EVAL.read_text(encoding="utf-8").splitlines():
            pool.extend(sentences(json.loads(line)["text"]))
    sys.path.insert(0, str(ROOT / "tests" / "data"))
    from make_distractors import lines  # type: ignore[import-not-found]

    for line in lines(3000, seed=11):
        pool.extend(sentences(line))
    return sorted(set(pool))


def _vocabulary(pool: list[str], rng: random.Random, size: int = 40_000) -> list[str]:
    """Real words of the pool plus made-up Dutch-looking words (compounds of real ones)."""
    real = sorted({w for s in pool for w in re.findall(r"[a-zà-ÿ]{4,}", s.lower())})
    made = [rng.choice(real) + rng.choice(real) for _ in range(size)]
    return real + made


def _fragment_text(pool: list[str], vocab: list[str], rng: random.Random) -> str:
    text = " ".join(rng.choice(pool) for _ in range(rng.randint(2, 4)))
    words = text.split()
    for _ in range(max(1, len(words) // 12)):  # swap in rarer words (Zipf-like)
        i = rng.randrange(len(words))
        words[i] = (
            vocab[min(int(rng.paretovariate(0.8)) - 1, len(vocab) - 1)]
            if rng.random() < 0.5
            else rng.choice(vocab)
        )
    return " ".join(words)


def build(path: Path, hours: int, seed: int = 1) -> float:
    """A catalogue with ``hours`` one-hour episodes; returns the seconds it took."""
    rng = random.Random(seed)
    pool = _sentence_pool()
    vocab = _vocabulary(pool, rng)
    ingredients = load_taxonomy().ingredient_ids
    started = time.perf_counter()
    cat = Catalogue(path)
    try:
        for e in range(hours):
            slug = f"ep{e:04d}"
            cat.upsert_episode(
                Episode(
                    slug=slug,
                    title=f"Aflevering {e}",
                    date=dt.date(2020, 1, 1) + dt.timedelta(days=e),
                    guid=slug,
                    speakers=(f"Spreker {e % 37}",),
                )
            )
            frags = []
            for i in range(FRAGMENTS_PER_EPISODE):
                tags = ()
                if rng.random() < 0.15:
                    tags = (Tag(rng.choice(ingredients), round(rng.uniform(0.5, 1), 2)),)
                frags.append(
                    Fragment(
                        index=i,
                        start=float(i * FRAGMENT_SECONDS),
                        end=float((i + 1) * FRAGMENT_SECONDS),
                        text=_fragment_text(pool, vocab, rng),
                        tags=tags,
                    )
                )
            cat.replace_fragments(slug, [], frags)
        index(cat)
    finally:
        cat.close()
    return time.perf_counter() - started


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _bare_query(q: str) -> str:
    words = re.findall(r"[0-9a-zà-ÿ]+", q.lower())
    return " OR ".join(f'"{w}"' for w in words) or '""'


def measure(path: Path, repeat: int, cli_runs: int) -> dict[str, object]:
    # one Searcher for the whole run, as a server keeps one: its word analyses and the
    # taxonomy's keys are made once (a `vlinder search` process is the CLI column)
    searcher = Searcher(load_taxonomy())
    cat = Catalogue(path)
    try:
        fragments = cat.search_count()
        for q in QUERIES:  # warm up: word tables, page cache
            searcher.search(cat, q, SearchOptions(limit=10))
        ours, bare = [], []
        for _ in range(repeat):
            for q in QUERIES:
                t = time.perf_counter()
                searcher.search(cat, q, SearchOptions(limit=10))
                ours.append(time.perf_counter() - t)
                t = time.perf_counter()
                cat.query(
                    "SELECT rowid, snippet(fragments_fts, 0, '[', ']', '…', 20) FROM fragments_fts"
                    " WHERE fragments_fts MATCH ? ORDER BY rank LIMIT 10",
                    ("{text} : (" + _bare_query(q) + ")",),
                )
                bare.append(time.perf_counter() - t)
    finally:
        cat.close()
    cli, bare_python = [], []
    ws = path.parent
    env = {**os.environ, "VLINDER_WORKSPACE": str(ws)}
    for n in range(cli_runs):
        q = QUERIES[n % len(QUERIES)]
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pipeline", "search", q, "-n", "10"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        cli.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare_python.append(time.perf_counter() - t)
    probe = subprocess.run(
        [sys.executable, "-c", _TABLES_PROBE, *QUERIES],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return {
        "fragments": fragments,
        "search_ms": {
            "p50": round(_pct(ours, 0.5) * 1000, 2),
            "p95": round(_pct(ours, 0.95) * 1000, 2),
        },
        "bare_fts_ms": {
            "p50": round(_pct(bare, 0.5) * 1000, 2),
            "p95": round(_pct(bare, 0.95) * 1000, 2),
        },
        "ratio_p50": round(_pct(ours, 0.5) / max(_pct(bare, 0.5), 1e-9), 1),
        "cli_ms_p50": round(statistics.median(cli) * 1000, 1) if cli else None,
        "python_startup_ms_p50": (
            round(statistics.median(bare_python) * 1000, 1) if bare_python else None
        ),
        "cli_loads_word_tables": probe.stdout.strip().splitlines()[-1] == "True",
        "db_mb": round(path.stat().st_size / 1e6, 1),
    }


# every benchmark query in one new process: did any of them load the lemma/frequency tables?
_TABLES_PROBE = """
import sys
from pipeline.cli import cli
for q in sys.argv[1:]:
    cli(["search", q, "-n", "10"], prog_name="vlinder", standalone_mode=False)
from pipeline.search.words import tables_loaded
print(tables_loaded())
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cli-runs", type=int, default=5)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="vlinder-bench-search-") as tmp:
        for hours in args.hours:
            ws = Path(tmp) / f"h{hours}"
            ws.mkdir()
            (ws / "vlinder.toml").write_text("", encoding="utf-8")
            path = ws / "catalogue.db"
            build_s = build(path, hours)
            row = {
                "hours": hours,
                "build_s": round(build_s, 1),
                **measure(path, args.repeat, args.cli_runs),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    first, last = rows[0], rows[-1]
    growth = {
        "hours_factor": last["hours"] / first["hours"],
        "search_p50_factor": round(last["search_ms"]["p50"] / first["search_ms"]["p50"], 2),
        "search_p95_factor": round(last["search_ms"]["p95"] / first["search_ms"]["p95"], 2),
    }
    growth["sublinear"] = growth["search_p95_factor"] < growth["hours_factor"]
    out = {
        "benchmark": "search",
        "date": dt.date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores (shared with other jobs)",
        "queries": QUERIES,
        "fragment_seconds": FRAGMENT_SECONDS,
        "sizes": rows,
        "growth": growth,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "search.json").write_text(
        json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    md = [
        "# Search latency (`benchmarks/search.py`)",
        "",
        f"Synthetic catalogues, one fragment per {FRAGMENT_SECONDS} s, {len(QUERIES)} typed queries x"
        f" {args.repeat}. `search` = the whole `vlinder search` query path in a warm process;"
        " `bare FTS5` = one MATCH on the raw text (baseline, same run); `CLI` = a new"
        " `vlinder search` process end to end (cold: start-up, imports, query), next to a bare"
        " `python -c pass`; `tables` = whether any query in a new process loaded the lemma or"
        " frequency tables. The ranking is exact: common weaker variants are only scored for"
        " the candidates when a bound proves the results cannot change (same hits and scores as"
        " scoring every variant everywhere; `tests/test_search.py`).",
        "",
        "| hours | fragments | search p50 | search p95 | bare FTS5 p50 | ratio | CLI p50"
        " | python p50 | tables | db |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        md.append(
            f"| {r['hours']} | {r['fragments']} | {r['search_ms']['p50']} ms | {r['search_ms']['p95']} ms"
            f" | {r['bare_fts_ms']['p50']} ms | {r['ratio_p50']}x | {r['cli_ms_p50']} ms"
            f" | {r['python_startup_ms_p50']} ms | {'yes' if r['cli_loads_word_tables'] else 'no'}"
            f" | {r['db_mb']} MB |"
        )
    md += [
        "",
        f"{growth['hours_factor']:.0f}x the hours: p50 x{growth['search_p50_factor']},"
        f" p95 x{growth['search_p95_factor']} ({'sublinear' if growth['sublinear'] else 'NOT sublinear'}).",
        "",
    ]
    (RESULTS / "search.md").write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
