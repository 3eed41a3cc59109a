#!/usr/bin/env bash
# Prepares, on this machine, what scripts/gpu-check.sh needs on the GPU machine, in target/gpu/
# (ignored by git; the device tool carries it: `carry: ["target/gpu"]`):
#   newsmill.xz         the libtorch 2.11 build (scripts/setup.sh --libtorch 2.11), stripped, xz;
#   backbone/           the backbone's word-embedding matrix (fp16, 23 MB), from which
#                       models/recipe/assemble.py rebuilds the default checkpoint there (no
#                       other backbone weights are needed);
#   data.tar.xz         the measurement data from ../shared/data: the first 2,016 BBC articles
#                       (16 warm-up + 2,000 timed), CoNLL-2003 dev, NewsMTSC dev_rw/dev_mt and the
#                       SST-2 held-out slice (every 33rd data row of train.tsv, eval's
#                       --heldout-every 33). Research-only texts: carried, never committed;
#   fallback-lib/       this machine's libstdc++, used only if the GPU machine's is older.
# The working tree (35 MiB) plus this folder (27 MiB) must stay under the device tool's 64 MiB;
# the script fails if they do not.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DATA=${NEWSMILL_DATA:-$root/../shared/data}
eval "$(scripts/setup.sh --libtorch 2.11)"
# the same targets as `cargo test` (same features: no second build of the dependencies)
cargo build --release --workspace --all-targets --quiet --config "$NEWSMILL_CARGO_CONFIG"
out=target/gpu
rm -rf "$out"
mkdir -p "$out/backbone" "$out/fallback-lib"
strip -o "$out/newsmill" "$CARGO_TARGET_DIR/release/newsmill"
xz -T0 -f "$out/newsmill"
PY="$HOME/.cache/newsmill/py-torch-2.4.0/bin/python"
"$PY" - "$NEWSMILL_BACKBONE/model.safetensors" "$out/backbone/model.safetensors" <<'PY'
import sys
from safetensors.numpy import load_file, save_file
t = load_file(sys.argv[1])
k = "embeddings.word_embeddings.weight"
save_file({k: t[k].astype("float16")}, sys.argv[2])
PY
tmp=$(mktemp -d)
mkdir -p "$tmp/data"
head -n 2016 "$DATA/bbc/articles.jsonl" > "$tmp/data/bbc-2016.jsonl"
cp "$DATA/conll2003/eng.testa" "$DATA/newsmtsc/dev_rw.jsonl" "$DATA/newsmtsc/dev_mt.jsonl" "$tmp/data/"
awk 'NR == 1 || (NR - 2) % 33 == 0' "$DATA/sst2/train.tsv" > "$tmp/data/sst2-heldout.tsv"
tar -C "$tmp" -cJf "$out/data.tar.xz" data
rm -rf "$tmp"
cp -L "$(g++ -print-file-name=libstdc++.so.6 2>/dev/null || echo /usr/lib/x86_64-linux-gnu/libstdc++.so.6)" "$out/fallback-lib/libstdc++.so.6"
xz -T0 -f "$out/fallback-lib/libstdc++.so.6"
tree=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
carried=$(du -sb "$out" | cut -f1)
echo "gpu-pack: target/gpu $((carried / 1024 / 1024)) MiB + tracked tree $((tree / 1024 / 1024)) MiB (limit 64 MiB)" >&2
if [ $((carried + tree)) -ge $((64 * 1024 * 1024)) ]; then
  echo "gpu-pack: over the device tool's 64 MiB" >&2
  exit 1
fi
