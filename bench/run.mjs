#!/usr/bin/env node
// The server benchmarks of issue 7: parleyd (in-memory store and SQLite)
// against a Node `ws` server and a Socket.IO 4.8 server doing the same job,
// side by side in one invocation. Run by `make bench`.
//
// Each scenario runs every server in turn, in rounds (the order rotates each
// round), with the server pinned to core 0 and the load generator
// (build/native/bench/parley_loadgen) to core 1. It prints one table per
// scenario: the median [min-max] of the rounds for each server, and Parley's
// ratio of medians against each peer. It writes bench/results/latest.json and
// the plot docs/performance.png (gnuplot).
//
//   node bench/run.mjs                       everything (about 10 minutes on 2 cores)
//   BENCH_SCENARIOS=fanout,idle node bench/run.mjs
//   BENCH_SERVERS=parley-memory,ws BENCH_ROUNDS=1 node bench/run.mjs
//   node bench/run.mjs --plot-only           redraw the plot from the results file
//   node bench/run.mjs --tables              print the tables of the results file again
// Environment: BENCH_ROUNDS (3), BENCH_SCENARIOS (fanout,saturation,idle,storm,client),
// BENCH_SERVERS (parley-memory,parley-sqlite,parley-postgres,parley-bus,ws,socketio; also parley-sqlite-inline), BENCH_NICE (-20 as root: the
// server and the load generator run at this niceness, ahead of other work on a shared
// machine; "off" to leave it),
// BENCH_CONTENTION (0.1: a fan-out or saturation run whose windows saw more than this many
// cores of other work on core 0 or 1 is tried again, up to twice, BENCH_REPEATS (8) times in all),
// BENCH_OUT (bench/results/latest.json), BENCH_PLOT (docs/performance.png; "off" for none).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LOADGEN_BUILT = join(ROOT, 'build/native/bench/parley_loadgen');
const PARLEYD_BUILT = join(ROOT, 'build/native/server/parleyd');
// Copies of the binaries, taken at the start: a rebuild during the run changes nothing.
let LOADGEN = LOADGEN_BUILT;
let PARLEYD = PARLEYD_BUILT;
const SECRET = 'bench-secret-0123456789abcdef';

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const SCENARIOS = (env.BENCH_SCENARIOS ?? 'fanout,saturation,idle,storm,client').split(',').filter(Boolean);
const SERVER_IDS = (env.BENCH_SERVERS ?? 'parley-memory,parley-sqlite,parley-postgres,parley-bus,ws,socketio').split(',').filter(Boolean);
const OUT = env.BENCH_OUT ?? join(ROOT, 'bench/results/latest.json');
const PLOT = env.BENCH_PLOT ?? join(ROOT, 'docs/performance.png');
const isRoot = process.getuid?.() === 0;
const NICE = env.BENCH_NICE === 'off' ? null : (env.BENCH_NICE ?? (isRoot ? '-20' : null));
const CONTENTION_LIMIT = Number(env.BENCH_CONTENTION ?? 0.1); // cores of other work tolerated in a window
const REPEATS = 2; // extra tries of one disturbed run
const REPEAT_BUDGET = Number(env.BENCH_REPEATS ?? 8); // extra tries in the whole invocation

// ------------------------------------------------------------------ scenarios' settings

const FANOUT = { rooms: 10, perRoom: 100, rates: [200, 1000], warmup: 1, window: 3, drain: 3 };
const SATURATION = { rooms: 10, perRoom: 100, startRate: 500, factor: 1.25, step: 1, stepWarmup: 0.4, maxRate: 20000, maxP99: 500 };
const IDLE = { connections: 10000, perRoom: 100, settle: 2, sources: 4 };
const STORM = { connections: 2000, perRoom: 100, rate: 100, timeout: 40 };

// ------------------------------------------------------------------ servers

const PARLEY_LIMITS = [
  '--threads', '1', // one core: one worker
  '--rate-messages', '1000000/1000000',
  '--user-rate-messages', '1000000/1000000',
  '--max-connections', '100000',
  '--max-connections-per-ip', '100000',
  '--max-handshakes-per-ip', '100000', // the load generator opens hundreds at once from a few addresses
  '--max-connections-per-user', '1000',
  '--max-queue-bytes', String(64 * 1024 * 1024),
];

const SERVERS = {
  'parley-memory': {
    label: 'Parley (memory)', proto: 'parley', parley: true,
    command: (port) => [PARLEYD, '--port', String(port), '--jwt-secret', SECRET, '--storage', 'memory', ...PARLEY_LIMITS],
    ready: { stream: 'stderr', re: /msg=listening .*?port=(\d+)/ },
  },
  'parley-sqlite': {
    label: 'Parley (SQLite)', proto: 'parley', parley: true, dataDir: true,
    command: (port, dir) => [PARLEYD, '--port', String(port), '--jwt-secret', SECRET, '--storage', 'sqlite', '--data-dir', dir,
      ...PARLEY_LIMITS],
    ready: { stream: 'stderr', re: /msg=listening .*?port=(\d+)/ },
  },
  // SQLite with requests on the I/O thread (--storage-threads 0): no storage
  // threads, so no group commit. Not in the default set: it says what the
  // storage threads and group commit changed (docs/performance.md).
  'parley-sqlite-inline': {
    label: 'Parley (SQLite, inline)', proto: 'parley', parley: true, dataDir: true,
    command: (port, dir) => [PARLEYD, '--port', String(port), '--jwt-secret', SECRET, '--storage', 'sqlite', '--data-dir', dir,
      '--storage-threads', '0', ...PARLEY_LIMITS],
    ready: { stream: 'stderr', re: /msg=listening .*?port=(\d+)/ },
  },
  // PostgreSQL 15 with its default durability (fsync, synchronous_commit on),
  // on the same core as parleyd: its CPU (postmaster and backends) counts as
  // the server's (--server-tree).
  'parley-postgres': {
    label: 'Parley (PostgreSQL)', proto: 'parley', parley: true, postgres: true,
    command: (port, dir, url) => [PARLEYD, '--port', String(port), '--jwt-secret', SECRET, '--storage', url, ...PARLEY_LIMITS],
    ready: { stream: 'stderr', re: /msg=listening .*?port=(\d+)/ },
  },
  // Two nodes on that PostgreSQL with a Redis bus (issue 15): each room's
  // sender on node A, its other members on node B, so every delivery crosses
  // the bus. Both nodes, Redis and PostgreSQL count as the server; compare
  // with parley-postgres, one node doing the same job (the "bus / one node" row).
  'parley-bus': {
    label: 'Parley (2 nodes, Redis bus)', proto: 'parley', parley: true, postgres: true, cluster: true,
    command: (port, dir, url, bus) => [PARLEYD, '--port', String(port), '--jwt-secret', SECRET, '--storage', url, '--bus', bus,
      ...PARLEY_LIMITS],
    ready: { stream: 'stderr', re: /msg=listening .*?port=(\d+)/ },
  },
  ws: {
    label: 'ws', proto: 'ws',
    command: (port) => [process.execPath, join(ROOT, 'bench/peers/ws-server.mjs'), '--port', String(port)],
    ready: { stream: 'stdout', re: /listening (\d+)/ },
  },
  socketio: {
    label: 'Socket.IO', proto: 'sio',
    command: (port) => [process.execPath, join(ROOT, 'bench/peers/socketio-server.mjs'), '--port', String(port)],
    ready: { stream: 'stdout', re: /listening (\d+)/ },
  },
};
for (const id of SERVER_IDS) if (!SERVERS[id]) fail(`unknown server ${id} in BENCH_SERVERS (${Object.keys(SERVERS).join(', ')})`);

// ------------------------------------------------------------------ processes

const children = new Set();
const tempDirs = new Set();

function cleanup() {
  if (postgres) {
    postgres.stop();
    postgres = null;
  }
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch {}
  }
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}: stopping every server and load generator`);
    cleanup();
    process.exit(130);
  });
}

function fail(message) {
  console.error(`bench: ${message}`);
  cleanup();
  process.exit(1);
}

// Pinned to a core (taskset) and, as root, at a higher priority than the
// builds that share the machine (nice).
function pinned(core, argv) {
  const prefix = ['taskset', '-c', String(core)];
  return NICE ? ['nice', '-n', NICE, ...prefix, ...argv] : [...prefix, ...argv];
}

function launch(argv, { onStdout, onStderr } = {}) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.log = '';
  const keep = (chunk) => {
    child.log += chunk;
    if (child.log.length > 64 * 1024) child.log = child.log.slice(-32 * 1024);
  };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { keep(d); onStdout?.(d); });
  child.stderr.on('data', (d) => { keep(d); onStderr?.(d); });
  child.done = new Promise((resolve) => child.on('exit', (code, signal) => {
    children.delete(child);
    child.exited = { code, signal };
    resolve(child.exited);
  }));
  child.on('error', (e) => { child.spawnError = e; });
  return child;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tail = (text, n = 15) => text.trim().split('\n').slice(-n).join('\n');

// One throw-away PostgreSQL cluster per invocation (as the postgres user when
// root, as the toolchain notes say), on a Unix socket only, pinned to the
// servers' core; a fresh database for each run of parley-postgres.
let postgres = null;
function ensurePostgres() {
  if (postgres) return postgres;
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => b - a) : [];
  if (!versions.length) fail('parley-postgres needs PostgreSQL (make setup installs it)');
  const bin = `/usr/lib/postgresql/${versions[0]}/bin`;
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-pg-'));
  tempDirs.add(dir);
  const asPostgres = isRoot ? ['runuser', '-u', 'postgres', '--'] : [];
  if (isRoot) spawnSync('chown', ['postgres', dir]);
  const port = 55400 + (process.pid % 500);
  const run = (argv) => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) fail(`PostgreSQL: ${argv.join(' ')} failed:\n${tail((r.stdout ?? '') + (r.stderr ?? ''))}`);
    return r.stdout;
  };
  run([...asPostgres, join(bin, 'initdb'), '-D', join(dir, 'pg'), '-A', 'trust', '-U', 'parley', '--no-sync']);
  run(['taskset', '-c', '0', ...asPostgres, join(bin, 'pg_ctl'), '-D', join(dir, 'pg'), '-l', join(dir, 'log'), '-w', '-o',
    `-k ${dir} -p ${port} -c listen_addresses=''`, 'start']);
  const pid = Number(readFileSync(join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const stop = [...asPostgres, join(bin, 'pg_ctl'), '-D', join(dir, 'pg'), '-m', 'fast', 'stop'];
  postgres = { bin, dir, port, pid, databases: 0, stop: () => spawnSync(stop[0], stop.slice(1)) };
  return postgres;
}

function freshPostgresDatabase() {
  const pg = ensurePostgres();
  const name = `bench_${++pg.databases}`;
  const r = spawnSync(join(pg.bin, 'psql'), ['-h', pg.dir, '-p', String(pg.port), '-U', 'parley', '-d', 'postgres', '-q', '-c',
    `CREATE DATABASE ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) fail(`PostgreSQL: CREATE DATABASE ${name} failed: ${r.stderr}`);
  return `postgresql://parley@/${name}?host=${encodeURIComponent(pg.dir)}&port=${pg.port}`;
}

// A Redis for the bus (no persistence), on a Unix socket, on the servers' core.
async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-redis-'));
  tempDirs.add(dir);
  const socket = join(dir, 'redis.sock');
  const child = launch(pinned(0, ['redis-server', '--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no',
    '--dir', dir]));
  const deadline = Date.now() + 10000;
  while (spawnSync('redis-cli', ['-s', socket, 'ping'], { encoding: 'utf8' }).stdout?.trim() !== 'PONG') {
    if (child.exited || child.spawnError || Date.now() > deadline) fail(`redis-server did not start:\n${tail(child.log)}`);
    await sleep(20);
  }
  return { child, pid: child.pid, dir, url: `redis+unix://${socket}` };
}

async function startServer(id, opts = {}) {
  if (!SERVERS[id].cluster) return startOne(id, opts);
  // The bus's two nodes: the publishers' (A) and the members' (B, the one the table names).
  const redis = await startRedis();
  const url = opts.url ?? freshPostgresDatabase();
  const a = await startOne(id, { url, bus: redis.url });
  const b = await startOne(id, { url, bus: redis.url, port: opts.port ?? 0 });
  for (const node of [a, b]) {
    const deadline = Date.now() + 10000;
    while (!/"bus":"up"/.test(await fetch(`http://127.0.0.1:${node.port}/healthz`).then((r) => r.text(), () => ''))) {
      if (Date.now() > deadline) fail(`a node of ${SERVERS[id].label} never saw its bus up:\n${tail(node.child.log)}`);
      await sleep(20);
    }
  }
  return { ...b, publisherPort: a.port, trees: [a.pid, redis.pid], others: [a, { child: redis.child, dir: redis.dir }] };
}

async function startOne(id, { port = 0, dir, url, bus } = {}) {
  const s = SERVERS[id];
  if (s.dataDir && !dir) {
    dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
    tempDirs.add(dir);
  }
  // A restart (the storm) keeps its database, as it keeps its data folder.
  if (s.postgres && !url) url = freshPostgresDatabase();
  const argv = pinned(0, s.command(port, dir, url, bus));
  let seen = '';
  let found = null;
  const watch = (d) => {
    if (found) return;
    seen += d;
    const m = seen.match(s.ready.re);
    if (m) found = Number(m[1]);
  };
  const child = launch(argv, s.ready.stream === 'stderr' ? { onStderr: watch } : { onStdout: watch });
  const deadline = Date.now() + 15000;
  while (!found) {
    if (child.spawnError) fail(`${s.label} could not be started (${argv.join(' ')}): ${child.spawnError.message}`);
    if (child.exited) {
      fail(`${s.label} exited (${JSON.stringify(child.exited)}) before listening:\n  ${argv.join(' ')}\n${tail(child.log)}`);
    }
    if (Date.now() > deadline) fail(`${s.label} did not start listening within 15 s:\n  ${argv.join(' ')}\n${tail(child.log)}`);
    await sleep(20);
  }
  return { id, child, pid: child.pid, port: found, dir, url, argv };
}

async function stopServer(server, { keepDir = false } = {}) {
  for (const other of server.others ?? []) await stopServer(other, { keepDir });
  const { child } = server;
  if (!child.exited) {
    child.kill('SIGTERM');
    const result = await Promise.race([child.done, sleep(6000).then(() => null)]);
    if (!result) {
      child.kill('SIGKILL');
      await child.done;
    }
  }
  if (server.dir && !keepDir) {
    rmSync(server.dir, { recursive: true, force: true });
    tempDirs.delete(server.dir);
  }
}

// Runs the load generator; resolves with its JSON result lines. `onEvent`
// sees the lines that are events ({"event": ...}) as they come.
async function loadgen(args, { timeoutS = 180, onEvent } = {}) {
  const argv = pinned(1, [LOADGEN, ...args]);
  const lines = [];
  let buffered = '';
  const child = launch(argv, {
    onStdout: (d) => {
      buffered += d;
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        let obj;
        try { obj = JSON.parse(line); } catch { continue; }
        if (obj.event) onEvent?.(obj);
        else lines.push(obj);
      }
    },
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
  const exited = await child.done;
  clearTimeout(timer);
  if (child.spawnError) fail(`cannot run the load generator ${LOADGEN}: ${child.spawnError.message}`);
  const error = lines.find((l) => l.error);
  if (exited.code !== 0 || error) {
    throw new Error(`load generator failed (${error?.error ?? JSON.stringify(exited)}):\n  ${argv.join(' ')}\n${tail(child.log)}`);
  }
  return lines;
}

// ------------------------------------------------------------------ one run of each scenario

async function withServer(id, fn) {
  const server = await startServer(id);
  try {
    await sleep(300); // let it settle before the baseline samples
    return await fn(server);
  } finally {
    await stopServer(server);
  }
}

const common = (server) => ['--proto', SERVERS[server.id].proto, '--port', String(server.port), '--server-pid', String(server.pid),
  ...(SERVERS[server.id].postgres ? ['--server-tree', String(ensurePostgres().pid)] : []),
  ...(server.trees ?? []).flatMap((pid) => ['--server-tree', String(pid)]),
  ...(server.publisherPort ? ['--publisher-port', String(server.publisherPort)] : []), '--secret', SECRET];

async function runFanout(id) {
  return withServer(id, async (server) => {
    const out = await loadgen([...common(server), '--scenario', 'fanout', '--rooms', String(FANOUT.rooms),
      '--per-room', String(FANOUT.perRoom), '--rates', FANOUT.rates.join(','), '--warmup', String(FANOUT.warmup),
      '--window', String(FANOUT.window), '--drain', String(FANOUT.drain)]);
    const byRate = {};
    for (const line of out) byRate[line.result.rate_msgs] = line.result;
    return byRate;
  });
}

async function runSaturation(id) {
  return withServer(id, async (server) => {
    const out = await loadgen([...common(server), '--scenario', 'saturation', '--rooms', String(SATURATION.rooms),
      '--per-room', String(SATURATION.perRoom), '--start-rate', String(SATURATION.startRate),
      '--factor', String(SATURATION.factor), '--step', String(SATURATION.step), '--step-warmup', String(SATURATION.stepWarmup),
      '--max-rate', String(SATURATION.maxRate), '--max-p99', String(SATURATION.maxP99)], { timeoutS: 300 });
    return compactSteps(out[0].result);
  });
}

async function runIdle(id) {
  return withServer(id, async (server) => {
    const out = await loadgen([...common(server), '--scenario', 'idle', '--connections', String(IDLE.connections),
      '--per-room', String(IDLE.perRoom), '--settle', String(IDLE.settle), '--sources', String(IDLE.sources)]);
    return out[0].result;
  });
}

async function runStorm(id) {
  let server = await startServer(id);
  try {
    await sleep(300);
    let restart = null;
    const out = await loadgen([...common(server), '--scenario', 'storm', '--connections', String(STORM.connections),
      '--per-room', String(STORM.perRoom), '--storm-rate', String(STORM.rate), '--storm-timeout', String(STORM.timeout)], {
      timeoutS: 240,
      onEvent: (e) => {
        if (e.event !== 'ready' || restart) return;
        // Restart the server on the same port (and the same database).
        restart = (async () => {
          const t0 = Date.now();
          await stopServer(server, { keepDir: true });
          const stopped = Date.now();
          server = await startServer(id, { port: server.port, dir: server.dir, url: server.url });
          return { stop_ms: stopped - t0, down_ms: Date.now() - t0 };
        })();
      },
    });
    if (!restart) throw new Error('the load generator never became ready for the restart');
    const r = await restart;
    return { ...out[0].result, server_stop_ms: r.stop_ms, server_down_ms: r.down_ms };
  } finally {
    await stopServer(server);
  }
}

// ------------------------------------------------------------------ statistics and tables

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const summary = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x));
  return v.length ? { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length } : null;
};

function fmt(x, unit) {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  if (unit === 'k') return Math.abs(x) >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`;
  if (unit === 'int') return String(Math.round(x));
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  return x.toFixed(2);
}
const cell = (s, unit) => (s ? (s.n > 1 && s.min !== s.max ? `${fmt(s.median, unit)} [${fmt(s.min, unit)}–${fmt(s.max, unit)}]` : fmt(s.median, unit)) : 'n/a');

function printTable(title, columns, rows) {
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

// metrics: [{ key, label, unit, lowerIsBetter }]; perServer: id -> array of round objects.
// Rows: one per server (median [min–max]), then Parley's ratio of medians against each peer.
function scenarioTable(title, metrics, perServer, note) {
  const ids = SERVER_IDS.filter((id) => perServer[id]?.length);
  const stats = {};
  for (const id of ids) {
    stats[id] = {};
    for (const m of metrics) stats[id][m.key] = summary(perServer[id].map((r) => (m.get ? m.get(r) : r[m.key])));
  }
  const rows = ids.map((id) => [SERVERS[id].label, ...metrics.map((m) => (m.show ? m.show(perServer[id], stats[id][m.key]) : cell(stats[id][m.key], m.unit)))]);
  const ratios = {};
  for (const p of ids.filter((id) => SERVERS[id].parley)) {
    for (const q of ids.filter((id) => !SERVERS[id].parley)) {
      const row = [`ratio ${SERVERS[p].label} / ${SERVERS[q].label}`];
      ratios[`${p}/${q}`] = {};
      for (const m of metrics) {
        const a = stats[p][m.key]?.median;
        const b = stats[q][m.key]?.median;
        const ok = m.ratio !== false && a !== null && a !== undefined && b;
        const r = ok ? a / b : null;
        ratios[`${p}/${q}`][m.key] = r;
        row.push(r === null ? '' : `${r.toFixed(2)}×`);
      }
      rows.push(row);
    }
  }
  // What the bus costs: the same job on two nodes against one.
  if (ids.includes('parley-bus') && ids.includes('parley-postgres')) {
    const row = ['ratio bus (2 nodes) / one node (PostgreSQL)'];
    ratios['parley-bus/parley-postgres'] = {};
    for (const m of metrics) {
      const a = stats['parley-bus'][m.key]?.median;
      const b = stats['parley-postgres'][m.key]?.median;
      const r = m.ratio !== false && a !== null && a !== undefined && b ? a / b : null;
      ratios['parley-bus/parley-postgres'][m.key] = r;
      row.push(r === null ? '' : `${r.toFixed(2)}×`);
    }
    rows.push(row);
  }
  printTable(title, ['server', ...metrics.map((m) => m.label)], rows);
  if (note) console.log(`\n${note}`);
  return { stats, ratios };
}

// ------------------------------------------------------------------ the tables

// The most CPU that other work took on either benchmark core during a window.
const others = (w) => Math.max(w?.core0_others_frac ?? 0, w?.core1_others_frac ?? 0);

// One function per scenario: its tables from its rounds (per: server id -> the
// rounds' results), printed, and the results file's entry. A run calls them as
// each scenario ends; --tables calls them on the results file of an earlier run.
const TABLES = {
  fanout(byRate) {
    const entry = {};
    for (const [rate, perRate] of Object.entries(byRate)) {
      const table = scenarioTable(
        `Fan-out: ${FANOUT.rooms} rooms × ${FANOUT.perRoom} members, ${rate} messages/s (${fmt(rate * FANOUT.perRoom, 'k')} deliveries/s offered), ${FANOUT.window} s window`,
        [
          { key: 'deliveries_per_s', label: 'deliveries/s', unit: 'k' },
          { key: 'p50_ms', label: 'p50 ms' },
          { key: 'p99_ms', label: 'p99 ms' },
          { key: 'max_ms', label: 'max ms' },
          { key: 'server_cpu_us_per_delivery', label: 'server CPU µs/delivery' },
          { key: 'server_cpu_frac', label: 'server CPU (cores)' },
          { key: 'server_rss_kb', label: 'server RSS MiB', get: (r) => r.server_rss_kb / 1024 },
          { key: 'lost', label: 'lost', unit: 'int', ratio: false },
          { key: 'loadgen_cpu_frac', label: 'loadgen CPU (cores)', ratio: false },
          { key: 'others', label: 'other work (cores)', get: (r) => others(r), ratio: false },
        ],
        perRate,
        'Deliveries: `message` frames received by the 100 members of each room (the publisher is one of them). Lost: after a drain of up to ' +
          `${FANOUT.drain} s. Other work: the most CPU that anything else took on the server's core or the load generator's during the ` +
          `window (/proc/stat), a sign of a shared machine; a run above ${CONTENTION_LIMIT} core is tried again (up to ${REPEATS} times).`,
      );
      entry[rate] = { rounds: perRate, ...table };
    }
    return entry;
  },
  saturation(per) {
    const show = (rs, s) => {
      const lower = rs.some((r) => r.lower_bound);
      return `${lower ? '≥ ' : ''}${cell(s, 'k')}`;
    };
    const table = scenarioTable(
      `Saturation: highest sustained deliveries/s (${SATURATION.rooms} rooms × ${SATURATION.perRoom}; the rate ×${SATURATION.factor} every ${SATURATION.step + SATURATION.stepWarmup} s from ${SATURATION.startRate} messages/s; a step is sustained when ≥ 95 % of the offered deliveries/s arrive with p99 < ${SATURATION.maxP99} ms)`,
      [
        { key: 'best_deliveries_per_s', label: 'sustained deliveries/s', unit: 'k', show },
        { key: 'cpu_at_best', label: 'server CPU µs/delivery at it', get: (r) => bestStep(r)?.server_cpu_us_per_delivery },
        { key: 'server_cpu_at_best', label: 'server CPU (cores) at it', get: (r) => bestStep(r)?.server_cpu_frac, ratio: false },
        { key: 'p99_at_best', label: 'p99 ms at it', get: (r) => bestStep(r)?.p99_ms },
        { key: 'best_loadgen_cpu_frac', label: 'loadgen CPU (cores) at it', ratio: false },
        { key: 'others_at_best', label: 'other work (cores) at it', get: (r) => others(bestStep(r)), ratio: false },
      ],
      per,
      '"≥": a lower bound (the load generator was above 0.9 of a core at the best or the failing step, or the top rate was reached). ' +
        'A step that falls behind is tried once more after a drain; the second failure ends the ladder. Other work: as in the fan-out ' +
        'tables, at the best step.',
    );
    return { rounds: per, ...table };
  },
  idle(per) {
    const table = scenarioTable(
      `Idle: ${IDLE.connections.toLocaleString('en')} connections joined to ${IDLE.connections / IDLE.perRoom} rooms (${IDLE.sources} source addresses)`,
      [
        { key: 'server_rss_per_conn_bytes', label: 'server RSS per connection (KiB)', get: (r) => r.server_rss_per_conn_bytes / 1024 },
        { key: 'server_rss_after_kb', label: 'server RSS MiB', get: (r) => r.server_rss_after_kb / 1024 },
        { key: 'establish_s', label: 'time to establish (s)' },
        { key: 'server_cpu_us_per_conn', label: 'server CPU µs per connection' },
        { key: 'loadgen_cpu_frac', label: 'loadgen CPU (cores)', ratio: false },
      ],
      per,
      `RSS per connection: (RSS ${IDLE.settle} s after the last join − RSS before the first connection) / connections. ` +
        'Establish: TCP + WebSocket upgrade + hello (Parley: a JWT) + join, 256 connections in flight.',
    );
    return { rounds: per, ...table };
  },
  storm(per) {
    const table = scenarioTable(
      `Reconnect storm: ${STORM.connections.toLocaleString('en')} clients in ${STORM.connections / STORM.perRoom} rooms, ${STORM.rate} messages/s, server restarted (SIGTERM, start again)`,
      [
        { key: 'back_99_ms', label: '99 % back (ms)' },
        { key: 'back_50_ms', label: '50 % back (ms)' },
        { key: 'back_all_ms', label: 'all back (ms)' },
        { key: 'server_down_ms', label: 'server down (ms)' },
        { key: 'lost', label: 'lost deliveries', unit: 'int', ratio: false },
        { key: 'messages_committed', label: 'messages published', unit: 'int', ratio: false },
        { key: 'storm_bucket_max_over_mean', label: 'busiest 100 ms / mean, until 99 % back', ratio: false },
        { key: 'bucket_max_over_mean', label: 'same, until the last attempt', ratio: false },
        { key: 'attempts', label: 'connect attempts', unit: 'int', ratio: false },
      ],
      per,
      'Times from the first connection lost. Clients reconnect with exponential backoff and full jitter (base 500 ms, cap 10 s, as Parley\'s client); ' +
        '"back" is joined again (Parley: hello + join with sinceSeq, replay included). Lost: published messages (Parley: acknowledged) that a member ' +
        'of the room never received (Parley with the in-memory store forgets every message on a restart, by design). Busiest 100 ms / mean: ' +
        'connect attempts in the busiest 100 ms bucket over the mean per bucket, from the first loss until 99 % were back, and until the last attempt ' +
        '(herd rule: ≤ 2).',
    );
    return { rounds: per, ...table };
  },
};

// ------------------------------------------------------------------ main

function machine() {
  const lscpu = spawnSync('lscpu', [], { encoding: 'utf8' }).stdout ?? '';
  const model = lscpu.match(/Model name:\s*(.+)/)?.[1]?.trim() ?? cpus()[0]?.model;
  const kernel = spawnSync('uname', ['-sr'], { encoding: 'utf8' }).stdout?.trim();
  const memKb = Number(readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)?.[1] ?? 0);
  return { cores: cpus().length, model, kernel, memory_gib: +(memKb / 1024 / 1024).toFixed(1), node: process.versions.node };
}

function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

async function main() {
  for (const [what, path] of [['the load generator', LOADGEN_BUILT], ['parleyd', PARLEYD_BUILT]]) {
    if (!existsSync(path)) fail(`${what} is missing (${path}): run make native (or cmake --build build/native --target parley_loadgen)`);
  }
  const bin = mkdtempSync(join(tmpdir(), 'parley-bench-bin-'));
  tempDirs.add(bin);
  LOADGEN = join(bin, 'parley_loadgen');
  PARLEYD = join(bin, 'parleyd');
  copyFileSync(LOADGEN_BUILT, LOADGEN);
  copyFileSync(PARLEYD_BUILT, PARLEYD);
  chmodSync(LOADGEN, 0o755);
  chmodSync(PARLEYD, 0o755);
  const git = (...args) => spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).stdout?.trim();
  for (const pkg of ['ws', 'socket.io']) {
    if (SERVER_IDS.some((id) => SERVERS[id].proto === (pkg === 'ws' ? 'ws' : 'sio')) && !packageVersion(pkg)) {
      fail(`the npm package ${pkg} is missing: run npm install at the repository root`);
    }
  }
  if (spawnSync('taskset', ['-c', '0', 'true']).status !== 0) fail('taskset cannot pin to core 0 (util-linux; 2 cores needed)');
  if (cpus().length < 2) fail('the benchmark needs 2 cores (the server on core 0, the load generator on core 1)');

  const started = new Date();
  const info = {
    date: started.toISOString(),
    machine: machine(),
    load_average_at_start: loadavg().map((x) => +x.toFixed(2)),
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommitted_changes: Boolean(git('status', '--porcelain', '--untracked-files=no')),
    parleyd_built: statSync(PARLEYD_BUILT).mtime.toISOString(),
    nice: NICE,
    rounds: ROUNDS,
    versions: { ws: packageVersion('ws'), 'socket.io': packageVersion('socket.io'), node: process.versions.node },
    settings: { fanout: FANOUT, saturation: SATURATION, idle: IDLE, storm: STORM, parleyd: PARLEY_LIMITS.join(' ') },
  };
  console.log(`bench: ${info.machine.cores} cores (${info.machine.model}), ${info.machine.kernel}, Node ${info.machine.node}; ` +
    `ws ${info.versions.ws}, socket.io ${info.versions['socket.io']}; load average ${info.load_average_at_start.join(' ')}`);
  console.log(`bench: servers on core 0, load generator on core 1 (taskset)${NICE ? `, both at nice ${NICE}` : ''}; ` +
    `${ROUNDS} rounds, servers interleaved; figures are medians [min–max]`);

  const results = { info, scenarios: {} };
  const rotate = (round) => SERVER_IDS.map((_, i) => SERVER_IDS[(i + round) % SERVER_IDS.length]);
  // A run whose measuring windows saw other work on the benchmark's cores
  // (`contention` returns the most, in cores) is repeated, up to REPEATS more
  // times within a budget for the whole invocation; the least disturbed try is kept.
  let repeatBudget = REPEAT_BUDGET;
  results.info.repeated_runs = 0;
  const rounds = async (name, fn, contention = () => 0, n = ROUNDS) => {
    const per = {};
    for (let round = 0; round < n; round++) {
      for (const id of rotate(round)) {
        const t = Date.now();
        process.stderr.write(`bench: ${name}, round ${round + 1}/${n}, ${SERVERS[id].label} ... `);
        try {
          let best = null;
          for (let attempt = 0; ; attempt++) {
            const r = await fn(id);
            const others = contention(r);
            if (!best || others < best.others) best = { r, others };
            if (others <= CONTENTION_LIMIT || attempt >= REPEATS || repeatBudget <= 0) break;
            repeatBudget--;
            results.info.repeated_runs++;
            process.stderr.write(`other work took ${others.toFixed(2)} core, again ... `);
          }
          best.r.contention_cores = +best.others.toFixed(3);
          (per[id] ??= []).push(best.r);
          process.stderr.write(`${((Date.now() - t) / 1000).toFixed(1)} s\n`);
        } catch (e) {
          process.stderr.write('failed\n');
          console.error(`bench: ${name} with ${SERVERS[id].label} failed: ${e.message}`);
          (results.failures ??= []).push({ scenario: name, server: id, round, error: e.message.slice(0, 2000) });
        }
      }
    }
    return per;
  };

  if (SCENARIOS.includes('fanout')) {
    const per = await rounds('fan-out', runFanout, (r) => Math.max(...Object.values(r).map(others)));
    const byRate = {};
    for (const rate of FANOUT.rates) {
      byRate[rate] = Object.fromEntries(Object.entries(per).map(([id, rs]) => [id, rs.map((r) => r[rate]).filter(Boolean)]));
    }
    results.scenarios.fanout = TABLES.fanout(byRate);
  }

  if (SCENARIOS.includes('saturation')) {
    // The best step and the one that ended the ladder decide the figure.
    const per = await rounds('saturation', runSaturation, (r) => {
      const i = r.steps.indexOf(bestStep(r));
      return Math.max(...r.steps.slice(Math.max(0, i), i + 3).map(others));
    });
    results.scenarios.saturation = TABLES.saturation(per);
  }

  if (SCENARIOS.includes('idle')) {
    const per = await rounds('idle', runIdle);
    results.scenarios.idle = TABLES.idle(per);
  }

  if (SCENARIOS.includes('storm')) {
    const per = await rounds('reconnect storm', runStorm);
    results.scenarios.storm = TABLES.storm(per);
  }

  if (SCENARIOS.includes('client')) {
    console.log('\n### Client core (WASM under Node) and size\n');
    const dist = join(ROOT, 'js-wrapper/dist');
    if (!existsSync(dist)) {
      console.log('skipped: js-wrapper/dist is not built (make js)');
    } else {
      const ingest = spawnSync('taskset', ['-c', '1', process.execPath, join(ROOT, 'bench/client/ingest.mjs')], { encoding: 'utf8' });
      if (ingest.status === 0) console.log(ingest.stdout.trim());
      else console.log(`client core: node bench/client/ingest.mjs failed (exit ${ingest.status}):\n${tail(`${ingest.stdout}${ingest.stderr}`, 6)}`);
      // Without a budget argument the script compares with the 40 kB target (and says when it is over).
      const size = spawnSync(process.execPath, [join(ROOT, 'scripts/client-size.mjs')], { encoding: 'utf8' });
      console.log(`${size.stdout}${size.stderr}`.trim());
      results.scenarios.client = {
        ingest: ingest.status === 0 ? ingest.stdout.trim().split('\n') : null,
        ingest_error: ingest.status === 0 ? undefined : tail(`${ingest.stdout}${ingest.stderr}`, 6),
        size: `${size.stdout}${size.stderr}`.trim(),
      };
    }
  }

  if (results.info.repeated_runs) console.log(`\nbench: ${results.info.repeated_runs} run(s) repeated because other work shared the cores`);
  results.info.load_average_at_end = loadavg().map((x) => +x.toFixed(2));
  results.info.duration_s = Math.round((Date.now() - started.getTime()) / 1000);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(results, null, 1)}\n`);
  console.log(`\nbench: results in ${OUT.replace(`${ROOT}/`, '')}; ${results.info.duration_s} s; load average at the end ` +
    `${results.info.load_average_at_end.join(' ')}`);
  if (PLOT !== 'off') plot(results);
  if (results.failures?.length) {
    console.error(`bench: ${results.failures.length} run(s) failed (see above)`);
    process.exitCode = 1;
  }
}

// The figures of each saturation step worth keeping in the results file.
const STEP_KEYS = ['offered_deliveries_per_s', 'deliveries_per_s', 'p50_ms', 'p99_ms', 'max_ms', 'server_cpu_frac',
  'server_cpu_us_per_delivery', 'loadgen_cpu_frac', 'core0_others_frac', 'core1_others_frac', 'kept_up', 'retry'];
function compactSteps(result) {
  const round = (v) => (typeof v === 'number' ? +v.toPrecision(4) : v);
  return { ...result, steps: result.steps.map((st) => Object.fromEntries(STEP_KEYS.filter((k) => k in st).map((k) => [k, round(st[k])]))) };
}

function bestStep(r) {
  return r.steps?.filter((s) => s.kept_up).sort((a, b) => b.deliveries_per_s - a.deliveries_per_s)[0] ?? null;
}

// ------------------------------------------------------------------ plot (gnuplot)

function plot(results) {
  if (spawnSync('gnuplot', ['--version']).status !== 0) {
    console.log('bench: no plot: gnuplot is not installed (apt-get install gnuplot-nox)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'parley-plot-'));
  tempDirs.add(dir);
  const ids = SERVER_IDS;
  const label = (id) => `"${SERVERS[id].label}"`;
  const sc = results.scenarios;
  const panels = [];
  const med = (table, id, key) => table?.stats?.[id]?.[key]?.median ?? NaN;

  if (sc.fanout) {
    const rates = Object.keys(sc.fanout);
    const rows = ids.map((id) => [label(id), ...rates.map((rate) => med(sc.fanout[rate], id, 'server_cpu_us_per_delivery'))].join(' '));
    writeFileSync(join(dir, 'cpu.dat'), `${rows.join('\n')}\n`);
    const rows99 = ids.map((id) => [label(id), ...rates.map((rate) => med(sc.fanout[rate], id, 'p99_ms'))].join(' '));
    writeFileSync(join(dir, 'p99.dat'), `${rows99.join('\n')}\n`);
    panels.push(`set title "Fan-out: server CPU per delivery (lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "µs per delivery"
set yrange [0:*]
set xtics nomirror
set key top left
plot ${rates.map((rate, i) => `"${dir}/cpu.dat" using ${i + 2}:xtic(1) title "${fmt(rate * FANOUT.perRoom, 'k')} deliveries/s"`).join(', ')}`);
    panels.push(`set title "Fan-out: end-to-end p99 latency (lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "ms"
set yrange [0:*]
set xtics nomirror
set key top left
plot ${rates.map((rate, i) => `"${dir}/p99.dat" using ${i + 2}:xtic(1) title "${fmt(rate * FANOUT.perRoom, 'k')} deliveries/s"`).join(', ')}`);
  }
  if (sc.saturation) {
    const files = [];
    for (const id of ids) {
      const rs = sc.saturation.rounds[id] ?? [];
      if (!rs.length) continue;
      // The round whose sustained figure is the median.
      const sorted = [...rs].sort((a, b) => a.best_deliveries_per_s - b.best_deliveries_per_s);
      const r = sorted[Math.floor((sorted.length - 1) / 2)];
      const file = join(dir, `sat-${id}.dat`);
      // One point per offered rate (a retried step: its better try).
      const points = new Map();
      for (const st of r.steps) points.set(st.offered_deliveries_per_s, Math.max(points.get(st.offered_deliveries_per_s) ?? 0, st.deliveries_per_s));
      writeFileSync(file, `${[...points].map(([x, y]) => `${x / 1000} ${y / 1000}`).join('\n')}\n`);
      files.push(`"${file}" using 1:2 with linespoints lw 2 title ${label(id)}`);
    }
    panels.push(`set title "Saturation: delivered vs offered (median round)"
set style data linespoints
set xlabel "offered, thousand deliveries/s"
set ylabel "delivered, thousand deliveries/s"
set xrange [0:*]
set yrange [0:*]
set key top left
plot x title "offered" dt 2 lc rgb "gray", ${files.join(', ')}`);
  }
  if (sc.idle) {
    writeFileSync(join(dir, 'idle.dat'), `${ids.map((id) => `${label(id)} ${med(sc.idle, id, 'server_rss_per_conn_bytes')}`).join('\n')}\n`);
    panels.push(`set title "Idle: server RSS per connection (lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "KiB per connection"
set xlabel ""
set xrange [*:*]
set yrange [0:*]
set key off
plot "${dir}/idle.dat" using 2:xtic(1) lc rgb "#4477aa"`);
  }
  if (sc.storm) {
    const files = [];
    for (const id of ids) {
      const rs = sc.storm.rounds[id] ?? [];
      if (!rs.length) continue;
      const sorted = [...rs].sort((a, b) => a.back_99_ms - b.back_99_ms);
      const r = sorted[Math.floor((sorted.length - 1) / 2)];
      const file = join(dir, `storm-${id}.dat`);
      writeFileSync(file, `${r.attempts_per_100ms.map((n, i) => `${(i * 0.1).toFixed(1)} ${n}`).join('\n')}\n`);
      files.push(`"${file}" using 1:2 with steps lw 2 title ${label(id)}`);
    }
    panels.push(`set title "Reconnect storm: connect attempts per 100 ms (median round)"
set style data steps
set xlabel "seconds after the first connection lost"
set ylabel "attempts"
set xrange [0:*]
set yrange [0:*]
set key top right
plot ${files.join(', ')}`);
  }
  if (!panels.length) return;
  const cols = 2;
  const rowsN = Math.ceil(panels.length / cols);
  const script = `set terminal pngcairo size 1400,${480 * rowsN} font "DejaVu Sans,10"
set output "${PLOT}"
set multiplot layout ${rowsN},${cols} title "Parley vs ws vs Socket.IO, one server core each (${results.info.machine.cores} cores, ${results.info.date.slice(0, 10)})"
set grid ytics
${panels.map((p) => `reset\nset grid ytics\n${p}`).join('\n')}
unset multiplot
`;
  writeFileSync(join(dir, 'plot.gp'), script);
  const r = spawnSync('gnuplot', [join(dir, 'plot.gp')], { encoding: 'utf8' });
  if (r.status !== 0) console.error(`bench: gnuplot failed:\n${r.stderr}`);
  else console.log(`bench: plot in ${PLOT.replace(`${ROOT}/`, '')}`);
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

// The tables of an earlier run, from its results file (for docs/performance.md).
function printTables(results) {
  const sc = results.scenarios;
  const i = results.info;
  console.log(`bench: results of ${i.date} (commit ${i.commit}${i.uncommitted_changes ? ', with uncommitted changes' : ''}), ` +
    `${i.rounds} rounds, ${i.duration_s} s; load average ${i.load_average_at_start.join(' ')} at the start, ` +
    `${i.load_average_at_end.join(' ')} at the end; ${i.repeated_runs} run(s) repeated`);
  if (sc.fanout) TABLES.fanout(Object.fromEntries(Object.entries(sc.fanout).map(([rate, t]) => [rate, t.rounds])));
  for (const key of ['saturation', 'idle', 'storm']) if (sc[key]) TABLES[key](sc[key].rounds);
  if (sc.client) console.log(`\n### Client core (WASM under Node) and size\n\n${[...(sc.client.ingest ?? []), sc.client.size].join('\n')}`);
}

if (process.argv.includes('--plot-only')) {
  // Redraws the plot from the results file of an earlier run.
  plot(JSON.parse(readFileSync(OUT, 'utf8')));
} else if (process.argv.includes('--tables')) {
  printTables(JSON.parse(readFileSync(OUT, 'utf8')));
} else {
  main().catch((e) => fail(e.stack ?? String(e)));
}
