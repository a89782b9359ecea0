// The wrapper running the real WebAssembly core against a real parleyd.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { createClient, MemoryStore, type ParleyClient, type RoomSnapshot } from '../dist/index.js';
import { Parleyd, tokenFor } from './support/parleyd';
import { until } from './support/until';
import { wasmBinary } from './support/wasm';

let server: Parleyd;
const clients: ParleyClient[] = [];

function client(user: string, storage = new MemoryStore()): ParleyClient {
  const c = createClient({
    url: server.url,
    getToken: () => tokenFor(user),
    wasmBinary,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    storage,
  });
  clients.push(c);
  return c;
}

const contents = (room: RoomSnapshot) => room.messages.map((m) => m.content);

function connected(c: ParleyClient) {
  return until(c, 'connection', () => c.getConnection(), (v) => v.state === 'connected', 'connected');
}

beforeEach(async () => {
  server = new Parleyd();
  await server.start();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.dispose();
  await server.dispose();
});

describe('a client on a real server', () => {
  it('connects, sends and receives', async () => {
    const alice = client('alice');
    const bob = client('bob');
    for (const c of [alice, bob]) {
      c.connect();
      c.join('lobby');
    }
    await connected(alice);
    await until(bob, 'room:lobby', () => bob.getRoom('lobby'), (r) => r.joined, 'bob joined');
    const key = await alice.send('lobby', 'hello bob');
    const atBob = await until(bob, 'room:lobby', () => bob.getRoom('lobby'), (r) => r.messages.length === 1, 'bob has it');
    expect(atBob.messages[0]).toMatchObject({ content: 'hello bob', senderId: 'alice', status: 'sent', mine: false });
    const atAlice = await until(alice, 'room:lobby', () => alice.getRoom('lobby'),
      (r) => r.messages[0]?.status === 'sent', 'alice confirmed');
    expect(atAlice.messages).toHaveLength(1);
    expect(atAlice.messages[0].key).toBe(key);
    expect(atAlice.messages[0].seq).toBe(1);
  });

  it('queues while the server is down and delivers everything exactly once after it comes back', async () => {
    const alice = client('alice');
    const bob = client('bob');
    for (const c of [alice, bob]) {
      c.connect();
      c.join('lobby');
    }
    await until(bob, 'room:lobby', () => bob.getRoom('lobby'), (r) => r.joined, 'bob joined');
    await until(alice, 'room:lobby', () => alice.getRoom('lobby'), (r) => r.joined, 'alice joined');
    await alice.send('lobby', 'before');
    await until(bob, 'room:lobby', () => bob.getRoom('lobby'), (r) => r.messages.length === 1, 'first message');
    await until(alice, 'room:lobby', () => alice.getRoom('lobby'), (r) => r.messages[0]?.status === 'sent', 'acked');

    await server.kill();
    await until(alice, 'connection', () => alice.getConnection(), (c) => c.state === 'backoff', 'alice backs off');
    expect(alice.getConnection().nextAttemptAt).toBeGreaterThan(Date.now() - 1);
    for (const text of ['while down 1', 'while down 2', 'while down 3']) await alice.send('lobby', text);
    const queued = alice.getRoom('lobby').messages.filter((m) => m.status === 'queued');
    expect(queued.map((m) => m.content)).toEqual(['while down 1', 'while down 2', 'while down 3']);

    await server.start();
    const atBob = await until(bob, 'room:lobby', () => bob.getRoom('lobby'), (r) => r.messages.length === 4,
      'bob has everything', 20_000);
    expect(contents(atBob)).toEqual(['before', 'while down 1', 'while down 2', 'while down 3']);
    expect(atBob.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    await until(alice, 'room:lobby', () => alice.getRoom('lobby'),
      (r) => r.messages.every((m) => m.status !== 'queued' && m.status !== 'sending'), 'alice confirmed');
  });

  it('keeps queued messages across a reload (a new client on the same storage)', async () => {
    const storage = new MemoryStore();
    const first = client('alice', storage);
    first.connect();
    first.join('lobby');
    await until(first, 'room:lobby', () => first.getRoom('lobby'), (r) => r.joined, 'joined');
    await server.kill();
    await until(first, 'connection', () => first.getConnection(), (c) => c.state === 'backoff', 'backoff');
    await first.send('lobby', 'survives a reload');
    first.dispose();

    const reloaded = client('alice', storage);
    reloaded.connect();
    await until(reloaded, 'room:lobby', () => reloaded.getRoom('lobby'),
      (r) => r.messages.some((m) => m.content === 'survives a reload' && m.status === 'queued'), 'restored');
    await server.start();
    const bob = client('bob');
    bob.connect();
    bob.join('lobby');
    const atBob = await until(bob, 'room:lobby', () => bob.getRoom('lobby'),
      (r) => r.messages.length === 1, 'delivered once', 20_000);
    expect(contents(atBob)).toEqual(['survives a reload']);
  });
});
