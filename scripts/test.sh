#!/usr/bin/env bash
# The project's test command (README, .ci/run): set-up, formatting, lints, all tests; the
# report in a real browser (scripts/browser-test.sh: installs Debian's chromium if missing);
# then the same tests again against the libtorch 2.11 build flavour (the GPU build, README
# "GPU"), on the CPU, so that build can never silently rot.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
eval "$(scripts/setup.sh)"
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets --quiet -- -D warnings
cargo test --release --workspace
# the text rules the training recipe shares with newsmill, against the same fixture as the
# Rust test (tests/data/text_rules.json)
python3 models/recipe/check_text_rules.py
# scripts/newsmill lets cargo show its progress on a terminal (a first build is minutes long)
# and keeps it quiet elsewhere: checked with a stand-in cargo that prints its arguments (a real
# bin-only build here would resolve features unlike `cargo test` and rebuild for minutes)
fake=$(mktemp -d)
printf '#!/bin/sh\necho "cargo-args: $*" >&2\n' > "$fake/cargo" && chmod +x "$fake/cargo"
on_tty=$(PATH="$fake:$PATH" script -qec "scripts/newsmill --version" /dev/null </dev/null)
off_tty=$(PATH="$fake:$PATH" scripts/newsmill --version 2>&1 </dev/null)
rm -rf "$fake"
[[ $on_tty == *"cargo-args: build --release --manifest-path"* && $on_tty != *--quiet* &&
  $off_tty == *"cargo-args: build --release --quiet --manifest-path"* ]] ||
  { echo "test.sh: scripts/newsmill: cargo's progress not shown on a terminal (or shown elsewhere)" >&2; exit 1; }
bash scripts/browser-test.sh
# the relocatable bundle, unpacked and run with an empty HOME; then the Spark job that ships it
# (README "Run on a cluster"; measured together 2–3.5 minutes: bundle test 43–122 s, most of it
# gzip of the archive; Spark test 72–79 s; plus a one-time pyspark download on an empty cache)
bash scripts/bundle-test.sh
bash scripts/spark-test.sh
# the Python package: wheels built, installed into a fresh venv with an empty HOME, the pytest
# suite of the API, torch in the same interpreter where the training venv has one (README
# "Python")
bash scripts/python-test.sh
eval "$(scripts/setup.sh --libtorch 2.11)"
cargo test --release --workspace --config "$NEWSMILL_CARGO_CONFIG"
