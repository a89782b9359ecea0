#!/usr/bin/env bash
# Runs parleyd (embedded defaults) and the chat demo's production build until
# Ctrl-C, which stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

PARLEYD_PORT=${PARLEYD_PORT:-8787}
DEMO_PORT=${DEMO_PORT:-3000}

for port in "$PARLEYD_PORT" "$DEMO_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "demo: port $port is already in use (another demo still running?)." >&2
    echo "      Stop it, or choose other ports: PARLEYD_PORT=8788 DEMO_PORT=3001 make demo" >&2
    exit 1
  fi
done

# Each server runs in its own process group, so stopping it stops its children too.
groups=()
cleanup() {
  trap - INT TERM EXIT
  for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo
  echo "demo stopped"
}
trap cleanup INT TERM EXIT

setsid ./build/native/server/parleyd --port "$PARLEYD_PORT" &
groups+=($!)
PARLEY_URL="ws://localhost:$PARLEYD_PORT/ws" PARLEY_UPLOAD_DIR="$PWD/data/uploads" NEXT_TELEMETRY_DISABLED=1 \
  setsid npm run start -w chat-nextjs --silent -- -p "$DEMO_PORT" >/dev/null &
groups+=($!)

ready=0
for _ in $(seq 1 150); do
  if curl -fs "http://127.0.0.1:$PARLEYD_PORT/healthz" >/dev/null 2>&1 &&
     curl -fs "http://127.0.0.1:$DEMO_PORT" >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 0.2
done
if [ "$ready" != 1 ]; then
  echo "demo: the servers did not come up within 30 s" >&2
  exit 1
fi
cat <<MSG

  Parley chat demo is running:

      http://localhost:$DEMO_PORT

  Open it in two browser tabs (or windows), pick two names, and chat.
  parleyd listens on ws://localhost:$PARLEYD_PORT/ws. Press Ctrl-C to stop both.

MSG
wait -n
