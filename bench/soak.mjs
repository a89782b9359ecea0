#!/usr/bin/env node
// `make soak`: parleyd (release build, SQLite in a fresh folder) under 10 000
// connections with light traffic and a trickle of dropped-and-resumed
// connections for 10 minutes (build/native/bench/parley_loadgen --scenario
// soak). It prints the server's memory over time and fails unless memory
// stays flat over the second half, every member of every room received
// every committed message, and no connection was lost but the dropped ones.
// "Flat" is judged over the second half: SQLite's page cache (2 MB for each
// of its two connections) and the allocator fill up during the first.
// Results go to bench/results/soak.json; docs/performance.md quotes them.
//
// Environment: SOAK_CONNECTIONS (10000), SOAK_SECONDS (600), SOAK_RATE
// (messages/s over all rooms, 20), SOAK_CHURN (connections dropped per
// second, 5), SOAK_MAX_GROWTH (allowed RSS growth from the half-way mark to
// the end, as a fraction, 0.05), SOAK_OUT (bench/results/soak.json).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PARLEYD = join(ROOT, 'build/native/server/parleyd');
const LOADGEN = join(ROOT, 'build/native/bench/parley_loadgen');
const SECRET = 'soak-secret-0123456789abcdef';
const env = process.env;
const CONNECTIONS = Number(env.SOAK_CONNECTIONS ?? 10000);
const SECONDS = Number(env.SOAK_SECONDS ?? 600);
const RATE = Number(env.SOAK_RATE ?? 20);
const CHURN = Number(env.SOAK_CHURN ?? 5);
const MAX_GROWTH = Number(env.SOAK_MAX_GROWTH ?? 0.05);
const OUT = env.SOAK_OUT ?? join(ROOT, 'bench/results/soak.json');

const data = mkdtempSync(join(tmpdir(), 'parley-soak-'));
const children = [];
const cleanup = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(data, { recursive: true, force: true });
};
process.on('exit', cleanup);
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(130));

function fail(message) {
  console.error(`soak: ${message}`);
  process.exit(1);
}

function start(argv) {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  child.out = '';
  child.err = '';
  child.stdout.on('data', (d) => { child.out += d; });
  child.stderr.on('data', (d) => {
    child.err += d;
    if (child.err.length > 1 << 20) child.err = child.err.slice(-(1 << 19));
  });
  child.done = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

const server = start([PARLEYD, '--port', '0', '--jwt-secret', SECRET, '--data-dir', data, '--log-level', 'info',
  '--max-connections', String(CONNECTIONS * 2), '--max-connections-per-ip', String(CONNECTIONS * 2)]);
let port = 0;
for (const deadline = Date.now() + 15000; !port; await new Promise((r) => setTimeout(r, 20))) {
  const m = server.err.match(/msg=listening .*?port=(\d+)/);
  if (m) port = Number(m[1]);
  if (Date.now() > deadline || server.exitCode !== null) fail(`parleyd did not start:\n${server.err}`);
}
console.log(`soak: parleyd (pid ${server.pid}) on port ${port}; ${CONNECTIONS} connections, ${SECONDS} s, ` +
  `${RATE} messages/s, ${CHURN} drops/s`);

const loadgen = start([LOADGEN, '--scenario', 'soak', '--proto', 'parley', '--port', String(port),
  '--server-pid', String(server.pid), '--secret', SECRET, '--connections', String(CONNECTIONS), '--per-room', '100',
  '--duration', String(SECONDS), '--soak-rate', String(RATE), '--churn', String(CHURN), '--sample-every', '10']);
loadgen.stderr.on('data', (d) => process.stderr.write(d));
const exit = await loadgen.done;
if (exit.code !== 0) fail(`the load generator failed (${JSON.stringify(exit)})`);
const line = loadgen.out.split('\n').find((l) => l.includes('"scenario":"soak"'));
if (!line) fail(`no result from the load generator:\n${loadgen.out}`);
const r = JSON.parse(line).result;
server.kill('SIGTERM');
const stopped = await server.done;
const errorLines = server.err.split('\n').filter((l) => l.includes('level=error'));
if (errorLines.length) console.log(`soak: parleyd logged errors:\n${errorLines.slice(0, 20).join('\n')}`);

const growth = (r.rss_end_kb - r.rss_half_kb) / r.rss_half_kb;
const result = {
  when: new Date().toISOString(),
  connections: r.connections, seconds: r.duration_s, rate_msgs: r.rate_msgs,
  messages_committed: r.messages_committed, churned: r.churned,
  unexpected_disconnects: r.unexpected_disconnects, lost: r.lost, duplicates: r.duplicates, errors: r.errors,
  rss_start_kb: r.rss_start_kb, rss_half_kb: r.rss_half_kb, rss_end_kb: r.rss_end_kb, rss_peak_kb: r.rss_peak_kb,
  rss_growth_second_half: growth, rss_slope_kb_per_min: r.rss_slope_kb_per_min,
  server_cpu_s: r.server_cpu_s, server_exit: stopped,
  rss_samples: r.rss_samples,
};
writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');

const mb = (kb) => (kb / 1024).toFixed(1);
console.log(`
| | |
|---|---|
| connections / rooms | ${r.connections} / ${r.rooms} |
| duration | ${r.duration_s} s |
| messages committed | ${r.messages_committed} (${r.rate_msgs}/s, each to 100 members) |
| connections dropped and resumed | ${r.churned} |
| server RSS at start / half-way / end / peak | ${mb(r.rss_start_kb)} / ${mb(r.rss_half_kb)} / ${mb(r.rss_end_kb)} / ${mb(r.rss_peak_kb)} MB |
| growth over the second half | ${(growth * 100).toFixed(2)} % (slope ${r.rss_slope_kb_per_min.toFixed(1)} kB/min) |
| lost / duplicates / errors / unexpected disconnects | ${r.lost} / ${r.duplicates} / ${r.errors} / ${r.unexpected_disconnects} |
| server CPU | ${r.server_cpu_s.toFixed(1)} s |
`);
const problems = [];
if (!Number.isFinite(growth)) problems.push('no memory figures from the load generator (is build/native up to date?)');
if (growth > MAX_GROWTH) problems.push(`RSS grew ${(growth * 100).toFixed(1)} % over the second half (allowed ${MAX_GROWTH * 100} %)`);
if (r.lost > 0) problems.push(`${r.lost} committed messages never reached a member`);
if (r.unexpected_disconnects > 0) problems.push(`${r.unexpected_disconnects} connections lost besides the dropped ones`);
if (r.errors > 0) problems.push(`${r.errors} error answers`);
if (stopped.code !== 0) problems.push(`parleyd exited ${JSON.stringify(stopped)} on SIGTERM`);
if (problems.length) fail(problems.join('; '));
console.log(`soak: passed (results in ${OUT})`);
