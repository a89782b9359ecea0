#!/usr/bin/env bash
# Runs Parley as a cluster on one machine until Ctrl-C, which stops it all:
# PostgreSQL (the history), Redis (the bus), three parleyd nodes, HAProxy in
# front of them (round robin, no stickiness) and the chat demo, which talks to
# HAProxy only. docs/scaling.md explains the parts.
#
#   CLUSTER_DIR    where PostgreSQL and Redis keep their files (default
#                  /tmp/parley-cluster; the history survives restarts of the cluster)
#   CLUSTER_PORT   HAProxy's port, the one clients use (default 8787)
#   NODE_PORTS     the nodes' own ports (default "8801 8802 8803")
#   DEMO_PORT      the demo's port (default 3000); NO_DEMO=1 runs without it
#   PARLEYD_ARGS   more flags for every node's command line, e.g.
#                  "--max-connections-per-ip 10000 --max-handshakes-per-ip 10000":
#                  behind HAProxy every client comes from 127.0.0.1, so a load
#                  test from one machine needs the per-address limits raised
#                  (bench/storm.mjs does)
#
# Each node's command line is written to $CLUSTER_DIR/node<N>.sh and its pid to
# $CLUSTER_DIR/node<N>.pid, so a node can be killed and started again by hand
# (or by the end-to-end tests) while the rest runs.
set -euo pipefail
cd "$(dirname "$0")/.."

CLUSTER_DIR=${CLUSTER_DIR:-/tmp/parley-cluster}
CLUSTER_PORT=${CLUSTER_PORT:-8787}
NODE_PORTS=${NODE_PORTS:-"8801 8802 8803"}
DEMO_PORT=${DEMO_PORT:-3000}
NO_DEMO=${NO_DEMO:-0}
PARLEYD_ARGS=${PARLEYD_ARGS:-}
PG_PORT=55432  # names PostgreSQL's socket file only: it listens on no TCP port

ports="$CLUSTER_PORT $NODE_PORTS"
[ "$NO_DEMO" = 1 ] || ports="$ports $DEMO_PORT"
for port in $ports; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "cluster: port $port is already in use (another cluster or demo still running?)." >&2
    exit 1
  fi
done

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
for tool in "$pg_bin/initdb" "$pg_bin/pg_ctl" redis-server haproxy; do
  command -v "$tool" >/dev/null || { echo "cluster: $tool is missing (make setup installs it)" >&2; exit 1; }
done

# HAProxy and the nodes hold a descriptor per connection (HAProxy two): the
# soft limit goes up to the hard one (at most 65536; HAProxy's maxconn follows
# it), which every process started here inherits.
nofile=$(ulimit -Hn)
if [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ]; then nofile=65536; fi
[ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -ge "$nofile" ] || ulimit -n "$nofile" 2>/dev/null || true

mkdir -p "$CLUSTER_DIR"
CLUSTER_DIR=$(cd "$CLUSTER_DIR" && pwd)
# PostgreSQL refuses to run as root: its tools run as the postgres user then.
as_pg=()
if [ "$(id -u)" = 0 ]; then
  as_pg=(runuser -u postgres --)
  chown postgres "$CLUSTER_DIR"
fi

groups=()
any_alive() {
  local p
  for p in "$@"; do kill -0 "$p" 2>/dev/null && return 0; done
  return 1
}
cleanup() {
  trap - INT TERM EXIT
  for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  local nodes=() f p
  for f in "$CLUSTER_DIR"/node*.pid; do [ -f "$f" ] && nodes+=("$(cat "$f")"); done
  for p in "${nodes[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # The nodes are not this shell's children (node<N>.sh starts them), so wait
  # does not see them: wait for them here (their shutdown grace is 3 s), so
  # that they are gone when this script is, and their last writes reach
  # PostgreSQL before it stops.
  for _ in $(seq 1 100); do
    any_alive "${nodes[@]}" || break
    sleep 0.1
  done
  "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$CLUSTER_DIR/pg" -m fast -w stop >/dev/null 2>&1 || true
  rm -f "$CLUSTER_DIR"/node*.pid
  echo
  echo "cluster stopped"
}
trap cleanup INT TERM EXIT

if [ ! -f "$CLUSTER_DIR/pg/PG_VERSION" ]; then
  echo "cluster: creating the PostgreSQL cluster in $CLUSTER_DIR/pg"
  "${as_pg[@]}" "$pg_bin/initdb" -D "$CLUSTER_DIR/pg" -A trust -U parley --no-sync >"$CLUSTER_DIR/initdb.log"
fi
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$CLUSTER_DIR/pg" -l "$CLUSTER_DIR/postgres.log" -w \
  -o "-k $CLUSTER_DIR -p $PG_PORT -c listen_addresses=''" start >/dev/null
"${as_pg[@]}" "$pg_bin/psql" -h "$CLUSTER_DIR" -p "$PG_PORT" -U parley -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = 'parley'" | grep -q 1 ||
  "${as_pg[@]}" "$pg_bin/psql" -h "$CLUSTER_DIR" -p "$PG_PORT" -U parley -d postgres -qc "CREATE DATABASE parley"
storage="postgresql://parley@/parley?host=$CLUSTER_DIR&port=$PG_PORT"

rm -f "$CLUSTER_DIR/redis.sock"
setsid redis-server --port 0 --unixsocket "$CLUSTER_DIR/redis.sock" --unixsocketperm 700 --save '' \
  --appendonly no --dir "$CLUSTER_DIR" --logfile "$CLUSTER_DIR/redis.log" &
groups+=($!)
bus="redis+unix://$CLUSTER_DIR/redis.sock"

# The nodes' secrets, as the cluster was started (readable by this user only):
# a node started again by hand from another shell signs and checks the same.
(
  umask 077
  {
    if [ -n "${PARLEY_JWT_SECRET:-}" ]; then printf 'export PARLEY_JWT_SECRET=%q\n' "$PARLEY_JWT_SECRET"; fi
    printf 'export PARLEY_ADMIN_TOKEN=%q\n' "${PARLEY_ADMIN_TOKEN:-cluster-admin}"
  } >"$CLUSTER_DIR/secrets.env"
)

n=0
servers=""
for port in $NODE_PORTS; do
  n=$((n + 1))
  cat >"$CLUSTER_DIR/node$n.sh" <<NODE
#!/usr/bin/env bash
# Node $n of the cluster: starts it in the background, its pid in node$n.pid,
# with the secrets the cluster started with (secrets.env), from any shell.
cd "$PWD"
. "$CLUSTER_DIR/secrets.env"
setsid ./build/native/server/parleyd --port $port --storage '$storage' --bus '$bus' $PARLEYD_ARGS \\
  >>"$CLUSTER_DIR/node$n.log" 2>&1 &
echo \$! >"$CLUSTER_DIR/node$n.pid"
NODE
  chmod +x "$CLUSTER_DIR/node$n.sh"
  "$CLUSTER_DIR/node$n.sh"
  servers="$servers    server node$n 127.0.0.1:$port check inter 1s fall 2 rise 1
"
done

# Every node up (and on the bus) before HAProxy starts: a node HAProxy's first
# health check finds still starting is marked DOWN, and until the next check
# round robin skips it, so the clients of a busy start pile onto the others.
healthy() {
  for port in "$@"; do
    curl -fs "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"bus":"up"' || return 1
  done
}
ready=0
for _ in $(seq 1 150); do
  if healthy $NODE_PORTS; then ready=1; break; fi
  sleep 0.2
done
if [ "$ready" != 1 ]; then
  echo "cluster: the nodes were not up within 30 s; logs in $CLUSTER_DIR" >&2
  exit 1
fi

# HAProxy needs two descriptors per connection (client and node side).
maxconn=$(( $(ulimit -n) / 2 - 100 ))
cat >"$CLUSTER_DIR/haproxy.cfg" <<CFG
global
    maxconn $maxconn
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
    option http-server-close
frontend parley
    bind 127.0.0.1:$CLUSTER_PORT
    default_backend nodes
backend nodes
    balance roundrobin
    option httpchk GET /healthz
    retry-on conn-failure empty-response
    retries 3
    option redispatch
$servers
CFG
setsid haproxy -f "$CLUSTER_DIR/haproxy.cfg" -db >"$CLUSTER_DIR/haproxy.log" 2>&1 &
groups+=($!)

if [ "$NO_DEMO" != 1 ]; then
  PARLEY_URL="ws://localhost:$CLUSTER_PORT/ws" PARLEY_UPLOAD_DIR="$CLUSTER_DIR/uploads" NEXT_TELEMETRY_DISABLED=1 \
    setsid npm run start -w chat-nextjs --silent -- -p "$DEMO_PORT" >"$CLUSTER_DIR/demo.log" 2>&1 &
  groups+=($!)
fi

ready=0
for _ in $(seq 1 150); do
  ok=1
  healthy $NODE_PORTS $CLUSTER_PORT || ok=0
  [ "$NO_DEMO" = 1 ] || curl -fs "http://127.0.0.1:$DEMO_PORT" >/dev/null 2>&1 || ok=0
  if [ "$ok" = 1 ]; then ready=1; break; fi
  sleep 0.2
done
if [ "$ready" != 1 ]; then
  echo "cluster: not up within 30 s; logs in $CLUSTER_DIR" >&2
  exit 1
fi
cat <<MSG

  Parley cluster is running: PostgreSQL, Redis, nodes on ports ${NODE_PORTS// /, },
  HAProxy on ws://localhost:$CLUSTER_PORT/ws (round robin).
MSG
[ "$NO_DEMO" = 1 ] || cat <<MSG

      http://localhost:$DEMO_PORT

  Open it in several tabs: each lands on a node in turn. Kill a node
  (kill -9 \$(cat $CLUSTER_DIR/node1.pid)) and its tabs move to another;
  start it again with $CLUSTER_DIR/node1.sh.
MSG
cat <<MSG

  Logs and files: $CLUSTER_DIR. Press Ctrl-C to stop everything.

MSG
# Runs until Ctrl-C (or until HAProxy, Redis or the demo ends).
wait -n
