"""Build the segmentation dev set: synthetic talks made of topic blocks.

Recipe (documented in docs/evaluation.md): the one-line fragments of
``../shared/eval/tagging-dev.jsonl`` and ``tests/data/tagging-extra.jsonl`` are pooled by topic:
the vlinder of their first ingredient, "techniek" (untagged lines about the dike, planning,
permits) or "huishoudelijk" (welcome, coffee, traffic, the next speaker). Each talk opens with
housekeeping half of the time, then alternates 3 to 5 blocks of 4 to 6 lines, a vlinder block
never next to a block of the same topic, engineering blocks in between. Each line becomes one
transcript segment of (words / 2.4) seconds. The reference chapters are the topic blocks.

    .venv/bin/python scripts/make_segmentation_dev.py > tests/data/segmentation-dev.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [
    ROOT.parent / "shared" / "eval" / "tagging-dev.jsonl",
    ROOT / "tests" / "data" / "tagging-extra.jsonl",
]
HOUSEKEEPING = (
    "goedemorgen",
    "koffie",
    "telefoon",
    "file",
    "woord aan",
    "lunch is",
    "trein",
    "weer vandaag",
)
VLINDER = {
    "kennis-actief-delen": "klompje-goud",
    "leren-tijdens-project": "klompje-goud",
    "samen-optrekken": "klompje-goud",
    "een-team": "vertrouwen-winnen",
    "principes-toepassen": "vertrouwen-winnen",
    "risico-en-winst-delen": "vertrouwen-winnen",
    "transparantie-aanspreekbaarheid": "vertrouwen-winnen",
    "autonomie-binnen-kaders": "vertrouwen-winnen",
    "sociale-binding": "vertrouwen-winnen",
}


def topic(row: dict) -> str:
    if row["ingredients"]:
        return VLINDER.get(row["ingredients"][0], "ja-durven-zeggen")
    text = row["text"].lower()
    return "huishoudelijk" if any(h in text for h in HOUSEKEEPING) else "techniek"


def main(talks: int = 12, seed: int = 4) -> None:
    rng = random.Random(seed)
    pools: dict[str, list[str]] = {}
    for path in SOURCES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                pools.setdefault(topic(row), []).append(row["text"])
    vlinders = ["klompje-goud", "vertrouwen-winnen", "ja-durven-zeggen"]
    for n in range(1, talks + 1):
        blocks: list[str] = []
        if rng.random() < 0.5:
            blocks.append("huishoudelijk")
        for b in range(rng.randint(3, 5)):
            options = [v for v in vlinders if not blocks or v != blocks[-1]]
            blocks.append(rng.choice(options) if b % 2 == 0 else "techniek")
        segments, t = [], 0.0
        used: set[str] = set()
        for label in blocks:
            pool = [x for x in pools[label] if x not in used]
            size = 3 if label == "huishoudelijk" else rng.randint(4, 6)
            for text in rng.sample(pool, min(size, len(pool))):
                used.add(text)
                dur = round(len(text.split()) / 2.4, 2)
                segments.append(
                    {"start": round(t, 2), "end": round(t + dur, 2), "text": text, "topic": label}
                )
                t += dur + 0.4
        sys.stdout.write(
            json.dumps({"id": f"talk{n:02d}", "segments": segments}, ensure_ascii=False) + "\n"
        )


if __name__ == "__main__":
    main()
