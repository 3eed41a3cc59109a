#!/usr/bin/env bash
# Writes the wheels a Python user installs into target/wheels/ (README, "Python"):
#
#   newsmill_libtorch-<libtorch version>-py3-none-manylinux_<glibc>_x86_64.whl
#       the libtorch libraries the binary loads (libtorch_cpu stripped, libc10, libgomp, the two
#       small CUDA runtime libraries libtorch_cpu links); changes only with libtorch
#   newsmill_models-<version>+<models hash>-py3-none-any.whl
#       the default models as ready Hugging Face folders (joint/)
#   newsmill-<version>-py3-none-manylinux_<glibc>_x86_64.whl
#       the Python package (python/newsmill) and the stripped binary at newsmill/bin/newsmill,
#       run path $ORIGIN/../../newsmill_libtorch/lib; depends on the exact versions of the two
#
# The binary and the libraries come from the bundle (scripts/bundle.sh, rebuilt when the
# release binary is newer than its staging folder): the workspace's own release build, not a
# build of maturin's (a bin-only cargo build resolves features unlike the workspace build and
# rebuilds rust-bert and its dependencies for ~7 minutes here; nor can maturin put libtorch
# into a wheel of its own). The wheels are written by scripts/wheel.py (stdlib zipfile); the
# libtorch and models wheels are reused when their files have not changed.
# Prints each wheel's path and size.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
eval "$(scripts/setup.sh)"
cargo build --release --quiet --workspace --all-targets
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
bundle="target/bundle/newsmill-$version-linux-x86_64"
if [ ! -x "$bundle/newsmill" ] || [ target/release/newsmill -nt "$bundle/newsmill" ]; then
  scripts/bundle.sh target/bundle >&2
fi
out=target/wheels
stage=$out/stage
mkdir -p "$out"

libtorch=$("$bundle/newsmill" --version | sed -n 's/^libtorch //p')
# the newest glibc symbol version the binary and the libraries ask for: the manylinux tag
glibc=$(for f in "$bundle/newsmill" "$bundle"/lib/*; do objdump -T "$f"; done |
  grep -oE '\bGLIBC_[0-9][0-9.]*' | sort -u | sort -V | tail -1 | sed 's/GLIBC_//')
plat="manylinux_${glibc//./_}_x86_64"
tag="py3-none-$plat"

# a digest of a set of files (names and contents): a wheel is rewritten only when it changes
digest() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum; sha256sum "$root/scripts/wheel.py" | cut -d' ' -f1; echo "$2") | sha256sum | cut -c1-16; }

# 1. newsmill_libtorch
key=$(digest "$bundle/lib" "$tag $libtorch")
whl="$out/newsmill_libtorch-$libtorch-$tag.whl"
if [ ! -f "$whl" ] || [ "$(cat "$whl.key" 2>/dev/null)" != "$key" ]; then
  rm -rf "$stage/libtorch" "$out"/newsmill_libtorch-*.whl
  pkg="$stage/libtorch/newsmill_libtorch"
  mkdir -p "$pkg/lib"
  cp "$bundle"/lib/* "$pkg/lib/"
  strip "$pkg/lib/libtorch_cpu.so"
  cat > "$pkg/__init__.py" <<EOF
"""libtorch $libtorch (CPU) for the newsmill binary: lib/ holds exactly the libraries it loads."""
from pathlib import Path

LIB = Path(__file__).resolve().parent / "lib"
__version__ = "$libtorch"
EOF
  python3 scripts/wheel.py "$out" newsmill_libtorch "$libtorch" "$tag" "$stage/libtorch" \
    --summary "libtorch $libtorch CPU libraries for newsmill (not a Python binding)" >/dev/null
  echo "$key" > "$whl.key"
fi

# 2. newsmill_models: versioned by the models' content hashes (as `newsmill --version` names
# them); a local version label, as the models are not meant for a public index as they are
models_id=$(env NEWSMILL_MODELS="$NEWSMILL_MODELS" target/release/newsmill --version |
  sed -n 's/^models ([a-z]*): \([^ ]*\).*/\1/p' | sha256sum | cut -c1-12)
models_version="$version+$models_id"
key=$(digest "$NEWSMILL_MODELS/" "$models_version")
whl="$out/newsmill_models-$models_version-py3-none-any.whl"
if [ ! -f "$whl" ] || [ "$(cat "$whl.key" 2>/dev/null)" != "$key" ]; then
  rm -rf "$stage/models" "$out"/newsmill_models-*.whl
  pkg="$stage/models/newsmill_models"
  mkdir -p "$pkg/models"
  cp -rL "$NEWSMILL_MODELS"/. "$pkg/models/"
  rm -f "$pkg/models/.complete"
  cat > "$pkg/__init__.py" <<EOF
"""newsmill's default models (models/joint/; models/README.md of newsmill)."""
from pathlib import Path

MODELS = Path(__file__).resolve().parent / "models"
__version__ = "$models_version"
EOF
  python3 scripts/wheel.py "$out" newsmill_models "$models_version" py3-none-any "$stage/models" \
    --summary "newsmill's default models (the joint checkpoint with its stance branch)" >/dev/null
  echo "$key" > "$whl.key"
fi

# 3. newsmill: the Python package and the binary
rm -rf "$stage/newsmill" "$out"/newsmill-[0-9]*.whl
mkdir -p "$stage/newsmill"
cp -r python/newsmill "$stage/newsmill/"
find "$stage/newsmill" -name __pycache__ -prune -exec rm -rf {} +
mkdir -p "$stage/newsmill/newsmill/bin"
exe="$stage/newsmill/newsmill/bin/newsmill"
# from the release binary (its run path, the build machine's libtorch folder, is long enough to
# be overwritten with the wheel's; the bundle's $ORIGIN/lib is not)
cp target/release/newsmill "$exe"
strip "$exe"
python3 scripts/set-runpath.py "$exe" '$ORIGIN/../../newsmill_libtorch/lib'
python3 scripts/wheel.py "$out" newsmill "$version" "$tag" "$stage/newsmill" \
  --summary "Entities, sentence tone and entity stance of news articles (libtorch engine in a child process)" \
  --requires "newsmill_libtorch==$libtorch" --requires "newsmill_models==$models_version" \
  --extra "pandas:pandas>=1.5" --extra "pandas:pyarrow>=10" \
  --entry-point "newsmill = newsmill.__main__:main" >/dev/null

for w in "$out"/newsmill-[0-9]*.whl "$out"/newsmill_libtorch-*.whl "$out"/newsmill_models-*.whl; do
  s=$(stat -c %s "$w")
  echo "wheel: $w $((s / 1048576)) MiB ($s bytes)"
done
