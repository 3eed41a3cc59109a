#!/usr/bin/env bash
# The GPU check (README "GPU"), run on the GPU machine from the repository root:
#   scripts/gpu-check.sh [OUT_DIR]          (default: $OUT, else target/gpu-check)
# Needs what scripts/gpu-pack.sh put in target/gpu/ (built and packed on a CPU machine), a
# CUDA-enabled torch 2.11 (PYTHON, default /opt/torch/.venv/bin/python: its torch/lib is the
# libtorch the binary runs against) and transformers. No network, no Rust.
# It prints the GPU, then, on the first 2,000 BBC articles after 16 warm-up ones:
#   - newsmill bench, full pipeline and NER alone, fp32 and bf16, with nvidia-smi sampled
#     every 100 ms (utilization.gpu = share of time a kernel ran; memory);
#   - the Python references on the same GPU and articles: the joint checkpoint through the
#     recipe's class (benches/python_reference.py, full pipeline), and its encoder + NER head
#     through transformers' token-classification pipeline (NER alone), fp32 and bf16;
#   - newsmill eval on CoNLL-2003 dev, NewsMTSC dev_rw/dev_mt and the SST-2 held-out slice,
#     fp32 and bf16;
#   - one 10 MB article, full pipeline, bf16 (batches are capped by tokens: no out-of-memory);
#   - a batch-size sweep (bf16, full pipeline);
# and writes everything to OUT_DIR/gpu-check.json (steps that fail or run out of time are
# recorded as such; the whole script stays inside ~8 minutes).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
OUTD=${1:-${OUT:-target/gpu-check}}
mkdir -p "$OUTD"
OUTD=$(cd "$OUTD" && pwd)
PY=${PYTHON:-/opt/torch/.venv/bin/python}
G=$root/target/gpu
START=$(date +%s)
DEADLINE=${GPU_CHECK_SECONDS:-450}
# a dry run of the script's plumbing on a CPU machine: GPU_CHECK_DEVICE=cpu GPU_CHECK_LIMIT=20
# GPU_CHECK_BIG_MB=0.2 PYTHON=... scripts/gpu-check.sh /tmp/dry
DEV=${GPU_CHECK_DEVICE:-cuda}
PYDEV=$([ "$DEV" = cuda ] && echo cuda:0 || echo cpu)
LIMIT=${GPU_CHECK_LIMIT:-2000}
BIG_MB=${GPU_CHECK_BIG_MB:-10}
log() { echo "[$(($(date +%s) - START))s] $*" | tee -a "$OUTD/log.txt" >&2; }
left() { echo $((DEADLINE - ($(date +%s) - START))); }
WORK=$(mktemp -d)
NM=$WORK/newsmill
xz -dc "$G/newsmill.xz" > "$NM" && chmod +x "$NM"

TORCH_LIB=${GPU_CHECK_TORCH_LIB:-}
[ -n "$TORCH_LIB" ] || TORCH_LIB=$("$PY" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
export LD_LIBRARY_PATH="$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ! "$NM" --version > /dev/null 2> "$OUTD/version.err"; then
  log "binary does not start ($(head -c 300 "$OUTD/version.err")); trying the carried libstdc++"
  mkdir -p "$WORK/lib" && xz -dc "$G/fallback-lib/libstdc++.so.6.xz" > "$WORK/lib/libstdc++.so.6"
  export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$WORK/lib"
fi
{ nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv; } > "$OUTD/gpu.txt" 2>&1
log "$(head -1 "$OUTD/gpu.txt"); torch $("$PY" -c 'import torch; print(torch.__version__)')"

"$PY" - "$G/data.tar.xz" "$WORK" <<'PY'
import sys, tarfile
tarfile.open(sys.argv[1]).extractall(sys.argv[2])
PY
"$PY" models/recipe/assemble.py models "$G/backbone" "$WORK/models" >> "$OUTD/log.txt" 2>&1   # joint/
D=$WORK/data
BBC=$D/bbc-2016.jsonl

# run NAME TIMEOUT CMD...: runs CMD with nvidia-smi sampled beside it; its stdout to NAME.out
run() {
  local name=$1 t=$2
  shift 2
  local budget
  budget=$(left)
  if [ "$budget" -lt 15 ]; then
    log "$name: skipped (out of time)"
    echo "{\"skipped\": \"out of time\"}" > "$OUTD/$name.status"
    return
  fi
  [ "$t" -gt "$budget" ] && t=$budget
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits -lms 100 > "$OUTD/$name.smi" 2>/dev/null &
  local smi=$! t0
  t0=$(date +%s%N)
  timeout "$t" "$@" > "$OUTD/$name.out" 2> "$OUTD/$name.err"
  local rc=$?
  kill "$smi" 2>/dev/null
  wait "$smi" 2>/dev/null
  echo "{\"rc\": $rc, \"wall_ms\": $((($(date +%s%N) - t0) / 1000000))}" > "$OUTD/$name.status"
  log "$name: rc $rc"
}

BENCH=(bench "$BBC" --limit "$LIMIT" --warmup 16 --repeat 1 --json - --models "$WORK/models" --device "$DEV")
run bench-full-fp32 60 "$NM" "${BENCH[@]}" --precision fp32
run bench-full-bf16 60 "$NM" "${BENCH[@]}" --precision bf16
run bench-ner-fp32 60 "$NM" "${BENCH[@]}" --precision fp32 --tasks ner
run bench-ner-bf16 60 "$NM" "${BENCH[@]}" --precision bf16 --tasks ner

REF=(benches/python_reference.py "$BBC" "$WORK/models" --limit "$LIMIT" --warmup 16 --device "$PYDEV" --threads 16)
run py-joint-full-bf16 80 "$PY" "${REF[@]}" --dtype bf16
run py-hfner-bf16 80 "$PY" "${REF[@]}" --dtype bf16 --tasks ner --hf-ner
if ! grep -q articles_per_second "$OUTD/py-hfner-bf16.out" 2>/dev/null; then
  run py-hfner-nocase-bf16 80 "$PY" "${REF[@]}" --dtype bf16 --tasks ner --hf-ner --no-case
fi

EV=(--models "$WORK/models" --device "$DEV")
for p in fp32 bf16; do
  run "eval-ner-$p" 40 "$NM" eval "${EV[@]}" --precision "$p" ner "$D/eng.testa"
  run "eval-stance-rw-$p" 30 "$NM" eval "${EV[@]}" --precision "$p" stance "$D/dev_rw.jsonl"
  run "eval-stance-mt-$p" 30 "$NM" eval "${EV[@]}" --precision "$p" stance "$D/dev_mt.jsonl"
  run "eval-sentiment-$p" 30 "$NM" eval "${EV[@]}" --precision "$p" sentiment "$D/sst2-heldout.tsv"
done

"$PY" - "$D/bbc-2016.jsonl" "$WORK/big.jsonl" "$BIG_MB" <<'PY'
import json, sys
texts = [json.loads(l)["text"] for l in open(sys.argv[1], encoding="utf-8")]
parts, size, i = [], 0, 0
while size < float(sys.argv[3]) * 1e6:
    t = texts[i % len(texts)]
    parts.append(t)
    size += len(t.encode()) + 2
    i += 1
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write(json.dumps({"id": "ten-megabytes", "text": "\n\n".join(parts)}) + "\n")
PY
run big-article-bf16 90 "$NM" annotate "$WORK/big.jsonl" --models "$WORK/models" --device "$DEV" --precision bf16 --no-text -q -o "$WORK/big-out.jsonl"
"$PY" -c 'import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(json.dumps({"entities": len(r.get("entities", [])), "sentences": len(r.get("sentences", [])), "error": r.get("error")}))' "$WORK/big-out.jsonl" > "$OUTD/big-article-bf16.summary" 2>/dev/null

run py-joint-full-fp32 80 "$PY" "${REF[@]}" --dtype fp32
run py-hfner-fp32 80 "$PY" "${REF[@]}" --dtype fp32 --tasks ner --hf-ner
for bt in 4096 65536; do
  run "bench-full-bf16-bt$bt" 45 "$NM" "${BENCH[@]}" --precision bf16 --batch-tokens "$bt"
done
run bench-full-bf16-w8 45 "$NM" "${BENCH[@]}" --precision bf16 --workers 8

"$PY" - "$OUTD" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
def load(path):
    try:
        text = open(path).read()
        return json.loads(text[text.index("{"):])
    except Exception as e:
        return None
steps = {}
for st in sorted(glob.glob(f"{out}/*.status")):
    name = os.path.basename(st)[:-7]
    s = {"status": load(st)}
    s["result"] = load(f"{out}/{name}.out")
    try:
        rows = [l.split(",") for l in open(f"{out}/{name}.smi") if l.strip()]
        util = [float(r[0]) for r in rows]
        mem = [float(r[1]) for r in rows]
        s["nvidia_smi"] = {"samples": len(util), "utilization_gpu_mean": statistics.mean(util),
                           "utilization_gpu_max": max(util), "memory_used_mib_max": max(mem)}
    except Exception:
        pass
    if s["result"] is None:
        try:
            s["stderr_tail"] = open(f"{out}/{name}.err").read()[-1500:]
        except Exception:
            pass
    extra = load(f"{out}/{name}.summary")
    if extra:
        s["summary"] = extra
    steps[name] = s
def rate(name):
    r = (steps.get(name) or {}).get("result") or {}
    if r.get("rows"):  # newsmill bench's report: its one row
        return r["rows"][0]["articles_per_second"]["median"]
    return r.get("articles_per_second")
summary = {}
for tasks in ("full", "ner"):
    for p in ("fp32", "bf16"):
        nm = rate(f"bench-{tasks}-{p}")
        py = rate(f"py-joint-full-{p}") if tasks == "full" else (rate(f"py-hfner-{p}") or rate(f"py-hfner-nocase-{p}"))
        summary[f"{tasks}-{p}"] = {"newsmill_articles_per_second": nm, "python_articles_per_second": py,
                                   "ratio": nm / py if nm and py else None}
def score(name):
    r = (steps.get(name) or {}).get("result") or {}
    if r.get("task") == "ner":
        return 100 * r["micro"]["f1"]
    if r.get("task") == "stance":
        return 100 * r["f1m"]
    if r.get("task") == "sentiment":
        return 100 * r["accuracy"]
    return None
evals = {}
for ev in ("ner", "stance-rw", "stance-mt", "sentiment"):
    a, b = score(f"eval-{ev}-fp32"), score(f"eval-{ev}-bf16")
    evals[ev] = {"fp32": a, "bf16": b, "bf16_minus_fp32": b - a if a is not None and b is not None else None}
summary["dev_scores"] = evals
report = {"gpu": open(f"{out}/gpu.txt").read(), "summary": summary, "steps": steps}
text = json.dumps(report, indent=1)
open(f"{out}/gpu-check.json", "w").write(text)
print(json.dumps(summary, indent=1))
PY
log "done"
rm -rf "$WORK"
