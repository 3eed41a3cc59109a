#!/usr/bin/env bash
# Prints the folder holding the models/ folders FOLDER... of commit COMMIT as standard Hugging
# Face folders, assembling them into the cache from this repo's git history the first time:
#   scripts/models-at.sh COMMIT FOLDER...
# scripts/three-models.sh (the single-task checkpoints) and scripts/previous-models.sh (the
# default models before the stance branch) name theirs. Needs the git history and the
# environment of scripts/setup.sh (NEWSMILL_BACKBONE); BENCH_PY: a Python with numpy and
# safetensors (default: the training venv, created here if missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
COMMIT=$1
shift
if [ -z "${NEWSMILL_BACKBONE:-}" ]; then
  eval "$(scripts/setup.sh)"
fi
OUT="${NEWSMILL_CACHE:-$HOME/.cache/newsmill}/models/at-$COMMIT-$(echo "$@" | tr ' ' '-')"
if [ ! -f "$OUT/.complete" ]; then
  BENCH_PY=${BENCH_PY:-$HOME/.cache/newsmill/train-py/bin/python}
  if [ ! -x "$BENCH_PY" ]; then
    python3 -m venv "$HOME/.cache/newsmill/train-py" >&2
    "$HOME/.cache/newsmill/train-py/bin/pip" install -q -r models/recipe/requirements.txt >&2
  fi
  src=$(mktemp -d)
  for m in "$@"; do
    mkdir -p "$src/$m"
    for f in config.json tokenizer.json weights.safetensors; do
      git show "$COMMIT:models/$m/$f" > "$src/$m/$f"
    done
  done
  "$BENCH_PY" models/recipe/assemble.py "$src" "$NEWSMILL_BACKBONE" "$OUT" >&2
  touch "$OUT/.complete"
  rm -rf "$src"
fi
echo "$OUT"
