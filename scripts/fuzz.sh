#!/usr/bin/env bash
# Runs every decoder's libFuzzer target (protocol codecs, WebSocket framing) for N seconds (default 60) from seeds
# made of the shared test vectors; fails on any crash or sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
dir=build/fuzz
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/fuzz/ubsan.supp"
export ASAN_OPTIONS="detect_leaks=1"
"$dir/tests/fuzz/fuzz_corpus" "$dir/corpus"
mkdir -p "$dir/crashes"
for target in json_client json_server binary_client binary_server ws_frame; do
  log="$dir/fuzz_$target.log"
  if ! "$dir/tests/fuzz/fuzz_$target" "$dir/corpus/$target" -max_total_time="$seconds" -max_len=65536 \
      -artifact_prefix="$dir/crashes/${target}-" -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: fuzz_$target FAILED (input saved under $dir/crashes/)" >&2
    exit 1
  fi
  runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | head -1)
  echo "fuzz: fuzz_$target ok: $runs(s)"
done
