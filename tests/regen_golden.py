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

from pipeline.feed import publish  # noqa: E402

GOLDEN_FILES = (
    "feeds/podcast.xml",
    "feeds/vertrouwen-winnen.xml",
    "feeds/chapters/een-team-zonder-wij-zij.json",
)


def regen(golden_dir: Path = GOLDEN_DIR) -> list[Path]:
    """Rewrite the golden feed files in ``golden_dir``, and nothing else there (the site's
    golden pages in ``golden/site/`` belong to ``tests/site_sample.py``)."""
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_sample_workspace(Path(tmp) / "ws")
        publish(ws, fragments=sample_fragments, vlinders=VLINDERS)
        for rel in GOLDEN_FILES:
            target = golden_dir / Path(rel).name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ws.root / rel, target)
            written.append(target)
    return written


def main() -> None:
    for target in regen():
        shown = target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target
        print(f"geschreven: {shown}")


if __name__ == "__main__":
    main()
