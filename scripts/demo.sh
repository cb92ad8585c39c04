#!/usr/bin/env bash
# The demo (README command 1): set up everything, add the bundled sample recordings as
# episodes, build the feeds and the site, and serve the site on localhost.
#
#   bash scripts/demo.sh                 # into the default workspace (the repository root)
#   bash scripts/demo.sh --no-serve      # stop after building
#   VLINDER_WORKSPACE=/tmp/demo bash scripts/demo.sh
#   bash scripts/demo.sh --port 8080
#
# Each clip in samples/samples.toml is added with its metadata and its exact transcript
# (samples/<name>.vtt), as a producer with corrected transcripts would; the clip marked
# demo_whisper = true is transcribed by Whisper instead, to show the engine. Running the demo
# again is safe: clips that are already episodes are skipped.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=${VLINDER_VENV:-$ROOT/.venv}
SERVE=1
PORT=""
while (($#)); do
  case $1 in
    --no-serve) SERVE=0 ;;
    --port) PORT=${2:?--port heeft een poortnummer nodig}; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "demo.sh: onbekende optie $1" >&2; exit 2 ;;
  esac
  shift
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

bash scripts/setup.sh

WORKSPACE=${VLINDER_WORKSPACE:-$ROOT}
export VLINDER_WORKSPACE=$WORKSPACE
vlinder() { "$VENV/bin/vlinder" "$@"; }

if [[ ! -f $WORKSPACE/vlinder.toml ]]; then
  say "nieuwe werkruimte in $WORKSPACE"
  vlinder init "$WORKSPACE"
fi

# One line per clip: its name, how it gets a transcript (vtt|whisper), the slug of the episode
# it already is in the workspace (or -), and the shell-quoted arguments for `vlinder add`.
clip_lines() {
  "$VENV/bin/python" - "$ROOT/samples" <<'PY'
import shlex
import sys
import tomllib
from pathlib import Path

samples = Path(sys.argv[1])


def existing_slug(path: Path) -> str:
    try:
        from pipeline.audio import sha256_file
        from pipeline.ingest import find_duplicate
        from pipeline.workspace import resolve_workspace

        return find_duplicate(resolve_workspace(), sha256_file(path)) or "-"
    except Exception:  # an older or newer core: `vlinder add` itself reports duplicates
        return "-"


for clip in tomllib.loads((samples / "samples.toml").read_text("utf-8"))["clips"]:
    whisper = bool(clip.get("demo_whisper", False))
    args = [str(samples / clip["file"]), "--title", clip["title"], "--date", clip["date"]]
    for speaker in clip["speakers"]:
        args += ["--speaker", speaker]
    args += ["--event", clip["event"], "--kind", clip["kind"]]
    args += ["--description", clip["description"]]
    if not whisper:
        args += ["--transcript", str(samples / clip["transcript"])]
    mode = "whisper" if whisper else "vtt"
    print(clip["name"], mode, existing_slug(samples / clip["file"]), shlex.join(args))
PY
}

say "voorbeeldopnames toevoegen aan $WORKSPACE"
clips=$(clip_lines)
added=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while read -r name mode slug quoted; do
  eval "args=($quoted)"
  if [[ $slug != - ]]; then
    echo "   $name staat er al als aflevering '$slug'; overgeslagen"
    if [[ ! -f $WORKSPACE/transcripts/$slug.json ]]; then
      # an earlier run was interrupted between ingest and transcript: finish that step
      if [[ $mode == whisper ]]; then
        vlinder transcribe "$slug" </dev/null
        vlinder tag "$slug" </dev/null
      else
        echo "   let op: '$slug' heeft nog geen transcript; verwijder de aflevering" \
          "(vlinder remove $slug --yes) en draai de demo opnieuw" >&2
      fi
    fi
    continue
  fi
  if [[ $mode == whisper ]]; then
    say "$name: toevoegen en uitschrijven met Whisper (duurt even)"
  else
    say "$name: toevoegen met het meegeleverde transcript"
  fi
  set +e
  vlinder add "${args[@]}" </dev/null 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  set -e
  if ((status == 0)); then
    added=$((added + 1))
  elif [[ $(cat "$log") =~ al\ toegevoegd\ als\ aflevering\ \'([^\']+)\' ]]; then
    echo "   staat er al als aflevering '${BASH_REMATCH[1]}'; overgeslagen"
  else
    echo "demo.sh: '$name' toevoegen is mislukt (code $status)" >&2
    exit "$status"
  fi
done <<<"$clips"

say "afleveringen ($added nieuw)"
vlinder list

say "feeds en site bouwen"
BUILD_ARGS=() SERVE_ARGS=()
if [[ -n $PORT ]]; then
  # links in the feeds and pages must point at the port the site is served on
  BUILD_ARGS=(--base-url "http://localhost:$PORT")
  SERVE_ARGS=(--port "$PORT")
fi
vlinder build "${BUILD_ARGS[@]}"

if ((SERVE)); then
  say "site serveren (stoppen met Ctrl-C)"
  exec "$VENV/bin/vlinder" serve --no-build "${SERVE_ARGS[@]}"
fi
say "klaar; serveer de site met: $VENV/bin/vlinder --workspace $WORKSPACE serve"
