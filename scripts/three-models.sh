#!/usr/bin/env bash
# Prints the folder holding the three single-task checkpoints that shipped until commit 780ef89
# (ner/, sentiment/, stance/: standard Hugging Face folders), assembling them into the cache from
# this repo's git history the first time. Use them with --models FOLDER (three-model mode) or
# pick one, e.g. the pair stance model beside the joint checkpoint's NER and tone:
#   newsmill annotate corpus.jsonl --stance-model "$(scripts/three-models.sh)/stance"
# (models/README.md, "Stance: pooled head or pair model"). Needs the git history and the
# environment of scripts/setup.sh (NEWSMILL_BACKBONE); BENCH_PY: a Python with numpy and
# safetensors (default: the training venv, created here if missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
THREE_COMMIT=780ef89
if [ -z "${NEWSMILL_BACKBONE:-}" ]; then
  eval "$(scripts/setup.sh)"
fi
THREE="${NEWSMILL_CACHE:-$HOME/.cache/newsmill}/models/three-$THREE_COMMIT"
if [ ! -f "$THREE/.complete" ]; then
  BENCH_PY=${BENCH_PY:-$HOME/.cache/newsmill/train-py/bin/python}
  if [ ! -x "$BENCH_PY" ]; then
    python3 -m venv "$HOME/.cache/newsmill/train-py" >&2
    "$HOME/.cache/newsmill/train-py/bin/pip" install -q -r models/recipe/requirements.txt >&2
  fi
  src=$(mktemp -d)
  for m in ner sentiment stance; do
    mkdir -p "$src/$m"
    for f in config.json tokenizer.json weights.safetensors; do
      git show "$THREE_COMMIT:models/$m/$f" > "$src/$m/$f"
    done
  done
  "$BENCH_PY" models/recipe/assemble.py "$src" "$NEWSMILL_BACKBONE" "$THREE" >&2
  touch "$THREE/.complete"
  rm -rf "$src"
fi
echo "$THREE"
