"""Build a two-speaker dialogue of real speech, with the true speaker turns, from the voice acting of the game
Fish Fillets NG (Debian packages fillets-ng-data-cs + fillets-ng-data). Its two fish are voiced by two actors;
a line's file name says who speaks: LEVEL-m-* the small fish, LEVEL-v-* the big fish.

usage: python3 make_dialogue.py OUTDIR [SECONDS] [SEED] [LANG]
  LANG: cs (default, as the shared script), nl, ... (fillets-ng-data-LANG); DEB_DIR env: shared download dir
  SKIP env: seconds of the game's dialogue to skip first (another stretch of the same voices)
  -> OUTDIR/dialogue.wav (16 kHz mono), OUTDIR/dialogue.rttm (true turns), OUTDIR/dialogue.jsonl (turns + text)
Needs apt-get download, dpkg-deb and sox."""

import glob
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

out = sys.argv[1]
lang = sys.argv[4] if len(sys.argv) > 4 else "cs"
skip = float(os.environ.get("SKIP", "0"))
skipped = 0.0  # the Czech voice acting: two speakers, any language serves speaker models
maxs = float(sys.argv[2]) if len(sys.argv) > 2 else 300
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
deb = os.environ.get("DEB_DIR") or os.path.join(out, "deb")
os.makedirs(deb, exist_ok=True)
os.makedirs(out, exist_ok=True)
pkgs = {f"fillets-ng-data-{lang}": lang, "fillets-ng-data": "base"}
for name, sub in pkgs.items():
    if not glob.glob(f"{deb}/{name}_*.deb"):
        subprocess.run(
            ["apt-get", "download", name], cwd=deb, check=True, stdout=subprocess.DEVNULL
        )
    if not os.path.isdir(f"{deb}/{sub}"):
        subprocess.run(
            ["dpkg-deb", "-x", glob.glob(f"{deb}/{name}_*.deb")[0], f"{deb}/{sub}"], check=True
        )
SCRIPT = f"{deb}/base/usr/share/games/fillets-ng/script"
SND = f"{deb}/{lang}/usr/share/games/fillets-ng/sound"
ids = re.compile(r'dialogId\("([^"]+)"')
text_re = re.compile(
    r'dialogId\("([^"]+)",\s*"[^"]*",\s*"(?:[^"\\]|\\.)*"\)\s*dialogStr\("((?:[^"\\]|\\.)*)"\)',
    re.S,
)
SPEAKER = {"m": "small", "v": "big"}


def duration(path):
    return float(subprocess.run(["soxi", "-D", path], capture_output=True, text=True).stdout or 0)


turns, parts, t = [], [], 0.0
for level_dir in sorted(glob.glob(f"{SCRIPT}/*/")):
    level = os.path.basename(level_dir.rstrip("/"))
    if not os.path.exists(f"{level_dir}/dialogs_en.lua"):
        continue
    order = ids.findall(
        Path(f"{level_dir}/dialogs_en.lua").read_text(encoding="utf-8", errors="replace")
    )
    texts = {}
    loc = f"{level_dir}/dialogs_{lang}.lua"
    if os.path.exists(loc):
        texts = dict(text_re.findall(Path(loc).read_text(encoding="utf-8", errors="replace")))
    for did in order:
        m = re.match(r"^[^-]+-([mv])-", did)
        ogg = f"{SND}/{level}/{lang}/{did}.ogg"
        if not m or not os.path.exists(ogg):
            continue
        d = duration(ogg)
        if d < 1.0:
            continue
        if skipped < skip:
            skipped += d
            continue
        if t + d > maxs:
            break
        p = os.path.join(out, f"part{len(parts):05d}.wav")
        subprocess.run(["sox", "-G", ogg, "-r", "16000", "-c", "1", p], check=True)
        d = duration(p)
        turns.append(
            {
                "start": round(t, 3),
                "end": round(t + d, 3),
                "speaker": SPEAKER[m.group(1)],
                "text": texts.get(did, ""),
            }
        )
        gap = round(rng.uniform(0.25, 0.7), 3)
        g = os.path.join(out, f"part{len(parts):05d}g.wav")
        subprocess.run(
            ["sox", "-n", "-r", "16000", "-c", "1", g, "trim", "0", str(gap)], check=True
        )
        parts += [p, g]
        t += d + gap
    if t >= maxs - 1.0:
        break
subprocess.run(["sox", *parts, os.path.join(out, "dialogue.wav")], check=True)
for p in parts:
    os.remove(p)
with open(os.path.join(out, "dialogue.rttm"), "w") as f:
    for x in turns:
        f.write(
            f"SPEAKER dialogue 1 {x['start']:.3f} {x['end'] - x['start']:.3f} <NA> <NA> {x['speaker']} <NA> <NA>\n"
        )
with open(os.path.join(out, "dialogue.jsonl"), "w") as f:
    for x in turns:
        f.write(json.dumps(x, ensure_ascii=False) + "\n")
changes = sum(1 for a, b in zip(turns, turns[1:], strict=False) if a["speaker"] != b["speaker"])
print(f"{len(turns)} turns, {changes} speaker changes, {t:.0f} s")
