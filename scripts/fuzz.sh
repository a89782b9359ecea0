#!/usr/bin/env bash
# Runs every libFuzzer target (protocol codecs, WebSocket framing, a whole connection in process) for N seconds
# (default 60) from seeds made of the shared test vectors; fails on any crash or sanitizer report. With
# FUZZ_RUNS=<n> each target runs n executions instead (`make fuzz-campaign`: at least 10 M each).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
dir=build/fuzz
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/fuzz/ubsan.supp"
export ASAN_OPTIONS="detect_leaks=1"
"$dir/tests/fuzz/fuzz_corpus" "$dir/corpus"
mkdir -p "$dir/crashes"
limit=(-max_total_time="$seconds")
[ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
for target in json_client json_server binary_client binary_server ws_frame connection; do
  log="$dir/fuzz_$target.log"
  # A connection's input is many frames: shorter inputs keep a run quick (the
  # target's parleyd refuses messages over 4 KiB anyway).
  max_len=65536
  [ "$target" = connection ] && max_len=8192
  if ! "$dir/tests/fuzz/fuzz_$target" "$dir/corpus/$target" "${limit[@]}" -max_len="$max_len" \
      -artifact_prefix="$dir/crashes/${target}-" -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: fuzz_$target FAILED (input saved under $dir/crashes/)" >&2
    exit 1
  fi
  runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | head -1)
  echo "fuzz: fuzz_$target ok: $runs(s)"
done
