#!/usr/bin/env bash
# Runs newsmill bench (fp32 and int8) and the Python reference (benches/python_reference.py)
# back to back on the same corpus and prints the throughput ratios, for the full pipeline and
# for NER alone.
#   benches/compare.sh [CORPUS] [LIMIT]
# Needs a Python env with models/recipe/requirements.txt (set BENCH_PY, default: the training
# venv ~/.cache/newsmill/train-py, created here if missing). A benchmark, not a CI test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CORPUS=${1:-../shared/data/bbc/articles.jsonl}
LIMIT=${2:-500}
OUT=${OUT:-target/bench}
mkdir -p "$OUT"
eval "$(scripts/setup.sh)"
cargo build --release --quiet
BENCH_PY=${BENCH_PY:-$HOME/.cache/newsmill/train-py/bin/python}
if [ ! -x "$BENCH_PY" ]; then
  python3 -m venv "$HOME/.cache/newsmill/train-py"
  "$HOME/.cache/newsmill/train-py/bin/pip" install -q -r models/recipe/requirements.txt
fi
for tasks in ner,sentiment,stance ner; do
  tag=${tasks//,/-}
  for precision in fp32 int8; do
    target/release/newsmill bench "$CORPUS" --limit "$LIMIT" --tasks "$tasks" --precision "$precision" \
      --json "$OUT/rust-$tag-$precision.json" > /dev/null
  done
  "$BENCH_PY" benches/python_reference.py "$CORPUS" "$NEWSMILL_MODELS" --limit "$LIMIT" --tasks "$tasks" --json "$OUT/python-$tag.json" > /dev/null 2>&1
done
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
print(f"{'tasks':22} {'precision':9} {'newsmill art/s':>15} {'python art/s':>13} {'ratio':>6} {'padding':>8} {'of peak':>8} {'RSS MiB':>8} {'entities n/py':>14}")
for tag in ("ner-sentiment-stance", "ner"):
    p = json.load(open(f"{out}/python-{tag}.json"))
    for precision in ("fp32", "int8"):
        r = json.load(open(f"{out}/rust-{tag}-{precision}.json"))
        ents = f"{r.get('entities', '?')}/{p['counts']['entities']}"
        print(f"{tag:22} {precision:9} {r['articles_per_second']:15.2f} {p['articles_per_second']:13.2f} {r['articles_per_second']/p['articles_per_second']:6.2f}"
              f" {r['padding_efficiency']:8.3f} {r['fraction_of_peak']:8.3f} {r['peak_rss_mib']:8.0f} {ents:>14}")
PY
