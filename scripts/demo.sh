#!/usr/bin/env bash
# Runs parleyd (embedded defaults) and the chat demo's production build until
# Ctrl-C, which stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

PARLEYD_PORT=${PARLEYD_PORT:-8787}
DEMO_PORT=${DEMO_PORT:-3000}
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo
  echo "demo stopped"
}
trap cleanup INT TERM EXIT

./build/native/server/parleyd --port "$PARLEYD_PORT" &
pids+=($!)
PARLEY_URL=${PARLEY_URL:-} NEXT_TELEMETRY_DISABLED=1 \
  npm run start -w chat-nextjs --silent -- -p "$DEMO_PORT" >/dev/null &
pids+=($!)

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$DEMO_PORT" >/dev/null 2>&1 && break
  sleep 0.2
done
cat <<MSG

  Parley chat demo is running:

      http://localhost:$DEMO_PORT

  Open it in two browser tabs (or windows), pick two names, and chat.
  parleyd listens on ws://localhost:$PARLEYD_PORT/ws. Press Ctrl-C to stop both.

MSG
wait -n "${pids[@]}"
