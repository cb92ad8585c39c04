"""Build a conversation of N voices (a panel) from the Fish Fillets NG voice acting, with true turns.

usage: python3 make_panel.py OUTDIR SECONDS SEED VOICE [VOICE ...]
  VOICE: LANG:FISH, e.g. cs:m (Czech small fish), cs:v (Czech big fish), nl:v (Dutch big fish)
  env GAP="0.25,0.7": range of the silence between turns (uniform); "0.05,0.3" for a faster panel
  env STAY=0.3: chance that the same voice goes on with its next line
  env DEB_DIR: where the .deb packages are (downloaded with apt-get download when missing)
-> OUTDIR/dialogue.wav (16 kHz mono), dialogue.rttm, dialogue.jsonl (start, end, speaker, text)
Lines of each voice are taken in game order; the order of voices is random (seeded).
Needs apt-get download, dpkg-deb and sox (as make_dialogue.py)."""

import glob
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

out, maxs, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
voices = sys.argv[4:]
rng = random.Random(seed)
gap_lo, gap_hi = (float(x) for x in os.environ.get("GAP", "0.25,0.7").split(","))
stay = float(os.environ.get("STAY", "0.3"))
deb = os.environ.get("DEB_DIR") or os.path.join(out, "deb")
os.makedirs(deb, exist_ok=True)
os.makedirs(out, exist_ok=True)
langs = sorted({v.split(":")[0] for v in voices})
pkgs = {"fillets-ng-data": "base", **{f"fillets-ng-data-{lang}": lang for lang in langs}}
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
ids = re.compile(r'dialogId\("([^"]+)"')
text_re = re.compile(
    r'dialogId\("([^"]+)",\s*"[^"]*",\s*"(?:[^"\\]|\\.)*"\)\s*dialogStr\("((?:[^"\\]|\\.)*)"\)',
    re.S,
)


def duration(path):
    return float(subprocess.run(["soxi", "-D", path], capture_output=True, text=True).stdout or 0)


def lines_of(lang, fish):
    """(ogg path, text) of one voice, in game order."""
    snd = f"{deb}/{lang}/usr/share/games/fillets-ng/sound"
    found = []
    for level_dir in sorted(glob.glob(f"{SCRIPT}/*/")):
        level = os.path.basename(level_dir.rstrip("/"))
        if not os.path.exists(f"{level_dir}/dialogs_en.lua"):
            continue
        order = ids.findall(
            Path(f"{level_dir}/dialogs_en.lua").read_text(encoding="utf-8", errors="replace")
        )
        loc = f"{level_dir}/dialogs_{lang}.lua"
        texts = (
            dict(text_re.findall(Path(loc).read_text(encoding="utf-8", errors="replace")))
            if os.path.exists(loc)
            else {}
        )
        for did in order:
            m = re.match(r"^[^-]+-([mv])-", did)
            ogg = f"{snd}/{level}/{lang}/{did}.ogg"
            if m and m.group(1) == fish and os.path.exists(ogg):
                found.append((ogg, texts.get(did, "")))
    return found


pools = {v: lines_of(*v.split(":")) for v in voices}
pos = {v: 0 for v in voices}
turns, parts, t, current = [], [], 0.0, None
while t < maxs - 1.0:
    if current is None or rng.random() >= stay:
        current = rng.choice([v for v in voices if v != current])
    if pos[current] >= len(pools[current]):
        break
    ogg, text = pools[current][pos[current]]
    pos[current] += 1
    if duration(ogg) < 1.0:
        continue
    p = os.path.join(out, f"part{len(parts):05d}.wav")
    subprocess.run(
        ["sox", "-G", ogg, "-r", "16000", "-c", "1", p], check=True, stderr=subprocess.DEVNULL
    )
    d = duration(p)
    if t + d > maxs:
        os.remove(p)
        break
    turns.append(
        {
            "start": round(t, 3),
            "end": round(t + d, 3),
            "speaker": current.replace(":", "-"),
            "text": text,
        }
    )
    gap = round(rng.uniform(gap_lo, gap_hi), 3)
    g = os.path.join(out, f"part{len(parts):05d}g.wav")
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", g, "trim", "0", str(gap)], check=True)
    parts += [p, g]
    t += d + gap
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
print(
    f"{len(turns)} turns, {changes} speaker changes, {len({x['speaker'] for x in turns})} voices, {t:.0f} s"
)
