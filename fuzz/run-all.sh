#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 600) one after another, growing the
# committed corpus, and writes each run's last lines to fuzz/logs/<target>.log.
# Usage: fuzz/run-all.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(token_request client_assertion key_import scope claim_transforms)
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
mkdir -p logs
for t in "${targets[@]}"; do
  bin="target/x86_64-unknown-linux-gnu/release/$t"
  echo "== $t: ${secs}s ($(date -u +%FT%TZ))"
  "$bin" "corpus/$t" -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 >"logs/$t.full" 2>&1 \
    || { echo "$t FAILED"; tail -40 "logs/$t.full"; exit 1; }
  { echo "target: $t, max_total_time=${secs}s, finished $(date -u +%FT%TZ)"; grep -E '^(#[0-9]+.*DONE|Done|stat::)' "logs/$t.full"; } >"logs/$t.log"
  rm -f "logs/$t.full"
  cat "logs/$t.log"
done
