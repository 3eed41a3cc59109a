#!/usr/bin/env bash
# The project's test command (README, .ci/run): set-up, formatting, lints, all tests, then the
# report in a real browser (scripts/browser-test.sh: installs Debian's chromium if missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
eval "$(scripts/setup.sh)"
cargo fmt --all -- --check
cargo clippy --release --workspace --all-targets --quiet -- -D warnings
cargo test --release --workspace
bash scripts/browser-test.sh
