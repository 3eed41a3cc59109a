#!/usr/bin/env bash
# The project's test command (README, .ci/run): set-up, formatting, lints, all tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
eval "$(scripts/setup.sh)"
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets --quiet -- -D warnings
cargo test --release --workspace
# the relocatable bundle, unpacked and run with an empty HOME; then the Spark job that ships it
# (README "Run on a cluster"; together about @MIN@ minutes, most of it the archive and Spark's start-up)
bash scripts/bundle-test.sh
bash scripts/spark-test.sh
