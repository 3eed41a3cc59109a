#!/usr/bin/env bash
# Runs, back to back on the same corpus and options (`newsmill bench` grids: the rows take
# turns, REPEAT timed runs each, default 1), and prints the throughput ratios:
#   - newsmill with the default models (the joint checkpoint: one encoder pass per sentence for
#     NER and tone; its stance branch: its own top two layers over the shared first four, run
#     on the sentences with an entity), fp32 and int8;
#   - the previous default models (scripts/previous-models.sh: the joint checkpoint of NER and
#     tone, and a stance-only checkpoint reading the sentences with an entity again through
#     all six layers), full pipeline, fp32/int8;
#   - newsmill in three-model mode: the single-task NER, sentiment and stance checkpoints that
#     shipped until commit 780ef89 (scripts/three-models.sh: from git history into the cache),
#     fp32/int8;
#   - the fallback design for stance: the joint checkpoint's NER and tone with the pair stance
#     model (--stance-model), full pipeline, fp32/int8;
#   - the Python references (benches/python_reference.py): the joint checkpoint through the
#     recipe's Python class, and the three checkpoints through transformers pipelines;
# for the full pipeline and for NER alone. With BASELINE=PATH (another newsmill binary, e.g. one
# built from an earlier commit; its `bench` may time one configuration per run), that binary
# also runs the default models after this build's grid, and the last table gives this/baseline. PYTHON_REFERENCE=0 leaves the Python references out (their
# columns then read "-").
#   benches/compare.sh [CORPUS] [LIMIT]
# Needs a Python env with models/recipe/requirements.txt (set BENCH_PY, default: the training
# venv ~/.cache/newsmill/train-py, created here if missing) and the git history of this repo.
# A benchmark, not a CI test.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CORPUS=${1:-../shared/data/bbc/articles.jsonl}
LIMIT=${2:-500}
OUT=${OUT:-target/bench}
mkdir -p "$OUT"
eval "$(scripts/setup.sh)"
cargo build --release --workspace --all-targets --quiet   # the features the tests build with: no rebuild
BENCH_PY=${BENCH_PY:-$HOME/.cache/newsmill/train-py/bin/python}
if [ ! -x "$BENCH_PY" ]; then
  python3 -m venv "$HOME/.cache/newsmill/train-py"
  "$HOME/.cache/newsmill/train-py/bin/pip" install -q -r models/recipe/requirements.txt
fi
THREE=$(scripts/three-models.sh)
PREVIOUS=$(scripts/previous-models.sh)
# the designs, one `newsmill bench` grid per task set: the default models, the previous ones,
# the three single-task checkpoints, and (full pipeline) the default models with the pair
# stance model swapped in; fp32 and int8; the rows take turns (REPEAT runs each)
REPEAT=${REPEAT:-1}
for tasks in ner,sentiment,stance ner; do
  tag=${tasks//,/-}
  swap=(); [ "$tasks" != ner ] && swap=(--stance-model "$THREE/stance")
  target/release/newsmill bench "$CORPUS" --limit "$LIMIT" --tasks "$tasks" --precision fp32,int8 \
    --repeat "$REPEAT" --models default="$NEWSMILL_MODELS" --models previous="$PREVIOUS" \
    --models three="$THREE" \
    "${swap[@]}" --json "$OUT/grid-$tag.json" > /dev/null
  for precision in fp32 int8; do
    if [ -n "${BASELINE:-}" ]; then
      # an earlier build (one configuration per run), right after this build's grid
      "$BASELINE" bench "$CORPUS" --limit "$LIMIT" --tasks "$tasks" --precision "$precision" \
        --models "$NEWSMILL_MODELS" --json "$OUT/baseline-default-$tag-$precision.json" > /dev/null
    fi
  done
  rm -f "$OUT/python-joint-$tag.json" "$OUT/python-three-$tag.json"
  if [ "${PYTHON_REFERENCE:-1}" != 0 ]; then
    "$BENCH_PY" benches/python_reference.py "$CORPUS" "$NEWSMILL_MODELS" --limit "$LIMIT" --tasks "$tasks" \
      --json "$OUT/python-joint-$tag.json" > /dev/null 2>&1
    "$BENCH_PY" benches/python_reference.py "$CORPUS" "$THREE" --three --limit "$LIMIT" --tasks "$tasks" \
      --json "$OUT/python-three-$tag.json" > /dev/null 2>&1
  fi
done
python3 - "$OUT" "$NEWSMILL_MODELS" "$THREE" <<'PY'
import json, os, sys
out, models, three = sys.argv[1:4]
grids = {tag: json.load(open(f"{out}/grid-{tag}.json")) for tag in ("ner-sentiment-stance", "ner")}
def row(tag, config, precision):
    for r in grids[tag]["rows"]:
        if r["config"] == config and r["precision"] == precision:
            return r
    raise SystemExit(f"compare.sh: no row {config} {precision} in grid-{tag}.json")
name = {"default": "default", "previous default": "previous", "three": "three",
        "joint + pair stance": f"default + stance={three}/stance"}
aps = lambda r: r["articles_per_second"]["median"]
# the Python references, when they ran (PYTHON_REFERENCE=0 leaves them out)
py = lambda n: json.load(open(f"{out}/{n}.json"))["articles_per_second"] if os.path.exists(f"{out}/{n}.json") else float("nan")
print("default: the joint checkpoint with its stance branch; three: the single-task checkpoints")
print(f"{'tasks':22} {'precision':9} {'dflt art/s':>11} {'three art/s':>11} {'dflt/three':>11} {'py dflt':>9} {'py three':>9} {'dflt/py3':>9}"
      f" {'padding':>8} {'RSS MiB d/3':>12} {'entities d/3':>13}")
for tag in ("ner-sentiment-stance", "ner"):
    pj, p3 = py(f"python-joint-{tag}"), py(f"python-three-{tag}")
    for precision in ("fp32", "int8"):
        j, t = row(tag, name["default"], precision), row(tag, name["three"], precision)
        ja, ta = aps(j), aps(t)
        print(f"{tag:22} {precision:9} {ja:11.2f} {ta:11.2f} {ja/ta:11.2f} {pj:9.2f} {p3:9.2f}"
              f" {ja/p3:9.2f} {j['padding_efficiency']:8.3f} {j['peak_rss_mib']:5.0f}/{t['peak_rss_mib']:<6.0f}"
              f" {j['entities']:>6}/{t['entities']:<6}".replace("nan", "  -"))
print()
print("other designs, full pipeline: the previous default (joint + stance-only checkpoint), and")
print("the default NER and tone with the pair stance model")
print(f"{'design':22} {'precision':9} {'art/s':>7} {'/three':>7} {'/dflt':>7} {'RSS MiB':>8} {'padding':>8}")
for design in ("previous default", "joint + pair stance"):
    for precision in ("fp32", "int8"):
        tag = "ner-sentiment-stance"
        h, j, t = (row(tag, name[x], precision) for x in (design, "default", "three"))
        ha = aps(h)
        print(f"{design:22} {precision:9} {ha:7.2f} {ha/aps(t):7.2f} {ha/aps(j):7.2f}"
              f" {h['peak_rss_mib']:8.0f} {h['padding_efficiency']:8.3f}")
if os.path.exists(f"{out}/baseline-default-ner-sentiment-stance-fp32.json"):
    print()
    print("this build against BASELINE (each baseline run right after this build's grid)")
    print(f"{'models':12} {'tasks':22} {'precision':9} {'this art/s':>10} {'baseline':>9} {'this/baseline':>13}")
    for models_name, base in (("default", "baseline-default"),):
        for tag in ("ner-sentiment-stance", "ner"):
            for precision in ("fp32", "int8"):
                ja = aps(row(tag, name[models_name], precision))
                ba = json.load(open(f"{out}/{base}-{tag}-{precision}.json"))["articles_per_second"]
                print(f"{models_name:12} {tag:22} {precision:9} {ja:10.2f} {ba:9.2f} {ja/ba:13.3f}")
PY
