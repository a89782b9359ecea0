// The wrapper running the real WebAssembly core against a real parleyd: the
// stories that prove the two work together. What the wrapper decides by
// itself is tested against the in-process fake server in wrapper.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { createClient, MemoryStore, type ClientOptions, type ParleyClient, type RoomSnapshot } from '../dist/index.js';
import { Parleyd, tokenFor } from './support/parleyd';
import { untilConnection, untilRoom } from './support/until';
import { wasmBinary } from './support/wasm';

let server: Parleyd;
const clients: ParleyClient[] = [];

function client(user: string, storage = new MemoryStore(), more: Partial<ClientOptions> = {}): ParleyClient {
  const c = createClient({
    url: server.url,
    getToken: () => tokenFor(user),
    wasmBinary,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    storage,
    ...more,
  });
  clients.push(c);
  return c;
}

const contents = (room: RoomSnapshot) => room.messages.map((m) => m.content);

function connected(c: ParleyClient) {
  return untilConnection(c, (v) => v.state === 'connected', 'connected');
}

beforeEach(async () => {
  server = new Parleyd();
  await server.start();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.dispose();
  await server.dispose();
});

// The server has the message once it is past 'sending'; a reader's receipt may already
// have moved it on to 'delivered' or 'read' by the time the test looks.
function acked(m: { status: string } | undefined): boolean {
  return m !== undefined && ['sent', 'delivered', 'read'].includes(m.status);
}

describe('a client on a real server', () => {
  it('connects, sends and receives', async () => {
    const alice = client('alice');
    const bob = client('bob');
    for (const c of [alice, bob]) {
      c.connect();
      c.join('lobby');
    }
    await connected(alice);
    await untilRoom(bob, 'lobby', (r) => r.joined, 'bob joined');
    const key = await alice.send('lobby', 'hello bob');
    const atBob = await untilRoom(bob, 'lobby', (r) => r.messages.length === 1, 'bob has it');
    expect(atBob.messages[0]).toMatchObject({ content: 'hello bob', senderId: 'alice', status: 'sent', mine: false });
    const atAlice = await untilRoom(alice, 'lobby', (r) => acked(r.messages[0]), 'alice confirmed');
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
    await untilRoom(bob, 'lobby', (r) => r.joined, 'bob joined');
    await untilRoom(alice, 'lobby', (r) => r.joined, 'alice joined');
    await alice.send('lobby', 'before');
    await untilRoom(bob, 'lobby', (r) => r.messages.length === 1, 'first message');
    await untilRoom(alice, 'lobby', (r) => acked(r.messages[0]), 'acked');

    await server.kill();
    await untilConnection(alice, (c) => c.state === 'reconnecting', 'alice backs off');
    expect(alice.getConnection().nextAttemptAt).toBeGreaterThan(Date.now() - 1);
    for (const text of ['while down 1', 'while down 2', 'while down 3']) await alice.send('lobby', text);
    const queued = alice.getRoom('lobby').messages.filter((m) => m.status === 'queued');
    expect(queued.map((m) => m.content)).toEqual(['while down 1', 'while down 2', 'while down 3']);

    await server.start();
    const atBob = await untilRoom(bob, 'lobby', (r) => r.messages.length === 4, 'bob has everything', 20_000);
    expect(contents(atBob)).toEqual(['before', 'while down 1', 'while down 2', 'while down 3']);
    expect(atBob.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    await untilRoom(
      alice,
      'lobby',
      (r) => r.messages.every((m) => m.status !== 'queued' && m.status !== 'sending'),
      'alice confirmed',
    );
  });

  it('keeps queued messages across a reload (a new client on the same storage)', async () => {
    const storage = new MemoryStore();
    const first = client('alice', storage);
    first.connect();
    first.join('lobby');
    await untilRoom(first, 'lobby', (r) => r.joined, 'joined');
    await server.kill();
    await untilConnection(first, (c) => c.state === 'reconnecting', 'reconnecting');
    await first.send('lobby', 'survives a reload');
    first.dispose();

    const reloaded = client('alice', storage);
    reloaded.connect();
    await untilRoom(
      reloaded,
      'lobby',
      (r) => r.messages.some((m) => m.content === 'survives a reload' && m.status === 'queued'),
      'restored',
    );
    await server.start();
    const bob = client('bob');
    bob.connect();
    bob.join('lobby');
    const atBob = await untilRoom(bob, 'lobby', (r) => r.messages.length === 1, 'delivered once', 20_000);
    expect(contents(atBob)).toEqual(['survives a reload']);
  });
});
