// The wrapper's own logic (its options, backoff, tokens, the subprotocol
// check, the queue's limit, room holds, heartbeats) with the real WebAssembly
// core, against the in-process fake server on a fake clock: no parleyd, and
// no test waits for real time to pass. The real server's side of these
// stories is in client.test.ts and session.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  createClient,
  MemoryStore,
  ParleyClientError,
  type ClientOptions,
  type ConnectionSnapshot,
  type ParleyClient,
} from '../dist/index.js';
import { FakeClock } from './support/fake-clock';
import { fakeToken, FakeServer, type FakeServerOptions } from './support/fake-server';
import { untilConnection, untilRoom } from './support/until';
import { wasmBinary } from './support/wasm';

let clock: FakeClock;
let server: FakeServer;
const clients: ParleyClient[] = [];

function client(user: string, more: Partial<ClientOptions> = {}): ParleyClient {
  const c = createClient({
    url: 'ws://parley.test/ws',
    getToken: () => fakeToken(clock, user),
    wasmBinary,
    WebSocket: server.WebSocket,
    storage: new MemoryStore(),
    clock,
    ...more,
  });
  clients.push(c);
  return c;
}

function useServer(options: FakeServerOptions): void {
  server = new FakeServer(clock, options);
}

/** connect(), then waits (on the client's notifications) until the core is loaded and has started. */
async function connect(c: ParleyClient): Promise<ConnectionSnapshot> {
  c.connect();
  const started = await untilConnection(c, (v) => v.state !== 'idle', 'the core started');
  await clock.settle();
  return started;
}

const state = (c: ParleyClient) => c.getConnection().state;

beforeEach(() => {
  clock = new FakeClock();
  server = new FakeServer(clock);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.dispose();
});

describe('options', () => {
  it('are checked when the client is created', () => {
    const base = { url: 'ws://parley.test/ws', getToken: () => 't' };
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

  it('the hello names the package and its version, from package.json', async () => {
    const pkg = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    await connect(client('alice'));
    expect(state(clients[0])).toBe('connected');
    expect(server.framesOf('hello')[0].client).toEqual({ name: pkg.name, version: pkg.version });
  });
});

describe('reconnection, on the injected clock', () => {
  it('waits out each backoff drawn from [0, min(capMs, baseMs · 2^attempt)], and not a millisecond less', async () => {
    const alice = client('alice', { reconnect: { baseMs: 20, capMs: 40 } });
    await connect(alice);
    expect(state(alice)).toBe('connected');
    server.stop();
    await clock.settle();
    // (A delay drawn as 0 runs its attempt within the previous advance: hence `seen`.)
    for (let seen = 0; seen < 4;) {
      const c = alice.getConnection();
      expect(c.state).toBe('backoff');
      expect(c.attempt).toBeGreaterThan(seen);
      seen = c.attempt;
      const wait = c.nextAttemptAt! - clock.now();
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(Math.min(40, 20 * 2 ** (c.attempt - 1)));
      if (wait > 0) {
        await clock.advance(wait - 1);
        expect(alice.getConnection()).toMatchObject({ state: 'backoff', attempt: seen });
      }
      await clock.advanceTo(c.nextAttemptAt!); // the attempt starts and is refused (the server is down)
    }
    server.start();
    const opened = server.opened;
    await clock.advanceTo(alice.getConnection().nextAttemptAt!);
    expect(state(alice)).toBe('connected');
    expect(server.opened).toBe(opened + 1);
  });

  it('pings a connection that stays quiet for a heartbeat, and drops it after two', async () => {
    useServer({ heartbeatMs: 1_000 });
    const alice = client('alice');
    await connect(alice);
    expect(state(alice)).toBe('connected');
    server.silent = true; // hears everything, answers nothing
    await clock.advance(1_000);
    expect(server.framesOf('ping')).toHaveLength(1);
    expect(state(alice)).toBe('connected');
    await clock.advance(1_000);
    expect(state(alice)).toBe('backoff');
    expect(server.connections.size).toBe(0); // the client closed it
  });
});

describe('tokens', () => {
  it('closes with unauthorized when the app has no token', async () => {
    const alice = client('alice', { getToken: () => null });
    await connect(alice);
    expect(alice.getConnection()).toMatchObject({
      state: 'closed',
      lastError: { code: 'unauthorized', message: 'the app has no token' },
    });
    expect(server.framesOf('hello')).toHaveLength(0);
  });

  it('closes with unauthorized when the server refuses a fresh token, and starts over on reconnectNow', async () => {
    let tokens = 0;
    const alice = client('alice', {
      getToken: () => {
        tokens++;
        return fakeToken(clock, 'alice', 'alice', -60_000); // expired
      },
      reconnect: { baseMs: 10, capMs: 20 },
    });
    await connect(alice);
    await clock.advance(1_000);
    expect(alice.getConnection()).toMatchObject({ state: 'closed', lastError: { code: 'unauthorized' } });
    expect(tokens).toBe(2); // the first, then a fresh one
    alice.reconnectNow();
    await clock.advance(1_000);
    expect(state(alice)).toBe('closed');
    expect(tokens).toBe(4);
    expect(server.opened).toBe(4);
  });

  it('refreshes a token on the open socket halfway to the expiresAt its provider gives', async () => {
    let tokens = 0;
    const alice = client('alice', {
      getToken: () => {
        tokens++;
        // A JWT good for an hour, but the provider says it is good for 2 s.
        return { token: fakeToken(clock, 'alice'), expiresAt: clock.now() + 2_000 };
      },
    });
    await connect(alice);
    expect(tokens).toBe(1);
    // Each token is good for 2 s from when it is given: refreshed after 1 s, every time.
    await clock.advance(999);
    expect(tokens).toBe(1);
    await clock.advance(1);
    expect(tokens).toBe(2);
    await clock.advance(999);
    expect(tokens).toBe(2);
    await clock.advance(1);
    expect(tokens).toBe(3);
    expect(server.framesOf('auth')).toHaveLength(2);
    expect(server.opened).toBe(1);
    expect(alice.getConnection()).toMatchObject({ state: 'connected', lastError: null });
  });

  it('closes with unauthorized when the provider has no token at refresh time (signed out)', async () => {
    let tokens = 0;
    const alice = client('alice', {
      getToken: () => (++tokens === 1 ? fakeToken(clock, 'alice', 'alice', 3_000) : null),
    });
    await connect(alice);
    expect(state(alice)).toBe('connected');
    await clock.advance(3_000);
    expect(alice.getConnection()).toMatchObject({
      state: 'closed',
      lastError: { code: 'unauthorized', message: 'the app has no token' },
    });
    expect(tokens).toBe(2);
  });
});

describe('the socket', () => {
  it('is refused when the server chose no subprotocol', async () => {
    useServer({ subprotocol: '' });
    const alice = client('alice');
    await connect(alice);
    const closed = alice.getConnection();
    expect(closed).toMatchObject({ state: 'closed', lastError: { code: 'unsupported_version' } });
    expect(closed.lastError?.message).toContain('parley.v1.json');
    expect(server.opened).toBe(1);
    expect(server.framesOf('hello')).toHaveLength(0);
  });
});

describe('the offline queue', () => {
  it('refuses a send with queue_full only when the queue is full', async () => {
    server.stop();
    const alice = client('alice', { queueLimit: 2 });
    await connect(alice);
    expect(state(alice)).toBe('backoff');
    await alice.send('lobby', 'one');
    await alice.send('lobby', 'two');
    const refused = await alice.send('lobby', 'three').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ParleyClientError);
    expect((refused as ParleyClientError).error).toEqual({
      code: 'queue_full',
      message: '2 messages are already waiting to be sent',
    });
    expect(alice.getRoom('lobby').messages.map((m) => m.content)).toEqual(['one', 'two']);

    // Another failure is not relabelled: a disposed client says so.
    alice.dispose();
    const disposed = await alice.send('lobby', 'four').catch((e: unknown) => e);
    expect(disposed).toBeInstanceOf(Error);
    expect(disposed).not.toBeInstanceOf(ParleyClientError);
    expect((disposed as Error).message).toMatch(/disposed/);
  });
});

describe('room holds', () => {
  it('leave when the last holder lets go, not when another takes over in the same tick', async () => {
    const alice = client('alice');
    await connect(alice);
    const first = alice.hold('lobby');
    await untilRoom(alice, 'lobby', (r) => r.joined, 'joined');
    first();
    const second = alice.hold('lobby'); // Strict Mode: unmounted and mounted again
    await clock.advance(0);
    expect(server.framesOf('leave')).toHaveLength(0);
    expect(server.framesOf('join')).toHaveLength(1);
    second();
    expect(server.framesOf('leave')).toHaveLength(0); // decided in a zero-delay timer
    await clock.advance(0);
    expect(server.framesOf('leave')).toEqual([expect.objectContaining({ roomId: 'lobby' })]);
  });
});
