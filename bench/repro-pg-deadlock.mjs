#!/usr/bin/env node
// Reproduces the PostgreSQL deadlock between parleyd nodes' group commits
// (found by bench/storm.mjs): a batch appends to several rooms in one
// transaction, each append locking its room's row (UPDATE rooms ... head_seq),
// in arrival order; two nodes batching the same rooms in opposite orders wait
// on each other until PostgreSQL's deadlock_timeout (1 s) aborts one batch,
// whose every send is answered `internal`.
//
// Starts scripts/cluster.sh (NO_DEMO, temp folder, free ports), connects
// REPRO_CLIENTS clients straight to each node's port (no HAProxy), spread
// over REPRO_ROOMS rooms, then REPRO_BURSTS times has every client send one
// message at the same moment. Prints the `internal` answers and the nodes'
// "deadlock detected" log lines; exits 1 when it saw any.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PER_NODE = Number(process.env.REPRO_CLIENTS ?? 100);
const ROOMS = Number(process.env.REPRO_ROOMS ?? 10);
const BURSTS = Number(process.env.REPRO_BURSTS ?? 20);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const token = (sub) => {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, name: sub, iat, exp: iat + 3600 })}`;
  return `${body}.${createHmac('sha256', 'parley-dev-secret-do-not-use-in-production').update(body).digest('base64url')}`;
};
const freePort = () => new Promise((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => resolve(port));
  });
});

const dir = mkdtempSync(join(tmpdir(), 'parley-deadlock-'));
const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
const cluster = spawn('bash', [join(ROOT, 'scripts/cluster.sh')], {
  cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, CLUSTER_DIR: dir, CLUSTER_PORT: String(ports[0]), NODE_PORTS: ports.slice(1).join(' '), NO_DEMO: '1',
    PARLEYD_ARGS: '--max-connections-per-ip 10000 --max-handshakes-per-ip 10000' },
});
let out = '';
cluster.stdout.on('data', (d) => { out += d; });
while (!out.includes('Parley cluster is running')) {
  if (cluster.exitCode !== null) process.exit(2);
  await sleep(100);
}

// One client: hello, join, then sends on demand; resolves each send's ack.
function client(port, i) {
  return new Promise((resolve, reject) => {
    const user = `dl-u${port}-${i}`;
    const room = `dl-r${i % ROOMS}`;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'parley.v1.json', { perMessageDeflate: false });
    const waiting = new Map();
    let n = 0;
    const c = {
      internal: 0,
      send() {
        const ref = `s${++n}`;
        const cmid = `dl${port}x${i}x${n}`;
        const attempt = () => ws.send(JSON.stringify({ type: 'send', ref, roomId: room, clientMsgId: cmid,
          message: { type: 'text', content: 'x' } }));
        return new Promise((done) => {
          waiting.set(ref, { done, attempt });
          attempt();
        });
      },
      close: () => ws.terminate(),
    };
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', ref: 'h', v: 1, token: token(user) })));
    ws.on('error', reject);
    ws.on('message', (d) => {
      const f = JSON.parse(d.toString());
      if (f.type === 'welcome') ws.send(JSON.stringify({ type: 'join', ref: 'j', roomId: room }));
      else if (f.type === 'joined') resolve(c);
      else if (f.type === 'ack' && waiting.has(f.ref)) {
        waiting.get(f.ref).done();
        waiting.delete(f.ref);
      } else if (f.type === 'error' && waiting.has(f.ref)) {
        if (f.code === 'internal') c.internal++;
        setTimeout(waiting.get(f.ref).attempt, f.retryAfterMs ?? 500); // same clientMsgId
      }
    });
  });
}

let clients = [];
try {
  for (const port of ports.slice(1)) {
    for (let i = 0; i < PER_NODE; i += 50) {
      clients.push(...(await Promise.all(Array.from({ length: Math.min(50, PER_NODE - i) }, (_, k) => client(port, i + k)))));
    }
  }
  console.log(`${clients.length} clients on 3 nodes, ${ROOMS} rooms; ${BURSTS} bursts of one send each`);
  for (let b = 0; b < BURSTS; ++b) {
    const t = Date.now();
    await Promise.all(clients.map((c) => c.send()));
    const internal = clients.reduce((s, c) => s + c.internal, 0);
    console.log(`burst ${b + 1}: all acked in ${Date.now() - t} ms; internal answers so far ${internal}`);
    await sleep(200);
  }
} finally {
  for (const c of clients) c.close();
  const deadlocks = [1, 2, 3].flatMap((n) => readFileSync(join(dir, `node${n}.log`), 'utf8').split('\n')
    .filter((l) => l.includes('deadlock detected')).map((l) => `node${n}: ${l}`));
  console.log(`"deadlock detected" in the node logs: ${deadlocks.length}`);
  for (const l of deadlocks.slice(0, 5)) console.log(`  ${l}`);
  cluster.kill('SIGTERM');
  await new Promise((r) => cluster.on('exit', r));
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = deadlocks.length ? 1 : 0;
}
