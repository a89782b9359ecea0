#!/usr/bin/env node
// How many inbound messages per second the WebAssembly client core ingests
// into a room timeline under Node (the module the package ships): decoding
// only, and with the view re-read every 100 messages (the wrapper reads it at
// most once per tick).
// Prints the median of 5 runs.  node bench/client/ingest.mjs [messages]
import { readFileSync } from 'node:fs';

const dist = new URL('../../js-wrapper/dist/', import.meta.url);
const { loadCore } = await import(new URL('wasm-loader.js', dist).href);
const { CoreHandle } = await import(new URL('core.js', dist).href);
const module = await loadCore({ wasmBinary: readFileSync(new URL('parley-core.wasm', dist)) });

const count = Number(process.argv[2] ?? 20000);
const frames = [];
for (let seq = 1; seq <= count; seq++) {
  frames.push(JSON.stringify({
    type: 'message',
    message: {
      id: `m_${seq}`, roomId: 'lobby', senderId: 'bob', senderName: 'Bob', clientMsgId: `c_bob_${100000 + seq}`,
      seq, type: 'text', content: 'Are we still on for the design review at 3? I moved the slides to the shared folder.',
      createdAt: 1763776800000 + seq,
    },
  }));
}

function run(viewEvery) {
  const core = new CoreHandle(module, { url: 'ws://bench/ws', seed: 7 });
  let now = 1;
  core.command({ op: 'connect' }, now);
  core.takeEffects();
  const socket = 1;
  core.socketOpened(socket, now);
  core.command({ op: 'setToken', token: 't' }, now);
  core.takeEffects();
  core.received(socket, JSON.stringify({ type: 'welcome', ref: '1', sessionId: 's', user: { id: 'alice', name: 'Alice' },
    serverTime: 1, heartbeatMs: 600000, limits: { maxFrameBytes: 65536, maxContentLength: 4000, sendIntervalMs: 100, sendBurst: 20 } }), now);
  core.command({ op: 'join', roomId: 'lobby' }, now);
  core.received(socket, JSON.stringify({ type: 'joined', ref: '2', room: { id: 'lobby', kind: 'public' }, epoch: 'e',
    headSeq: 0, members: [], messages: [] }), now);
  core.takeEffects();
  const start = process.hrtime.bigint();
  for (let i = 0; i < frames.length; i++) {
    core.received(socket, frames[i], ++now);
    core.takeEffects();
    if (viewEvery && i % viewEvery === viewEvery - 1) core.view('room:lobby');
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const last = core.view('room:lobby').messages.at(-1);
  core.dispose();
  if (last.seq !== count) throw new Error(`the last message is ${last.seq}, not ${count}`);
  return count / seconds;
}

const k = (r) => `${(r / 1000).toFixed(1)}k`;
for (const [label, every] of [['ingest only', 0], ['view read every 100 messages', 100]]) {
  const rates = Array.from({ length: 5 }, () => run(every)).sort((a, b) => a - b);
  console.log(`client core (WASM, Node ${process.versions.node}), ${label}: ${k(rates[2])} messages/s ` +
    `(median of 5; min ${k(rates[0])}, max ${k(rates[4])}; ${count} messages, timeline kept at 500)`);
}
