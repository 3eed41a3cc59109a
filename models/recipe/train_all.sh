#!/usr/bin/env bash
# Trains the default models one after another (never two at once: 2 cores), and the NER
# variants of the ablation in models/README.md. The shipped NER model is `ner-packed`.
#   models/recipe/train_all.sh OUTDIR
# Needs the training venv from models/recipe/requirements.txt (see models/README.md).
set -euo pipefail
OUT=${1:?usage: train_all.sh OUTDIR}
PY=${PY:-python3}
here=$(cd "$(dirname "$0")" && pwd)
"$PY" "$here/train.py" ner --out "$OUT/ner" --epochs 3 --lr 1e-4
"$PY" "$here/train.py" stance --out "$OUT/stance" --epochs 4 --lr 5e-5
"$PY" "$here/train.py" sentiment --out "$OUT/sentiment" --epochs 2 --lr 5e-5
"$PY" "$here/train.py" ner --out "$OUT/ner-nocase" --epochs 3 --lr 1e-4 --no-case
"$PY" "$here/train.py" ner --out "$OUT/ner-packed" --epochs 3 --lr 1e-4 --pack 128
