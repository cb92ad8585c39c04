"""Regenerate the golden feed files: ``.venv/bin/python -m tests.regen_golden``.

Only run this on purpose, after a change to the feed that you have reviewed; then look at the
diff of ``tests/golden/`` before committing. ``tests/test_feed.py::test_golden_feed`` compares
a fresh build of the sample workspace (``tests/feed_sample.py``) with these files.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from feed_sample import GOLDEN_DIR, VLINDERS, make_sample_workspace, sample_fragments  # noqa: E402

from pipeline.feed import build_feeds  # noqa: E402

GOLDEN_FILES = (
    "feeds/podcast.xml",
    "feeds/vertrouwen-winnen.xml",
    "feeds/chapters/een-team-zonder-wij-zij.json",
)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_sample_workspace(Path(tmp) / "ws")
        build_feeds(ws, fragments=sample_fragments, vlinders=VLINDERS)
        if GOLDEN_DIR.exists():
            shutil.rmtree(GOLDEN_DIR)
        for rel in GOLDEN_FILES:
            target = GOLDEN_DIR / Path(rel).name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ws.root / rel, target)
            print(
                f"geschreven: {target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}"
            )


if __name__ == "__main__":
    main()
