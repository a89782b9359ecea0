#!/usr/bin/env node
// `make storm`: the reconnect storm of issue 15's acceptance. "2 000 clients
// across nodes, one node killed: 99 % are back within 10 s, and nothing is
// lost."
//
// It starts a cluster with scripts/cluster.sh (PostgreSQL, Redis, three
// parleyd, HAProxy round robin; its own temporary CLUSTER_DIR and free ports),
// opens STORM_CLIENTS protocol-level clients through HAProxy (hello with a
// token, join one of STORM_ROOMS rooms), and keeps a trickle of sends going
// (STORM_RATE messages/s over all clients, each with a unique clientMsgId).
// Each client reconnects like the real one (js-wrapper): on close it retries
// with full-jitter exponential backoff (100 ms base, x2, 2 s cap), says hello,
// rejoins with sinceSeq = the last seq it saw, and resends its unacked sends
// with the same clientMsgId (after the `retryAfterMs` of a rate_limited or
// internal answer, in order).
//
// After STORM_WARMUP seconds it SIGKILLs one node (its pid file) and measures,
// for every client whose connection dropped, the time from the drop to being
// back (welcome + joined on another node). Sends go on for STORM_AFTER
// seconds, then stop; once every send is acked it checks that nothing was lost
// or duplicated:
//   - PostgreSQL (psql on the cluster's socket): each room's seqs are 1..head
//     without holes, every acked clientMsgId is there exactly once with the
//     acked seq and sender, nothing else is, and every send was acked;
//   - a fresh client per room reads the room's whole history (join + history
//     pages) and finds the same;
//   - every client saw a gap-free sequence: the replay of each rejoin and the
//     live messages after it continue from its last seq without holes or
//     repeats, every seq naming the same message for every client, up to the
//     room's head.
// It prints a summary, appends the run to bench/results/storm-<date>.json
// (with the medians of the day's runs) and exits non-zero when fewer than
// STORM_TARGET of the dropped clients were back within STORM_BACK_MS, when
// anything was lost or duplicated, or when a surviving node died.
//
// Environment: STORM_CLIENTS (2000), STORM_ROOMS (20), STORM_RATE (200
// messages/s), STORM_WARMUP (15 s of sends before the kill), STORM_AFTER (30 s
// of sends after it), STORM_KILL_NODE (1), STORM_BACK_MS (10000), STORM_TARGET
// (0.99), STORM_OUT (bench/results/storm-<date>.json), STORM_KEEP=1 keeps the
// cluster's folder (logs, PostgreSQL) even when the run passes; a failed run
// always keeps it and says where.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = process.env;
const CLIENTS = Number(env.STORM_CLIENTS ?? 2000);
const ROOMS = Number(env.STORM_ROOMS ?? 20);
const RATE = Number(env.STORM_RATE ?? 200);
const WARMUP_S = Number(env.STORM_WARMUP ?? 15);
const AFTER_S = Number(env.STORM_AFTER ?? 30);
const KILL_NODE = Number(env.STORM_KILL_NODE ?? 1);
const BACK_MS = Number(env.STORM_BACK_MS ?? 10000);
const TARGET = Number(env.STORM_TARGET ?? 0.99);
const KEEP = env.STORM_KEEP === '1';
const day = new Date().toISOString().slice(0, 10);
const OUT = env.STORM_OUT ?? join(ROOT, `bench/results/storm-${day}.json`);
const NODES = 3;

// The client's reconnection, as in js-wrapper: full jitter, exponential, capped.
const BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 2000;
const STAGE_TIMEOUT_MS = 10000; // connect + hello + join, else the attempt is abandoned
const CONNECT_BATCH = 50; // initial connections opened per 50 ms
// The public development secret: the nodes run without --jwt-secret.
const DEV_SECRET = 'parley-dev-secret-do-not-use-in-production';
// Behind HAProxy every client is 127.0.0.1 to the nodes.
const PARLEYD_ARGS = `--max-connections-per-ip ${CLIENTS * 4} --max-handshakes-per-ip ${CLIENTS * 4}`;

// ------------------------------------------------------------------ descriptors

// 2 000 sockets need more than the usual 1024 descriptors: run again with the
// soft limit raised to the hard one (Node cannot raise its own).
const softLimit = Number(spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim()) || Infinity;
if (softLimit < CLIENTS + 500 && !env.STORM_RAISED) {
  const r = spawnSync('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath,
    ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...env, STORM_RAISED: '1' } });
  process.exit(r.status ?? 1);
}
if (softLimit < CLIENTS + 500) {
  console.error(`storm: ${CLIENTS} clients need about ${CLIENTS + 500} descriptors; the limit is ${softLimit} ` +
    '(ulimit -Hn): raise it or lower STORM_CLIENTS');
  process.exit(1);
}

// ------------------------------------------------------------------ helpers

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();
const pad = (n, w) => String(n).padStart(w, '0');
const RUN_TAG = randomBytes(4).toString('hex');

function token(sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, name: sub, iat, exp: iat + 3 * 3600 })}`;
  return `${body}.${createHmac('sha256', DEV_SECRET).update(body).digest('base64url')}`;
}

// A free port below the kernel's ephemeral range: a port the kernel hands out
// for `--port 0` (another engineer's test server, say) could be taken by a
// stranger once the killed node lets go of it, and HAProxy's health check
// would then send our clients there.
const EPHEMERAL_LOW = (() => {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
})();
function freePort(taken) {
  const low = Math.max(1024, Math.min(20000, EPHEMERAL_LOW - 2000));
  const port = low + Math.floor(Math.random() * (EPHEMERAL_LOW - low));
  if (taken.includes(port)) return freePort(taken);
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.on('error', () => resolve(freePort(taken)));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(port)));
  });
}

function percentile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const count = (map, key) => { map[key] = (map[key] ?? 0) + 1; };

// ------------------------------------------------------------------ the cluster

const pgBin = (() => {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => b - a) : [];
  return versions.length ? `/usr/lib/postgresql/${versions[0]}/bin` : null;
})();
const PG_PORT = 55432; // scripts/cluster.sh: names the socket file only

let clusterDir = null;
let cluster = null;
let clusterLog = '';
const ADMIN_TOKEN = `storm-admin-${RUN_TAG}`;

async function startCluster(ports) {
  clusterDir = mkdtempSync(join(tmpdir(), 'parley-storm-'));
  cluster = spawn('bash', [join(ROOT, 'scripts/cluster.sh')], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, CLUSTER_DIR: clusterDir, CLUSTER_PORT: String(ports.proxy), NODE_PORTS: ports.nodes.join(' '),
      NO_DEMO: '1', PARLEYD_ARGS, PARLEY_ADMIN_TOKEN: ADMIN_TOKEN },
  });
  const keep = (d) => {
    clusterLog += d;
    if (clusterLog.length > 64 * 1024) clusterLog = clusterLog.slice(-32 * 1024);
  };
  cluster.stdout.setEncoding('utf8');
  cluster.stderr.setEncoding('utf8');
  cluster.stdout.on('data', keep);
  cluster.stderr.on('data', keep);
  cluster.done = new Promise((resolve) => cluster.on('exit', (code, signal) => resolve({ code, signal })));
  for (const deadline = Date.now() + 90000; !clusterLog.includes('Parley cluster is running');) {
    if (cluster.exitCode !== null || cluster.signalCode !== null) throw new Error(`scripts/cluster.sh ended:\n${clusterLog}`);
    if (Date.now() > deadline) throw new Error(`the cluster was not running within 90 s:\n${clusterLog}`);
    await sleep(100);
  }
}

function nodePid(n) {
  try {
    return Number(readFileSync(join(clusterDir, `node${n}.pid`), 'utf8').trim()) || null;
  } catch {
    return null;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopCluster() {
  if (!cluster) return;
  const c = cluster;
  cluster = null;
  if (c.exitCode === null && c.signalCode === null) {
    try { process.kill(c.pid, 'SIGTERM'); } catch {}
    const stopped = await Promise.race([c.done, sleep(30000).then(() => null)]);
    if (!stopped) {
      console.error('storm: scripts/cluster.sh did not stop within 30 s: killing what it started');
      try { process.kill(-c.pid, 'SIGKILL'); } catch {}
    }
  }
  // Whatever is left (the script stops it all on SIGTERM; this is for when it could not).
  for (let n = 1; n <= NODES; ++n) {
    const pid = nodePid(n);
    if (pid && alive(pid)) try { process.kill(pid, 'SIGKILL'); } catch {}
  }
  if (pgBin && existsSync(join(clusterDir, 'pg', 'postmaster.pid'))) {
    const argv = [...(process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : []), `${pgBin}/pg_ctl`,
      '-D', join(clusterDir, 'pg'), '-m', 'immediate', 'stop'];
    spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
  }
}

function psql(sql) {
  const r = spawnSync(`${pgBin}/psql`, ['-h', clusterDir, '-p', String(PG_PORT), '-U', 'parley', '-d', 'parley',
    '-X', '-A', '-t', '-F', '\t', '-c', sql], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t'));
}

async function adminStats(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/admin/stats`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(2000),
    });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

// HAProxy's word on the nodes: health checks marking them DOWN or UP.
function proxyEvents() {
  let text = '';
  try { text = readFileSync(join(clusterDir, 'haproxy.log'), 'utf8'); } catch {}
  return text.split('\n').filter((l) => /is (DOWN|UP)|has no server available/.test(l)).slice(0, 50);
}

function nodeLogSummary(n) {
  let text = '';
  try { text = readFileSync(join(clusterDir, `node${n}.log`), 'utf8'); } catch {}
  const lines = text.split('\n');
  const errors = lines.filter((l) => l.includes('level=error'));
  const warns = lines.filter((l) => l.includes('level=warn'));
  const byMsg = {};
  for (const l of [...errors, ...warns]) count(byMsg, (l.match(/level=\w+ .*?msg=("[^"]*"|\S+)/) ?? [l.slice(0, 80)])[0]);
  return { errors: errors.length, warnings: warns.length, byMessage: byMsg, firstErrors: errors.slice(0, 5) };
}

// ------------------------------------------------------------------ clients

let URL_WS = '';
let stopping = false;
let killAt = Infinity;
const stats = {
  closes: {}, // close code -> count
  closesAfterKill: {},
  errors: {}, // transport error message -> count
  protocolErrors: {}, // `${request kind}:${code}` -> count
  stageTimeouts: 0,
  silentDrops: 0,
  generated: 0,
  sent: 0, // send frames written, retries included
  resent: 0, // send frames that were retries of an earlier attempt
  acked: 0,
  duplicateAcks: 0, // an ack for a send already acked (same seq)
  ackConflicts: [], // an ack for a send already acked with another seq
  strayAcks: 0,
  seqConflicts: [], // two different messages seen under one seq
  ackLatencyMs: [],
};
const ackedByRoom = new Map(); // room -> Map(clientMsgId -> { seq, sender })
const seenBySeq = new Map(); // room -> Map(seq -> clientMsgId)
const roomOf = (i) => `storm-r${pad(i % ROOMS, 2)}`;
for (let r = 0; r < ROOMS; ++r) {
  ackedByRoom.set(roomOf(r), new Map());
  seenBySeq.set(roomOf(r), new Map());
}

class Client {
  constructor(i) {
    this.i = i;
    this.user = `storm-u${pad(i, 5)}`;
    this.room = roomOf(i);
    this.token = token(this.user);
    this.ws = null;
    this.state = 'idle'; // connecting, hello, joining, live, closed
    this.conn = 0;
    this.nextRef = 0;
    this.refs = new Map();
    this.attempt = 0;
    this.lastSeq = 0; // rooms are new: every client sees them from seq 1
    this.heartbeatMs = 25000;
    this.lastHeard = 0;
    this.downSince = null;
    this.everLive = false;
    this.firstLiveAt = null;
    this.episodes = []; // { from, to, afterKill, attempts }
    this.attemptsThisEpisode = 0;
    this.pending = []; // { cmid, createdAt, conn, ref, attempts }
    this.sentCount = 0;
    this.blockedUntil = 0;
    this.flushTimer = null;
    this.v = { gaps: 0, missing: 0, repeats: 0, early: 0, resets: 0, otherRoom: 0, headMismatch: 0, details: [] };
  }

  violation(kind, detail) {
    if (this.v.details.length < 5) this.v.details.push({ kind, ...detail, t: Math.round(now() - t0) });
  }

  ref(kind) {
    return `${kind}${++this.nextRef}`;
  }

  write(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  connect() {
    if (stopping) return;
    const conn = ++this.conn;
    this.state = 'connecting';
    this.connectAt = now();
    this.refs = new Map();
    this.attemptsThisEpisode++;
    const ws = new WebSocket(URL_WS, 'parley.v1.json', { perMessageDeflate: false, handshakeTimeout: 5000 });
    this.ws = ws;
    this.stageTimer = setTimeout(() => {
      if (this.ws === ws && this.state !== 'live') {
        stats.stageTimeouts++;
        ws.terminate();
      }
    }, STAGE_TIMEOUT_MS);
    ws.on('open', () => {
      if (this.ws !== ws) return;
      this.state = 'hello';
      this.lastHeard = now();
      this.openAt = this.lastHeard;
      this.write({ type: 'hello', ref: this.ref('h'), v: 1, token: this.token });
    });
    ws.on('message', (data) => {
      if (this.ws !== ws) return;
      this.lastHeard = now();
      this.onFrame(JSON.parse(data.toString()), conn);
    });
    ws.on('ping', () => { this.lastHeard = now(); });
    ws.on('error', (e) => count(stats.errors, e.message.replace(/\d{4,}/g, 'N')));
    ws.on('close', (code) => this.onClose(ws, code));
  }

  onClose(ws, code) {
    if (this.ws !== ws) return;
    clearTimeout(this.stageTimer);
    this.ws = null;
    this.state = 'closed';
    const t = now();
    count(stats.closes, code);
    if (t >= killAt) count(stats.closesAfterKill, code);
    if (this.downSince === null) {
      this.downSince = t;
      this.attemptsThisEpisode = 0;
    }
    if (stopping) return;
    const delay = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    this.attempt++;
    setTimeout(() => this.connect(), delay);
  }

  onFrame(f, conn) {
    switch (f.type) {
      case 'welcome':
        this.heartbeatMs = f.heartbeatMs ?? this.heartbeatMs;
        this.state = 'joining';
        this.welcomeAt = now();
        this.write({ type: 'join', ref: this.ref('j'), roomId: this.room, sinceSeq: this.lastSeq });
        return;
      case 'joined': {
        if (f.reset) {
          this.v.resets++;
          this.violation('reset', { sinceSeq: this.lastSeq, headSeq: f.headSeq });
        }
        for (const m of f.messages ?? []) this.observe(m, 'replay');
        if (f.headSeq !== this.lastSeq) {
          // The replay ends at the node's head: anything past it must come live.
          if (f.headSeq < this.lastSeq) {
            this.v.headMismatch++;
            this.violation('head-behind', { headSeq: f.headSeq, lastSeq: this.lastSeq });
          }
        }
        clearTimeout(this.stageTimer);
        this.state = 'live';
        this.attempt = 0;
        const t = now();
        if (!this.everLive) {
          this.everLive = true;
          this.firstLiveAt = t;
        }
        if (this.downSince !== null) {
          this.episodes.push({ from: this.downSince, to: t, afterKill: this.downSince >= killAt,
            attempts: this.attemptsThisEpisode, connectAt: this.connectAt, openAt: this.openAt,
            welcomeAt: this.welcomeAt });
          this.downSince = null;
        }
        this.flush();
        return;
      }
      case 'message':
        if (this.state !== 'live') {
          this.v.early++;
          this.violation('message-before-joined', { seq: f.message.seq });
        }
        this.observe(f.message, 'live');
        return;
      case 'ack':
        this.onAck(f);
        return;
      case 'error':
        this.onError(f, conn);
        return;
      default:
        return; // presence, typing, receipts, announcements
    }
  }

  observe(m, how) {
    if (m.roomId !== this.room) {
      this.v.otherRoom++;
      this.violation('other-room', { roomId: m.roomId, seq: m.seq });
      return;
    }
    const seen = seenBySeq.get(m.roomId);
    const was = seen.get(m.seq);
    if (was === undefined) seen.set(m.seq, m.clientMsgId);
    else if (was !== m.clientMsgId && stats.seqConflicts.length < 20) {
      stats.seqConflicts.push({ roomId: m.roomId, seq: m.seq, first: was, now: m.clientMsgId, client: this.user });
    }
    if (m.seq === this.lastSeq + 1) {
      this.lastSeq = m.seq;
    } else if (m.seq <= this.lastSeq) {
      this.v.repeats++;
      this.violation(`repeat-${how}`, { seq: m.seq, lastSeq: this.lastSeq });
    } else {
      this.v.gaps++;
      this.v.missing += m.seq - this.lastSeq - 1;
      this.violation(`gap-${how}`, { seq: m.seq, lastSeq: this.lastSeq });
      this.lastSeq = m.seq;
    }
  }

  enqueue() {
    const n = ++this.sentCount;
    const cmid = `st${RUN_TAG}u${pad(this.i, 5)}n${n}`;
    this.pending.push({ cmid, createdAt: now(), conn: 0, ref: null, attempts: 0 });
    stats.generated++;
    this.flush();
  }

  // Every unacked send not yet written on this connection, in order.
  flush() {
    if (this.state !== 'live') return;
    const t = now();
    if (t < this.blockedUntil) {
      if (!this.flushTimer) {
        this.flushTimer = setTimeout(() => {
          this.flushTimer = null;
          this.flush();
        }, this.blockedUntil - t);
      }
      return;
    }
    for (const it of this.pending) {
      if (it.conn === this.conn) continue;
      it.conn = this.conn;
      it.ref = this.ref('s');
      if (it.attempts++ > 0) stats.resent++;
      stats.sent++;
      this.refs.set(it.ref, it);
      this.write({ type: 'send', ref: it.ref, roomId: this.room, clientMsgId: it.cmid,
        message: { type: 'text', content: `storm message ${it.cmid}` } });
    }
  }

  onAck(f) {
    const it = this.refs.get(f.ref);
    if (!it || !f.message) {
      stats.strayAcks++;
      return;
    }
    this.refs.delete(f.ref);
    const m = f.message;
    if (m.clientMsgId !== it.cmid || m.roomId !== this.room || m.senderId !== this.user) {
      stats.ackConflicts.push({ kind: 'wrong-message', cmid: it.cmid, got: m });
      return;
    }
    const acked = ackedByRoom.get(this.room);
    const before = acked.get(it.cmid);
    if (before) {
      if (before.seq === m.seq) stats.duplicateAcks++;
      else if (stats.ackConflicts.length < 20) stats.ackConflicts.push({ cmid: it.cmid, first: before.seq, now: m.seq });
    } else {
      acked.set(it.cmid, { seq: m.seq, sender: this.user });
      stats.acked++;
      stats.ackLatencyMs.push(now() - it.createdAt);
    }
    const at = this.pending.indexOf(it);
    if (at >= 0) this.pending.splice(at, 1);
  }

  onError(f, conn) {
    const it = f.ref ? this.refs.get(f.ref) : null;
    const kind = f.ref ? f.ref.replace(/\d+$/, '') : '-';
    count(stats.protocolErrors, `${{ h: 'hello', j: 'join', s: 'send' }[kind] ?? kind}:${f.code}`);
    if (kind === 'h' || kind === 'j') {
      this.ws?.terminate(); // try again with backoff
      return;
    }
    if (!it) return;
    this.refs.delete(f.ref);
    // rate_limited (the server refuses every later send until this one comes
    // again), internal (nothing was written) or anything else: everything
    // unacked goes again, in order, after the wait.
    for (const p of this.pending) if (p.conn === conn) p.conn = 0;
    this.blockedUntil = Math.max(this.blockedUntil, now() + (f.retryAfterMs ?? 1000));
    this.flush();
  }

  close() {
    clearTimeout(this.stageTimer);
    clearTimeout(this.flushTimer);
    this.ws?.terminate();
  }
}

// A fresh client reading one room's whole history: join, then history pages.
async function readHistory(roomId, who) {
  const ws = new WebSocket(URL_WS, 'parley.v1.json', { perMessageDeflate: false });
  const frames = [];
  let wake = null;
  ws.on('message', (d) => {
    frames.push(JSON.parse(d.toString()));
    wake?.();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let nextRef = 0;
  const request = async (frame) => {
    const ref = `v${++nextRef}`;
    for (let tries = 0; ; ++tries) {
      ws.send(JSON.stringify({ ...frame, ref }));
      const deadline = Date.now() + 10000;
      for (;;) {
        const at = frames.findIndex((f) => f.ref === ref);
        if (at >= 0) {
          const [f] = frames.splice(at, 1);
          if (f.type === 'error' && f.code === 'rate_limited' && tries < 20) {
            await sleep(f.retryAfterMs ?? 500);
            break;
          }
          if (f.type === 'error') throw new Error(`${frame.type} in ${roomId}: ${f.code} ${f.message}`);
          return f;
        }
        if (Date.now() > deadline) throw new Error(`${frame.type} in ${roomId}: no answer in 10 s`);
        await new Promise((r) => {
          wake = r;
          setTimeout(r, 200);
        });
      }
    }
  };
  try {
    await request({ type: 'hello', v: 1, token: token(who) });
    const joined = await request({ type: 'join', roomId });
    const bySeq = new Map();
    for (const m of joined.messages ?? []) bySeq.set(m.seq, m);
    let before = joined.headSeq + 1;
    for (;;) {
      const page = await request({ type: 'history', roomId, beforeSeq: before, limit: 100 });
      for (const m of page.messages) {
        if (bySeq.has(m.seq) && bySeq.get(m.seq).clientMsgId !== m.clientMsgId) {
          throw new Error(`history of ${roomId}: seq ${m.seq} is two messages`);
        }
        bySeq.set(m.seq, m);
      }
      if (!page.hasMore || !page.messages.length) break;
      before = page.messages[0].seq;
    }
    return { headSeq: joined.headSeq, messages: [...bySeq.values()].sort((a, b) => a.seq - b.seq) };
  } finally {
    ws.terminate();
  }
}

// ------------------------------------------------------------------ the run

const t0 = now();
const elapsed = () => ((now() - t0) / 1000).toFixed(1).padStart(6);
const log = (s) => console.log(`storm [${elapsed()} s] ${s}`);

async function waitFor(what, cond, timeoutMs, every = 250) {
  const deadline = now() + timeoutMs;
  while (!cond()) {
    if (now() > deadline) return false;
    await sleep(every);
  }
  return true;
}

async function run() {
  const ports = { proxy: await freePort([]), nodes: [] };
  while (ports.nodes.length < NODES) ports.nodes.push(await freePort([ports.proxy, ...ports.nodes]));
  URL_WS = `ws://127.0.0.1:${ports.proxy}/ws`;
  log(`starting the cluster (HAProxy ${ports.proxy}, nodes ${ports.nodes.join(' ')})`);
  await startCluster(ports);
  log(`cluster running in ${clusterDir}`);

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const cpuStart = process.cpuUsage();

  // 1. Everybody in.
  const clients = Array.from({ length: CLIENTS }, (_, i) => new Client(i));
  const openedAt = now();
  for (let i = 0; i < CLIENTS; i += CONNECT_BATCH) {
    for (const c of clients.slice(i, i + CONNECT_BATCH)) c.connect();
    await sleep(50);
  }
  const liveCount = () => clients.reduce((n, c) => n + (c.state === 'live'), 0);
  if (!(await waitFor('all live', () => liveCount() === CLIENTS, 120000))) {
    throw new Error(`only ${liveCount()} of ${CLIENTS} clients joined within 120 s`);
  }
  const connectAllMs = now() - openedAt;
  log(`${CLIENTS} clients joined ${ROOMS} rooms in ${(connectAllMs / 1000).toFixed(1)} s`);
  const initialEpisodes = clients.reduce((n, c) => n + c.episodes.length, 0);

  // 2. The trickle of sends: every client in turn, RATE per second overall.
  const order = clients.map((_, i) => i);
  for (let i = order.length - 1; i > 0; --i) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  let cursor = 0;
  let credit = 0;
  let lastTick = now();
  const trickle = setInterval(() => {
    const t = now();
    credit += (RATE * (t - lastTick)) / 1000;
    lastTick = t;
    for (; credit >= 1; credit--) clients[order[cursor++ % CLIENTS]].enqueue();
  }, 20);
  // A connection silent for two heartbeats is dead (as in the real client).
  const heartbeat = setInterval(() => {
    const t = now();
    for (const c of clients) {
      if (c.state === 'live' && t - c.lastHeard > 2 * c.heartbeatMs) {
        stats.silentDrops++;
        c.ws?.terminate();
      }
    }
  }, 2000);
  const progress = setInterval(() => {
    const live = liveCount();
    const pending = clients.reduce((n, c) => n + c.pending.length, 0);
    log(`live ${live}/${CLIENTS}, acked ${stats.acked}/${stats.generated}, unacked ${pending}`);
  }, 5000);

  try {
    await sleep(WARMUP_S * 1000);
    const perNodeBefore = await Promise.all(ports.nodes.map((p) => adminStats(p)));

    // 3. Kill one node.
    const pid = nodePid(KILL_NODE);
    if (!pid || !alive(pid)) throw new Error(`node ${KILL_NODE} is not running (pid file ${pid})`);
    loopDelay.reset();
    killAt = now();
    process.kill(pid, 'SIGKILL');
    // Its pid is gone: the cluster's cleanup must not signal whoever gets it next.
    unlinkSync(join(clusterDir, `node${KILL_NODE}.pid`));
    const killWall = new Date().toISOString();
    log(`SIGKILL node ${KILL_NODE} (pid ${pid}, ${perNodeBefore[KILL_NODE - 1]?.connections ?? '?'} connections)`);
    const watch = setInterval(() => {
      const down = clients.filter((c) => c.downSince !== null).length;
      if (down > 0 || now() - killAt < 3000) log(`  +${((now() - killAt) / 1000).toFixed(1)} s: ${down} clients down`);
    }, 1000);
    await sleep(Math.min(AFTER_S * 1000, 15000));
    clearInterval(watch);
    const loopAtKill = { p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 };
    await sleep(Math.max(0, AFTER_S * 1000 - 15000));

    // 4. Stop sending; everything acked, every client live and caught up.
    clearInterval(trickle);
    log(`sends stopped: ${stats.generated} generated; waiting for every ack`);
    const allAcked = await waitFor('acks', () => clients.every((c) => c.pending.length === 0 && c.state === 'live'),
      90000);
    const survivors = ports.nodes.map((_, k) => k + 1).filter((n) => n !== KILL_NODE)
      .map((n) => ({ node: n, pid: nodePid(n) })).map((s) => ({ ...s, alive: !!s.pid && alive(s.pid) }));
    const perNodeAfter = await Promise.all(ports.nodes.map((p) => adminStats(p)));
    const heads = new Map(psql('SELECT room_id, max(seq) FROM messages GROUP BY room_id').map(([id, h]) => [id, Number(h)]));
    const caughtUp = await waitFor('catch up', () => clients.every((c) => c.lastSeq >= (heads.get(c.room) ?? 0)), 30000);
    clearInterval(progress);
    const cpu = process.cpuUsage(cpuStart);

    // 5. The checks against PostgreSQL, the history API and what the clients saw.
    const rows = psql(`SELECT room_id, seq, client_msg_id, sender_id FROM messages WHERE room_id LIKE 'storm-%' ORDER BY room_id, seq`);
    const stored = new Map(); // room -> { bySeq: Map, byCmid: Map(cmid -> [rows]) }
    for (const r of [...ackedByRoom.keys()]) stored.set(r, { bySeq: new Map(), byCmid: new Map(), head: 0 });
    const check = { pgHoles: [], pgDuplicates: [], unknownRows: 0, lost: [], ackedSeqMismatch: [], unacked: 0,
      historyMismatch: [], clientsBehind: 0, clientsWithGaps: 0, clientsWithRepeats: 0, clientsWithEarly: 0,
      resets: 0, seenMismatch: 0 };
    for (const [room, seqS, cmid, sender] of rows) {
      const s = stored.get(room) ?? (stored.set(room, { bySeq: new Map(), byCmid: new Map(), head: 0 }), stored.get(room));
      const seq = Number(seqS);
      if (s.bySeq.has(seq)) check.pgDuplicates.push({ room, seq, why: 'seq twice' });
      s.bySeq.set(seq, { cmid, sender });
      s.head = Math.max(s.head, seq);
      const list = s.byCmid.get(cmid) ?? [];
      list.push({ seq, sender });
      s.byCmid.set(cmid, list);
    }
    for (const [room, s] of stored) {
      for (let q = 1; q <= s.head; ++q) if (!s.bySeq.has(q)) check.pgHoles.push({ room, seq: q });
      for (const [cmid, list] of s.byCmid) {
        if (list.length > 1) check.pgDuplicates.push({ room, cmid, seqs: list.map((x) => x.seq) });
        if (!ackedByRoom.get(room)?.has(cmid)) check.unknownRows++;
      }
      for (const [cmid, a] of ackedByRoom.get(room) ?? []) {
        const list = s.byCmid.get(cmid);
        if (!list) check.lost.push({ room, cmid, ackedSeq: a.seq });
        else if (list[0].seq !== a.seq || list[0].sender !== a.sender) {
          check.ackedSeqMismatch.push({ room, cmid, ackedSeq: a.seq, storedSeq: list[0].seq });
        }
      }
      for (const [seq, cmid] of seenBySeq.get(room) ?? []) if (s.bySeq.get(seq)?.cmid !== cmid) check.seenMismatch++;
    }
    check.unacked = clients.reduce((n, c) => n + c.pending.length, 0);
    for (const c of clients) {
      const head = stored.get(c.room)?.head ?? 0;
      if (c.lastSeq !== head) check.clientsBehind++;
      if (c.v.gaps) check.clientsWithGaps++;
      if (c.v.repeats) check.clientsWithRepeats++;
      if (c.v.early) check.clientsWithEarly++;
      check.resets += c.v.resets;
    }
    log('reading every room\'s history through a fresh client');
    const historyRead = await Promise.all([...stored.keys()].map(async (room, k) => {
      try {
        const h = await readHistory(room, `storm-v${pad(k, 3)}`);
        const s = stored.get(room);
        const same = h.messages.length === s.bySeq.size &&
          h.messages.every((m) => s.bySeq.get(m.seq)?.cmid === m.clientMsgId);
        if (!same) check.historyMismatch.push({ room, history: h.messages.length, stored: s.bySeq.size });
        return h.messages.length;
      } catch (e) {
        check.historyMismatch.push({ room, error: e.message });
        return 0;
      }
    }));

    // 6. The figures.
    const dropped = clients.filter((c) => c.episodes.some((e) => e.afterKill) || (c.downSince !== null && c.downSince >= killAt));
    const backMs = dropped.map((c) => {
      const e = c.episodes.find((x) => x.afterKill);
      return e ? e.to - e.from : Infinity;
    }).sort((a, b) => a - b);
    const backWithin = backMs.filter((ms) => ms <= BACK_MS).length;
    // Where the time went, for those back: drop -> the last connection attempt
    // (backoff, earlier attempts, this process's event loop), attempt -> WebSocket
    // open (TCP, HAProxy, upgrade), open -> welcome (hello), welcome -> joined.
    const phases = dropped.map((c) => c.episodes.find((x) => x.afterKill)).filter(Boolean);
    const phase = (f) => {
      const v = phases.map(f).sort((a, b) => a - b);
      return { p50: round(percentile(v, 0.5)), p99: round(percentile(v, 0.99)), max: round(v.at(-1) ?? null) };
    };
    const episodesAfterKill = clients.reduce((n, c) => n + c.episodes.filter((e) => e.afterKill).length, 0);
    const attempts = dropped.map((c) => c.episodes.find((x) => x.afterKill)?.attempts ?? 0).sort((a, b) => a - b);
    const round = (x) => (x === null || x === undefined ? null : Number.isFinite(x) ? Math.round(x) : x);
    const lat = stats.ackLatencyMs.sort((a, b) => a - b);
    const logs = Object.fromEntries(ports.nodes.map((_, k) => [`node${k + 1}`, nodeLogSummary(k + 1)]));
    const result = {
      when: killWall,
      clients: CLIENTS, rooms: ROOMS, rateMsgs: RATE, warmupS: WARMUP_S, afterS: AFTER_S, killedNode: KILL_NODE,
      connectAllMs: round(connectAllMs),
      connectionsPerNodeBeforeKill: perNodeBefore.map((s) => s?.connections ?? null),
      connectionsPerNodeAfter: perNodeAfter.map((s) => s?.connections ?? null),
      dropped: dropped.length,
      reconnectEpisodesAfterKill: episodesAfterKill,
      backMs: { p50: round(percentile(backMs, 0.5)), p90: round(percentile(backMs, 0.9)), p99: round(percentile(backMs, 0.99)),
        max: round(backMs.at(-1) ?? null) },
      backPhasesMs: { toAttempt: phase((e) => e.connectAt - e.from), upgrade: phase((e) => e.openAt - e.connectAt),
        toOpen: phase((e) => e.openAt - e.from), hello: phase((e) => e.welcomeAt - e.openAt),
        join: phase((e) => e.to - e.welcomeAt) },
      backWithinMs: BACK_MS,
      backWithinPct: dropped.length ? (100 * backWithin) / dropped.length : 100,
      neverBack: backMs.filter((x) => !Number.isFinite(x)).length,
      connectAttempts: { p50: percentile(attempts, 0.5), p99: percentile(attempts, 0.99), max: attempts.at(-1) ?? null },
      closesAfterKill: stats.closesAfterKill,
      transportErrors: stats.errors,
      protocolErrors: stats.protocolErrors,
      stageTimeouts: stats.stageTimeouts,
      silentDrops: stats.silentDrops,
      unexpectedDropsBeforeKill: clients.reduce((n, c) => n + c.episodes.filter((e) => !e.afterKill).length, 0) - initialEpisodes,
      messages: { generated: stats.generated, acked: stats.acked, sendFrames: stats.sent, resent: stats.resent,
        duplicateAcks: stats.duplicateAcks, strayAcks: stats.strayAcks, stored: rows.length,
        ackLatencyMs: { p50: round(percentile(lat, 0.5)), p99: round(percentile(lat, 0.99)), max: round(lat.at(-1) ?? null) } },
      allAcked, caughtUp,
      checks: {
        lost: check.lost.length, unacked: check.unacked, duplicated: check.pgDuplicates.length,
        ackedSeqMismatch: check.ackedSeqMismatch.length, ackConflicts: stats.ackConflicts.length,
        unknownRows: check.unknownRows, pgHoles: check.pgHoles.length, seqConflicts: stats.seqConflicts.length,
        seenMismatch: check.seenMismatch, historyMismatch: check.historyMismatch.length,
        historyMessagesRead: historyRead.reduce((a, b) => a + b, 0),
        clientsBehind: check.clientsBehind, clientsWithGaps: check.clientsWithGaps,
        clientsWithRepeats: check.clientsWithRepeats, clientsWithMessageBeforeJoined: check.clientsWithEarly,
        resets: check.resets,
      },
      survivors,
      benchProcess: { cpuS: +((cpu.user + cpu.system) / 1e6).toFixed(1), eventLoopP99MsAfterKill: +loopAtKill.p99Ms.toFixed(1),
        eventLoopMaxMsAfterKill: +loopAtKill.maxMs.toFixed(1) },
      nodeLogs: logs,
      proxyEvents: proxyEvents(),
      details: {
        lost: check.lost.slice(0, 10), duplicated: check.pgDuplicates.slice(0, 10), pgHoles: check.pgHoles.slice(0, 10),
        ackedSeqMismatch: check.ackedSeqMismatch.slice(0, 10), ackConflicts: stats.ackConflicts.slice(0, 10),
        seqConflicts: stats.seqConflicts.slice(0, 10), historyMismatch: check.historyMismatch.slice(0, 10),
        clientViolations: clients.filter((c) => c.v.details.length).slice(0, 10)
          .map((c) => ({ client: c.user, room: c.room, ...c.v })),
        slowest: dropped.map((c) => ({ client: c.user, e: c.episodes.find((x) => x.afterKill) }))
          .filter((x) => x.e).sort((a, b) => (b.e.to - b.e.from) - (a.e.to - a.e.from)).slice(0, 5)
          .map((x) => ({ client: x.client, ms: Math.round(x.e.to - x.e.from), attempts: x.e.attempts })),
      },
    };
    return result;
  } finally {
    clearInterval(trickle);
    clearInterval(progress);
    clearInterval(heartbeat);
    stopping = true;
    for (const c of clients) c.close();
    loopDelay.disable();
  }
}

function problemsOf(r) {
  const p = [];
  if (r.backWithinPct < TARGET * 100) {
    p.push(`${r.backWithinPct.toFixed(2)} % of the dropped clients were back within ${BACK_MS / 1000} s (needed ${TARGET * 100} %)`);
  }
  if (r.dropped === 0) p.push('no client dropped: was the node killed?');
  const c = r.checks;
  if (c.lost) p.push(`${c.lost} acked messages are not in the room's history (lost)`);
  if (c.unacked) p.push(`${c.unacked} sends were never acked`);
  if (c.duplicated) p.push(`${c.duplicated} messages stored more than once (duplicated)`);
  if (c.ackedSeqMismatch || c.ackConflicts) p.push(`${c.ackedSeqMismatch + c.ackConflicts} acks disagree with storage or each other`);
  if (c.unknownRows) p.push(`${c.unknownRows} stored messages nobody sent`);
  if (c.pgHoles) p.push(`${c.pgHoles} holes in stored seqs`);
  if (c.seqConflicts || c.seenMismatch) p.push(`${c.seqConflicts + c.seenMismatch} seqs named different messages`);
  if (c.historyMismatch) p.push(`${c.historyMismatch} rooms' history differs from storage`);
  if (c.clientsBehind) p.push(`${c.clientsBehind} clients did not reach their room's head`);
  if (c.clientsWithGaps) p.push(`${c.clientsWithGaps} clients saw a gap in seq`);
  if (c.clientsWithRepeats) p.push(`${c.clientsWithRepeats} clients saw a seq twice`);
  if (c.clientsWithMessageBeforeJoined) p.push(`${c.clientsWithMessageBeforeJoined} clients got a message before joined`);
  if (c.resets) p.push(`${c.resets} rejoins answered reset`);
  for (const s of r.survivors) if (!s.alive) p.push(`node ${s.node} (not the killed one) died`);
  if (!r.allAcked) p.push('not every send was acked within 90 s of the end');
  return p;
}

function summary(r) {
  const ms = (x) => (x === null ? '-' : Number.isFinite(x) ? `${x} ms` : 'never');
  const c = r.checks;
  return `
| reconnect storm | |
|---|---|
| clients / rooms / send rate | ${r.clients} / ${r.rooms} / ${r.rateMsgs} messages/s |
| connections per node before the kill | ${r.connectionsPerNodeBeforeKill.join(' / ')} (node ${r.killedNode} killed) |
| clients dropped | ${r.dropped} |
| back (welcome + joined) p50 / p90 / p99 / max | ${ms(r.backMs.p50)} / ${ms(r.backMs.p90)} / ${ms(r.backMs.p99)} / ${ms(r.backMs.max)} |
| of which drop -> attempt / upgrade / hello / join, p50 (p99) | ${r.backPhasesMs.toAttempt.p50} (${r.backPhasesMs.toAttempt.p99}) / ${r.backPhasesMs.upgrade.p50} (${r.backPhasesMs.upgrade.p99}) / ${r.backPhasesMs.hello.p50} (${r.backPhasesMs.hello.p99}) / ${r.backPhasesMs.join.p50} (${r.backPhasesMs.join.p99}) ms |
| back within ${r.backWithinMs / 1000} s | ${r.backWithinPct.toFixed(2)} % (never back: ${r.neverBack}) |
| connection attempts per dropped client p50 / p99 / max | ${r.connectAttempts.p50} / ${r.connectAttempts.p99} / ${r.connectAttempts.max} |
| messages generated / acked / stored | ${r.messages.generated} / ${r.messages.acked} / ${r.messages.stored} |
| sends retried (same clientMsgId) / duplicate acks | ${r.messages.resent} / ${r.messages.duplicateAcks} |
| lost / unacked / duplicated / holes | ${c.lost} / ${c.unacked} / ${c.duplicated} / ${c.pgHoles} |
| clients with gaps / repeats / behind; resets | ${c.clientsWithGaps} / ${c.clientsWithRepeats} / ${c.clientsBehind}; ${c.resets} |
| history read through a fresh client | ${c.historyMessagesRead} messages, ${c.historyMismatch} rooms differing |
| surviving nodes alive | ${r.survivors.map((s) => `node ${s.node}: ${s.alive ? 'yes' : 'NO'}`).join(', ')} |
| error answers (request:code) | ${Object.entries(r.protocolErrors).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'} |
| HAProxy health-check changes | ${r.proxyEvents.length} |
| node log errors / warnings | ${Object.entries(r.nodeLogs).map(([n, l]) => `${n} ${l.errors}/${l.warnings}`).join(', ')} |
| bench process: CPU, event loop p99 / max after the kill | ${r.benchProcess.cpuS} s, ${r.benchProcess.eventLoopP99MsAfterKill} / ${r.benchProcess.eventLoopMaxMsAfterKill} ms |
`;
}

function save(r) {
  mkdirSync(dirname(OUT), { recursive: true });
  let file = { runs: [] };
  if (existsSync(OUT)) {
    try { file = JSON.parse(readFileSync(OUT, 'utf8')); } catch { file = { runs: [] }; }
  }
  file.runs = [...(file.runs ?? []), r];
  const of = (f) => median(file.runs.map(f));
  file.medians = {
    runs: file.runs.length,
    dropped: of((x) => x.dropped),
    backP50Ms: of((x) => x.backMs.p50), backP90Ms: of((x) => x.backMs.p90), backP99Ms: of((x) => x.backMs.p99),
    backMaxMs: of((x) => x.backMs.max), backWithinPct: of((x) => x.backWithinPct),
    messagesAcked: of((x) => x.messages.acked), lost: of((x) => x.checks.lost), duplicated: of((x) => x.checks.duplicated),
  };
  file.passed = file.runs.map((x) => x.passed);
  writeFileSync(OUT, JSON.stringify(file, null, 2) + '\n');
  return file.medians;
}

let exitCode = 1;
let interrupted = false;
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(s, async () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\nstorm: ${s}: stopping the cluster`);
    stopping = true;
    await stopCluster();
    process.exit(130);
  });
}
try {
  const r = await run();
  const problems = problemsOf(r);
  r.passed = problems.length === 0;
  r.problems = problems;
  r.clusterDir = clusterDir;
  console.log(summary(r));
  const medians = save(r);
  console.log(`storm: results appended to ${OUT} (medians of ${medians.runs} runs there: back p50 ${medians.backP50Ms} ms, ` +
    `p99 ${medians.backP99Ms} ms, within ${BACK_MS / 1000} s ${medians.backWithinPct?.toFixed(2)} %)`);
  if (problems.length) {
    console.error(`storm: FAILED: ${problems.join('; ')}`);
    console.error(JSON.stringify(r.details, null, 1).slice(0, 6000));
  } else {
    console.log('storm: passed');
    exitCode = 0;
  }
} catch (e) {
  console.error(`storm: ${e.stack ?? e}`);
} finally {
  await stopCluster();
  if (clusterDir) {
    if (exitCode === 0 && !KEEP) rmSync(clusterDir, { recursive: true, force: true });
    else console.error(`storm: the cluster's files and node logs are kept in ${clusterDir}`);
  }
}
process.exit(exitCode);
