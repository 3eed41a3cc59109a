#!/usr/bin/env bash
# The Python package test (README "Python"; run by scripts/test.sh after the bundle test):
# builds the wheels (scripts/wheel.sh), installs them into a fresh venv with HOME an empty
# folder, no Rust, no NEWSMILL_MODELS, no LD_LIBRARY_PATH and no package index (--no-index: the
# wheels must be all it needs; no torch or nvidia-* package may come), runs `newsmill annotate`
# from it (records equal to the development binary's), then the pytest suite python/tests/
# (pytest, pandas and pyarrow from the registry, pip-cached). Where the training venv
# (~/.cache/newsmill/train-py, torch 2.4.0 + CUDA) exists, the package is also run in that
# interpreter with torch imported before and after newsmill.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
t0=$(date +%s)
scripts/wheel.sh >&2
eval "$(scripts/setup.sh)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/home"
venv="$tmp/venv"
pip_cache="${PIP_CACHE_DIR:-$HOME/.cache/pip}"
clean() { env -i HOME="$tmp/home" PATH="$venv/bin:/usr/bin:/bin" LANG=C.UTF-8 "$@"; }

clean python3 -m venv "$venv"
clean "$venv/bin/pip" install --quiet --disable-pip-version-check --no-index \
  --find-links target/wheels newsmill
installed=$(clean "$venv/bin/pip" list --format=freeze --disable-pip-version-check)
echo "$installed" >&2
if grep -qiE '^(torch|nvidia-|triton)' <<<"$installed"; then
  echo "python-test: FAIL: torch or CUDA packages were installed" >&2; exit 1
fi
# the CLI from the venv, default models without any environment variable
(cd "$tmp" && clean newsmill annotate "$root/examples/articles.jsonl" -o out.jsonl -q)
target/release/newsmill annotate examples/articles.jsonl -o "$tmp/dev.jsonl" -q
cmp "$tmp/out.jsonl" "$tmp/dev.jsonl" ||
  { echo "python-test: FAIL: the venv's newsmill annotate differs from the development binary's" >&2; exit 1; }
t_install=$(date +%s)

# the suite (test dependencies from the registry, cached outside the empty HOME)
clean "$venv/bin/pip" install --quiet --disable-pip-version-check --cache-dir "$pip_cache" \
  pytest pandas pyarrow
(cd "$tmp" && clean "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/python/tests")
t_suite=$(date +%s)

# torch in the same interpreter (the training venv's torch 2.4.0 + CUDA), both import orders
torch_py="${NEWSMILL_CACHE:-$HOME/.cache/newsmill}/train-py/bin/python"
if [ -x "$torch_py" ]; then
  "$torch_py" -m pip install --quiet --disable-pip-version-check --no-index --no-deps \
    --find-links target/wheels --target "$tmp/site" newsmill newsmill_libtorch newsmill_models
  for order in torch-first newsmill-first; do
    (cd "$tmp" && env -i HOME="$tmp/home" PATH=/usr/bin:/bin PYTHONPATH="$tmp/site" \
      "$torch_py" "$root/python/tests/torch_check.py" "$order")
  done
else
  echo "python-test: no torch at hand ($torch_py): the torch co-import check is skipped" >&2
fi
t1=$(date +%s)
echo "python-test: ok in $((t1 - t0)) s (wheels and install $((t_install - t0)) s, suite $((t_suite - t_install)) s, torch check $((t1 - t_suite)) s)" >&2
