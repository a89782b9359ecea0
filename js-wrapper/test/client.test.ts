// The wrapper running the real WebAssembly core against a real parleyd.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import {
  createClient,
  MemoryStore,
  ParleyClientError,
  type ClientOptions,
  type ParleyClient,
  type RoomSnapshot,
} from '../dist/index.js';
import { metric, Parleyd, tokenFor } from './support/parleyd';
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
    await untilConnection(alice, (c) => c.state === 'backoff', 'alice backs off');
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
    await untilConnection(first, (c) => c.state === 'backoff', 'backoff');
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

  it('refuses a send with queue_full only when the queue is full', async () => {
    await server.kill();
    const alice = client('alice', new MemoryStore(), { queueLimit: 2 });
    alice.connect();
    await untilConnection(alice, (c) => c.state === 'backoff', 'backoff');
    await alice.send('lobby', 'one');
    await alice.send('lobby', 'two');
    const refused = await alice.send('lobby', 'three').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ParleyClientError);
    expect((refused as ParleyClientError).error).toEqual({
      code: 'queue_full',
      message: '2 messages are already waiting to be sent',
    });
    expect(contents(alice.getRoom('lobby'))).toEqual(['one', 'two']);

    // Another failure is not relabelled: a disposed client says so.
    alice.dispose();
    const disposed = await alice.send('lobby', 'four').catch((e: unknown) => e);
    expect(disposed).toBeInstanceOf(Error);
    expect(disposed).not.toBeInstanceOf(ParleyClientError);
    expect((disposed as Error).message).toMatch(/disposed/);
  });

  it('checks its options', () => {
    const base = { url: server.url, getToken: () => 't' };
    expect(() => createClient({ ...base, reconnect: { baseMs: 0 } })).toThrow(
      'reconnect.baseMs must be an integer of at least 1, not 0',
    );
    expect(() => createClient({ ...base, reconnect: { baseMs: 2000, capMs: 1000 } })).toThrow(
      'reconnect.capMs must not be less than reconnect.baseMs',
    );
    expect(() => createClient({ ...base, queueLimit: 1.5 })).toThrow(
      'queueLimit must be an integer of at least 1, not 1.5',
    );
  });

  it('backs off as configured', async () => {
    const alice = client('alice', new MemoryStore(), { reconnect: { baseMs: 20, capMs: 40 } });
    alice.connect();
    await connected(alice);
    await server.kill();
    for (let attempt = 0; attempt < 4; attempt++) {
      const seen = alice.getConnection().attempt;
      const c = await untilConnection(alice, (v) => v.state === 'backoff' && v.attempt > seen, `backoff ${attempt}`);
      expect(c.nextAttemptAt! - Date.now()).toBeLessThanOrEqual(40);
    }
  });

  it('closes with unauthorized when the server refuses a fresh token, and starts over on reconnectNow', async () => {
    let tokens = 0;
    const alice = client('alice', new MemoryStore(), {
      getToken: () => {
        tokens++;
        return tokenFor('alice', 'alice', -60); // expired
      },
      reconnect: { baseMs: 10, capMs: 20 },
    });
    alice.connect();
    const closed = await untilConnection(alice, (c) => c.state === 'closed', 'closed');
    expect(closed.lastError?.code).toBe('unauthorized');
    expect(tokens).toBe(2);
    alice.reconnectNow();
    await untilConnection(alice, (c) => c.state !== 'closed', 'starts over');
    await untilConnection(alice, (c) => c.state === 'closed', 'closed again');
    expect(tokens).toBe(4);
    expect(metric(await server.metrics(), 'parley_connections_opened_total')).toBe(4);
  });

  it('closes with unauthorized when the app has no token', async () => {
    const alice = client('alice', new MemoryStore(), { getToken: () => null });
    alice.connect();
    const closed = await untilConnection(alice, (c) => c.state === 'closed', 'closed');
    expect(closed.lastError).toMatchObject({ code: 'unauthorized', message: 'the app has no token' });
  });

  it('refuses a connection whose server chose no subprotocol', async () => {
    // As a browser reports a server that answered without Sec-WebSocket-Protocol.
    class NoSubprotocol extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        Object.defineProperty(this, 'protocol', { get: () => '' });
      }
    }
    const alice = client('alice', new MemoryStore(), {
      WebSocket: NoSubprotocol as unknown as typeof globalThis.WebSocket,
    });
    alice.connect();
    const closed = await untilConnection(alice, (c) => c.state === 'closed', 'closed');
    expect(closed.lastError?.code).toBe('unsupported_version');
    expect(closed.lastError?.message).toContain('parley.v1.json');
    expect(metric(await server.metrics(), 'parley_connections_opened_total')).toBe(1);
  });
});
