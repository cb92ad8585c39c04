"""Benchmark of the site stage: ``.venv/bin/python benchmarks/site.py [--episodes N]``.

A synthetic workspace of N (default 200) one-hour episodes: transcripts with word timings,
~120 tagged fragments and 6 chapters each, a tiny silent MP3 each (the audio is not the point).
Measures, in one run:

- the full build (empty site/, no manifest): time, pages, size of the search index;
- a rebuild with nothing changed;
- a rebuild after adding one episode, as a ratio of the full build (target <= 0.2);
- the first search in a real browser (Debian chromium via Playwright): bytes downloaded from
  opening the search page to the results of the first query (target <= 500 kB).

Writes ``benchmarks/results/site.json`` and ``site.md``. The CLI search latency is measured by
``benchmarks/search.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.core.episodes import save_episode  # noqa: E402
from pipeline.core.models import Chapter, Episode, Fragment, Segment, Tag, Transcript, Word  # noqa: E402
from pipeline.core.taxonomy import load_taxonomy  # noqa: E402
from pipeline.core.workspace import Workspace, atomic_write_text  # noqa: E402
from pipeline.flows import init as init_workspace  # noqa: E402
from pipeline.service.messages import site_lines  # noqa: E402
from pipeline.site import build  # noqa: E402
from pipeline.tagging.store import tags_data  # noqa: E402
from pipeline.transcribe.store import write_transcript  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SEED = ROOT.parent / "shared" / "seeds"
HOUR = 3600.0
SEGMENT = 6.0  # seconds per transcript segment
FRAGMENT = 30.0  # seconds per fragment
_FRAME = bytes([0xFF, 0xFB, 0x90, 0xC4]) + bytes(413)
EXTRA = [
    "de",
    "dijk",
    "wordt",
    "versterkt",
    "met",
    "een",
    "steunberm",
    "en",
    "de",
    "aannemer",
    "werkt",
    "samen",
    "met",
    "het",
    "waterschap",
    "in",
    "de",
    "alliantie",
    "over",
    "risico's",
    "vertrouwen",
    "planning",
    "vergunningen",
    "bewoners",
    "frietkar",
    "lunch",
    "symposium",
    "leergroep",
    "bestuurder",
    "besluit",
    "natuurcompensatie",
    "Heuff-terrein",
    "kennis",
    "delen",
]


def vocabulary() -> list[str]:
    words: list[str] = []
    for path in sorted(SEED.glob("*.txt")):
        words += re.findall(r"[A-Za-zÀ-ÿ'’-]+", path.read_text(encoding="utf-8"))
    return [w for w in words if len(w) > 1] + EXTRA * 5


def make_episode(
    ws: Workspace, n: int, rng: random.Random, vocab: list[str], ingredients: list[str]
) -> None:
    slug = f"aflevering-{n:04d}"
    audio = ws.episode_dir(slug) / f"{slug}.mp3"
    audio.parent.mkdir(parents=True, exist_ok=True)
    audio.write_bytes(_FRAME * 40)
    save_episode(
        ws,
        Episode(
            slug=slug,
            title=f"Aflevering {n}: {' '.join(rng.sample(vocab, 4))}",
            date=__import__("datetime").date(2020, 1, 1) + __import__("datetime").timedelta(days=n),
            guid=f"urn:uuid:bench-{n}",
            speakers=(f"Spreker {n % 37}", f"Gast {n % 11}"),
            description=" ".join(rng.choices(vocab, k=40)),
            duration=HOUR,
            audio_file=audio.name,
            audio_bytes=len(_FRAME) * 40,
            created=f"2025-01-01T00:00:{n:04d}",
        ),
    )
    segments = []
    for i in range(int(HOUR / SEGMENT)):
        start = i * SEGMENT
        words = rng.choices(vocab, k=16)
        step = SEGMENT / len(words)
        segments.append(
            Segment(
                i,
                start,
                start + SEGMENT,
                " ".join(words) + ".",
                tuple(
                    Word(start + k * step, start + (k + 1) * step, w) for k, w in enumerate(words)
                ),
            )
        )
    write_transcript(ws, slug, Transcript("nl", tuple(segments), engine="bench", duration=HOUR))
    per = int(FRAGMENT / SEGMENT)
    fragments = []
    for i in range(int(HOUR / FRAGMENT)):
        segs = segments[i * per : (i + 1) * per]
        tags = ()
        if rng.random() < 0.3:
            tags = tuple(
                Tag(ing, 1.0, ("bench",)) for ing in rng.sample(ingredients, rng.choice((1, 1, 2)))
            )
        fragments.append(
            Fragment(
                i,
                segs[0].start,
                segs[-1].end,
                " ".join(s.text for s in segs),
                tags,
                i * 6 // int(HOUR / FRAGMENT),
            )
        )
    chapters = [
        Chapter(c, c * HOUR / 6, (c + 1) * HOUR / 6, f"Hoofdstuk {c + 1}: {rng.choice(vocab)}")
        for c in range(6)
    ]
    atomic_write_text(
        ws.transcript_path(slug, "tags.json"),
        json.dumps(tags_data(slug, "bench", chapters, fragments), ensure_ascii=False),
    )


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def first_search_bytes(ws: Workspace, query: str) -> dict[str, object]:
    """Bytes the browser downloads from opening /zoeken/ to the first results."""
    try:
        import uvicorn
        from playwright.sync_api import sync_playwright

        from pipeline.service.server import create_app
    except ImportError as exc:
        return {"error": f"not measured: {exc}"}
    if not Path("/usr/bin/chromium").exists():
        return {"error": "not measured: no /usr/bin/chromium"}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(ws), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
            page = browser.new_page()
            sizes: dict[str, int] = {}
            page.on(
                "requestfinished", lambda r: sizes.__setitem__(r.url, r.sizes()["responseBodySize"])
            )
            t0 = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/zoeken/")
            page.locator(".pagefind-ui__search-input").fill(query)
            page.locator(".pagefind-ui__result").first.wait_for(timeout=60000)
            page.wait_for_load_state("networkidle")
            elapsed = time.perf_counter() - t0
            results = page.locator(".pagefind-ui__result").count()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(10)
    search = {u: b for u, b in sizes.items() if "/pagefind/" in u}
    return {
        "query": query,
        "total_bytes": sum(sizes.values()),
        "pagefind_bytes": sum(search.values()),
        "requests": len(sizes),
        "results_shown": results,
        "seconds": round(elapsed, 2),
        "largest": sorted(
            ((b, u.split("/pagefind/")[-1]) for u, b in search.items()), reverse=True
        )[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    args = parser.parse_args()
    rng = random.Random(7)
    vocab = vocabulary()
    tmp = Path(tempfile.mkdtemp(prefix="vlinder-site-bench-"))
    root = args.keep or tmp / "ws"
    try:
        if root.exists():
            shutil.rmtree(root)
        ws = init_workspace(root)
        ingredients = list(load_taxonomy(ws).ingredient_ids)
        t0 = time.perf_counter()
        for n in range(args.episodes):
            make_episode(ws, n, rng, vocab, ingredients)
        made = time.perf_counter() - t0
        print(f"workspace: {args.episodes} episodes in {made:.1f} s", flush=True)

        t0 = time.perf_counter()
        lines = site_lines(build(ws))
        full = time.perf_counter() - t0
        print(f"full build: {full:.1f} s: {lines}", flush=True)
        pages = sum(1 for p in ws.site_dir.rglob("*.html") if "pagefind" not in p.parts)
        index_bytes = dir_bytes(ws.site_dir / "pagefind")
        html_bytes = sum(
            p.stat().st_size for p in ws.site_dir.rglob("*.html") if "pagefind" not in p.parts
        )

        t0 = time.perf_counter()
        noop_lines = site_lines(build(ws))
        noop = time.perf_counter() - t0
        print(f"no-op rebuild: {noop:.1f} s: {noop_lines}", flush=True)

        make_episode(ws, args.episodes, rng, vocab, ingredients)
        t0 = time.perf_counter()
        add_lines = site_lines(build(ws))
        add = time.perf_counter() - t0
        print(f"rebuild after adding one: {add:.1f} s: {add_lines}", flush=True)

        browser = first_search_bytes(ws, "alliantie")
        print(f"first search: {browser}", flush=True)

        result = {
            "episodes": args.episodes,
            "hours_of_audio": args.episodes * HOUR / 3600,
            "fragments_per_episode": int(HOUR / FRAGMENT),
            "pages": pages,
            "html_bytes": html_bytes,
            "full_build_s": round(full, 2),
            "noop_rebuild_s": round(noop, 2),
            "add_one_rebuild_s": round(add, 2),
            "add_one_ratio": round(add / full, 3),
            "add_one_target": 0.2,
            "search_index_bytes": index_bytes,
            "full_build_lines": lines,
            "add_one_lines": add_lines,
            "first_search": browser,
            "first_search_target_bytes": 500_000,
        }
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "site.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
        fs = browser.get("total_bytes")
        md = [
            "# Site benchmark",
            "",
            f"Synthetic workspace: {args.episodes} one-hour episodes, {int(HOUR / FRAGMENT)} fragments each "
            "(~30 % tagged), transcripts with word timings. Run: `.venv/bin/python benchmarks/site.py`.",
            "",
            "| measure | value | target |",
            "|---|---|---|",
            f"| full build | {full:.1f} s ({pages} pages, {html_bytes / 1e6:.0f} MB HTML) | |",
            f"| search index (Pagefind, all shards) | {index_bytes / 1e6:.1f} MB | |",
            f"| rebuild, nothing changed | {noop:.1f} s ({noop / full:.2f}x) | |",
            f"| rebuild after adding one episode | {add:.1f} s (**{add / full:.2f}x** the full build) | <= 0.2x |",
            f"| first search in the browser | {fs / 1000:.0f} kB in {browser.get('requests')} requests |"
            " <= 500 kB |"
            if isinstance(fs, int)
            else f"| first search in the browser | {browser} | <= 500 kB |",
            "",
        ]
        (RESULTS / "site.md").write_text("\n".join(md))
        print("\n".join(md))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
