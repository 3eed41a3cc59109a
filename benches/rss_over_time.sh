#!/usr/bin/env bash
# Runs a command and samples its resident set size every INTERVAL seconds (default 10) into a
# TSV (seconds, RSS MiB, peak RSS MiB) on stderr, for showing that memory stays flat over a
# long run.
#   INTERVAL=10 benches/rss_over_time.sh target/release/newsmill annotate big.jsonl -o out.jsonl
set -euo pipefail
interval=${INTERVAL:-10}
"$@" &
pid=$!
start=$(date +%s)
printf 'seconds\trss_mib\tpeak_rss_mib\n' >&2
while kill -0 "$pid" 2>/dev/null; do
  if [ -r "/proc/$pid/status" ]; then
    awk -v t=$(( $(date +%s) - start )) '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} END {if (r) printf "%d\t%.0f\t%.0f\n", t, r/1024, h/1024}' "/proc/$pid/status" >&2 || true
  fi
  sleep "$interval"
done
wait "$pid"
