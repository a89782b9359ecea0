#!/usr/bin/env bash
# Runs every libFuzzer target (protocol codecs, WebSocket framing, a whole connection in process) from seeds made
# of the shared test vectors; fails on any crash or sanitizer report.
#   scripts/fuzz.sh [seconds]           each target for N seconds (default 60): `make test-fuzz` (10 s)
#   FUZZ_RUNS=n scripts/fuzz.sh         each target for n executions in all, split over FUZZ_JOBS processes
#                                       (default 2) sharing the corpus: `make fuzz` (10 M, one process per core)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
dir=build/fuzz
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/fuzz/ubsan.supp"
export ASAN_OPTIONS="detect_leaks=1"
"$dir/tests/fuzz/fuzz_corpus" "$dir/corpus"
mkdir -p "$dir/crashes"
jobs=1
limit=(-max_total_time="$seconds")
if [ -n "${FUZZ_RUNS:-}" ]; then
  jobs=${FUZZ_JOBS:-2}
  limit=(-runs=$(( (FUZZ_RUNS + jobs - 1) / jobs )))
fi
for target in json_client json_server binary_client binary_server ws_frame connection; do
  # A connection's input is many frames: shorter inputs keep a run quick (the
  # target's parleyd refuses messages over 4 KiB anyway).
  max_len=65536
  [ "$target" = connection ] && max_len=8192
  started=$(date +%s)
  pids=()
  for j in $(seq 1 "$jobs"); do
    "$dir/tests/fuzz/fuzz_$target" "$dir/corpus/$target" "${limit[@]}" -max_len="$max_len" \
      -artifact_prefix="$dir/crashes/${target}-" -print_final_stats=1 >"$dir/fuzz_$target.$j.log" 2>&1 &
    pids+=($!)
  done
  runs=0
  for j in $(seq 1 "$jobs"); do
    log="$dir/fuzz_$target.$j.log"
    if ! wait "${pids[$((j - 1))]}"; then
      tail -40 "$log"
      echo "fuzz: fuzz_$target FAILED (input saved under $dir/crashes/)" >&2
      kill "${pids[@]}" 2>/dev/null || true
      exit 1
    fi
    n=$(grep -o 'Done [0-9]* runs' "$log" | head -1 | grep -o '[0-9]*')
    runs=$((runs + ${n:-0}))
  done
  corpus=$(ls "$dir/corpus/$target" | wc -l)
  echo "fuzz: fuzz_$target ok: $runs runs in $(( $(date +%s) - started )) s, $jobs process(es), corpus $corpus inputs"
done
