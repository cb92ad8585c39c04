#!/usr/bin/env bash
# Set up Vlinder on a fresh Debian or Ubuntu machine. Safe to run again: it only does what is
# missing. Used by scripts/demo.sh, scripts/test.sh and .ci/run.
#
#   bash scripts/setup.sh            # system tools + .venv with Vlinder
#   bash scripts/setup.sh --dev      # ... plus the test and development tools (pytest, ruff, ...)
#
# Environment:
#   PYTHON=python3.12        the Python to build .venv with (>= 3.11; default: python3, then
#                            python3.13, python3.12, python3.11)
#   VLINDER_VENV=DIR         where the virtual environment goes (default: .venv)
#   VLINDER_WITH_TORCH=1     also install the optional openai-whisper engine (pulls torch; a CPU
#                            wheel is preferred, see VLINDER_TORCH_SPEC below)
#   VLINDER_SKIP_SYSTEM=1    do not touch system packages (only check and warn)
#
# System packages (apt-get, only when missing and when we are root or have password-less sudo):
#   ffmpeg (decoding, loudness, MP3; without it Vlinder falls back to the ffmpeg binary that the
#   imageio-ffmpeg wheel ships), espeak-ng (test speech, scripts/make_samples.py),
#   chromium (browser tests, which use /usr/bin/chromium). On Ubuntu the `chromium` package is a
#   snap wrapper that does not work in containers; there the browser tests are skipped (the demo
#   and the other tests do not need a browser). With --dev also sox (the speaker tests build a
#   dialogue of real speech with it: scripts/make_dialogue.py), redis-server (optional: only
#   the Redis job queue test needs it, skipped without) and default-jre-headless (Java for the
#   W3C Nu HTML checker of tests/test_accessibility.py; skipped without).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=${VLINDER_VENV:-$ROOT/.venv}
EXTRAS=""
for arg in "$@"; do
  case $arg in
    --dev) EXTRAS="dev" ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "setup.sh: onbekende optie $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
warn() { printf 'let op: %s\n' "$*" >&2; }

# --- 1. system tools --------------------------------------------------------------------
chromium_path() {
  for name in /usr/bin/chromium chromium; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}

missing=()
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || missing+=(ffmpeg)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
chromium_path >/dev/null || missing+=(chromium)
if [[ $EXTRAS == dev ]] && ! command -v sox >/dev/null 2>&1; then
  missing+=(sox)  # the real-speech test dialogue of the speaker tests (scripts/make_dialogue.py)
fi
if [[ $EXTRAS == dev ]] && ! command -v redis-server >/dev/null 2>&1; then
  missing+=(redis-server)
fi
if [[ $EXTRAS == dev ]] && ! command -v java >/dev/null 2>&1; then
  missing+=(default-jre-headless)
fi

pick_python() {
  local candidates=("${PYTHON:-}" python3 python3.13 python3.12 python3.11)
  for py in "${candidates[@]}"; do
    [[ -n $py ]] || continue
    if command -v "$py" >/dev/null 2>&1 &&
      "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  return 1
}
PY=$(pick_python || true)
if [[ ! -x $VENV/bin/python ]]; then
  if [[ -z $PY ]]; then
    missing+=(python3)
  elif ! "$PY" -c 'import ensurepip, venv' 2>/dev/null; then
    missing+=(python3-venv)
  fi
fi

if ((${#missing[@]})); then
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo); else SUDO=(none); fi
  fi
  if [[ ${VLINDER_SKIP_SYSTEM:-0} == 1 || ${SUDO[0]:-} == none ]] || ! command -v apt-get >/dev/null 2>&1; then
    warn "ontbrekende systeempakketten: ${missing[*]}"
    warn "installeer ze als beheerder: apt-get install --no-install-recommends ${missing[*]}"
  else
    say "systeempakketten installeren: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    required=()
    for pkg in "${missing[@]}"; do
      [[ $pkg == chromium || $pkg == redis-server || $pkg == default-jre-headless ]] ||
        required+=("$pkg")
    done
    if ((${#required[@]})); then
      "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${required[@]}"
    fi
    if [[ " ${missing[*]} " == *" chromium "* ]]; then
      # Ubuntu's chromium is a snap wrapper: allowed to fail, only browser tests need it.
      "${SUDO[@]}" apt-get install -y -qq --no-install-recommends chromium ||
        warn "chromium kon niet worden geïnstalleerd; de browsertests worden overgeslagen"
    fi
    if [[ " ${missing[*]} " == *" redis-server "* ]]; then
      "${SUDO[@]}" apt-get install -y -qq --no-install-recommends redis-server ||
        warn "redis-server kon niet worden geïnstalleerd; de Redis-wachtrijtest wordt overgeslagen"
    fi
    if [[ " ${missing[*]} " == *" default-jre-headless "* ]]; then
      "${SUDO[@]}" apt-get install -y -qq --no-install-recommends default-jre-headless ||
        warn "Java kon niet worden geïnstalleerd; de test met de W3C-HTML-controle wordt overgeslagen"
    fi
  fi
  PY=$(pick_python || true)
fi

if ! command -v ffmpeg >/dev/null 2>&1; then
  warn "ffmpeg staat niet op het pad: Vlinder gebruikt dan de ffmpeg uit het pip-pakket imageio-ffmpeg"
fi

# --- 2. Python environment -------------------------------------------------------------------
if [[ ! -x $VENV/bin/python ]]; then
  if [[ -z $PY ]]; then
    echo "Python 3.11 of nieuwer is nodig (zet PYTHON=/pad/naar/python3.11)." >&2
    exit 1
  fi
  say "virtuele omgeving maken in $VENV met $("$PY" --version)"
  "$PY" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "$VENV gebruikt $("$VENV/bin/python" --version); Vlinder vraagt 3.11 of nieuwer. Verwijder $VENV en start opnieuw." >&2
  exit 1
fi

# Optional engine: openai-whisper pulls torch, and torch from PyPI is the CUDA build (several GB).
# >>> openai-whisper install (VLINDER_WITH_TORCH=1) >>>
# Torch is installed first, CPU-only where possible:
#   VLINDER_TORCH_SPEC='torch==2.5.1+cpu'   install exactly this (with PIP_EXTRA_INDEX_URL pointing
#                                           at PyTorch's CPU wheel index, or a local wheel folder)
#   otherwise a CPU wheel (torch-*+cpu-*.whl) in one of pip's find-links folders is used;
#   otherwise openai-whisper brings in PyPI's default torch.
cpu_torch_spec() {
  local dirs dir wheel version tag
  tag=$("$VENV/bin/python" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')
  dirs=$("$VENV/bin/python" -m pip config list 2>/dev/null | sed -n "s/.*find-links='\(.*\)'/\1/p")
  dirs="$dirs ${PIP_FIND_LINKS:-}"
  for dir in $dirs; do
    dir=${dir#file://}
    [[ -d $dir ]] || continue
    for wheel in "$dir"/torch-*+cpu-"$tag"-*.whl; do
      [[ -f $wheel ]] || continue
      version=$(basename "$wheel" | cut -d- -f2)
      echo "torch==$version"
      return 0
    done
  done
  return 1
}
if [[ ${VLINDER_WITH_TORCH:-0} == 1 ]]; then
  if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
    torch_spec=${VLINDER_TORCH_SPEC:-$(cpu_torch_spec || true)}
    if [[ -n $torch_spec ]]; then
      say "torch installeren: $torch_spec"
      "$VENV/bin/python" -m pip install --quiet "$torch_spec"
    fi
  fi
  EXTRAS=${EXTRAS:+$EXTRAS,}openai-whisper
fi
# <<< openai-whisper install <<<

SPEC="."
if [[ -n $EXTRAS ]]; then SPEC=".[$EXTRAS]"; fi
# Skip pip when pyproject.toml is unchanged since the last successful install and that install
# covered the extras asked for now (so the demo after the tests, or the reverse, is quick).
STAMP=$VENV/.vlinder-setup
hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
have_hash="" have_extras=""
if [[ -f $STAMP ]]; then read -r have_hash have_extras <"$STAMP" || true; fi
up_to_date=0
if [[ $have_hash == "$hash" ]] && "$VENV/bin/python" -c 'import pipeline' 2>/dev/null; then
  up_to_date=1
  IFS=, read -ra wanted <<<"$EXTRAS"
  for extra in "${wanted[@]}"; do
    [[ ",$have_extras," == *",$extra,"* ]] || up_to_date=0
  done
fi
if ((up_to_date)); then
  say "Python-pakketten zijn al geïnstalleerd (${have_extras:-basis})"
else
  say "Python-pakketten installeren: pip install -e '$SPEC'"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -e "$SPEC"
  if [[ $have_hash == "$hash" && -n $have_extras ]]; then
    EXTRAS=$(echo "$have_extras,$EXTRAS" | tr , '\n' | sed '/^$/d' | sort -u | paste -sd, -)
  fi
  echo "$hash $EXTRAS" >"$STAMP"
fi

# The speaker encoder (who speaks when): its weights ship in the resemblyzer wheel, which is
# installed without its dependencies (torch, librosa: Vlinder runs the encoder with onnxruntime).
if ! "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("resemblyzer") is None)'; then
  say "sprekersmodel installeren: pip install --no-deps resemblyzer==0.1.4"
  "$VENV/bin/python" -m pip install --quiet --no-deps resemblyzer==0.1.4
fi

# --- 3. summary ------------------------------------------------------------------------------
for tool in ffmpeg espeak-ng; do
  command -v "$tool" >/dev/null 2>&1 || warn "$tool ontbreekt"
done
chromium_path >/dev/null || warn "Chromium ontbreekt: de browsertests worden overgeslagen"
say "klaar: $("$VENV/bin/vlinder" --version)"
