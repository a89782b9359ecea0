#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test Parley.
# Idempotent: apt only runs for missing packages, npm ci only when the
# lockfile changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  g++ cmake ninja-build make clang-format  # native build, format check
  libgtest-dev googletest               # GoogleTest (headers, and sources for the WASM build)
  libbenchmark-dev                      # Google Benchmark (bench/)
  clang-14 libclang-rt-14-dev           # libFuzzer targets (tests/fuzz/)
  libboost1.81-dev libssl-dev           # Boost.Asio/Beast, OpenSSL (JWT HMAC)
  libsqlite3-dev                        # embedded storage
  libpq-dev postgresql                  # PostgreSQL storage (libpq), and the server its tests start
  libhiredis-dev redis-server haproxy    # the Redis bus (hiredis's RESP code), and the cluster tests' Redis and load balancer
  libcereal-dev rapidjson-dev libvalijson-dev  # protocol layer (header-only)
  emscripten                            # em++ for the WebAssembly client
  chromium                              # end-to-end tests
  fonts-noto-color-emoji                # reactions in the e2e screenshots
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 20.19: ESLint 10's floor (make lint); the published package itself needs only Node 20.
node_ok=$(node -p 'const [a, b] = process.versions.node.split(".").map(Number); a > 20 || (a === 20 && b >= 19) ? 1 : 0' \
  2>/dev/null || echo 0)
if [ "$node_ok" != 1 ]; then
  echo "setup: Node.js 20.19 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# npm ci when package-lock.json changed since the last successful install.
mkdir -p .stamps
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat .stamps/npm-ci 2>/dev/null)" != "$lock_hash" ]; then
  echo "setup: npm ci"
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > .stamps/npm-ci
fi
