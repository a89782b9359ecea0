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

describe('the server’s limits', () => {
  it('come from welcome and stay while the client reconnects', async () => {
    useServer({ maxContentLength: 1234 });
    const alice = client('alice', { reconnect: { baseMs: 20, capMs: 40 } });
    expect(alice.getConnection().limits).toBeNull();
    await connect(alice);
    expect(alice.getConnection().limits).toEqual({
      maxFrameBytes: 65_536,
      maxContentLength: 1234,
      sendIntervalMs: 1,
      sendBurst: 1000,
    });
    server.stop();
    await clock.settle();
    expect(alice.getConnection()).toMatchObject({ state: 'reconnecting', limits: { maxContentLength: 1234 } });
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
      expect(c.state).toBe('reconnecting');
      expect(c.attempt).toBeGreaterThan(seen);
      seen = c.attempt;
      const wait = c.nextAttemptAt! - clock.now();
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(Math.min(40, 20 * 2 ** (c.attempt - 1)));
      if (wait > 0) {
        await clock.advance(wait - 1);
        expect(alice.getConnection()).toMatchObject({ state: 'reconnecting', attempt: seen });
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
    expect(state(alice)).toBe('reconnecting');
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
    expect(state(alice)).toBe('reconnecting');
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

describe('snapshots', () => {
  // Joined, with the delivered receipt for what the join brought back from the server.
  async function inLobby(c: ParleyClient) {
    await connect(c);
    c.join('lobby');
    await untilRoom(c, 'lobby', (r) => r.joined, 'joined');
    await clock.settle();
    return c.getRoom('lobby');
  }

  it('keep every message object, and the list, across a typing or presence update', async () => {
    server.seed('lobby', 'bob', 3);
    const alice = client('alice');
    const before = await inLobby(alice);
    expect(before.messages).toHaveLength(3);

    server.typing('lobby', 'bob', true);
    await clock.settle();
    const typing = alice.getRoom('lobby');
    expect(typing.typing).toEqual([{ userId: 'bob', name: 'bob' }]);
    expect(typing).not.toBe(before);
    expect(typing.messages).toBe(before.messages);
    expect(typing.members).toBe(before.members);

    server.presence('lobby', { userId: 'bob', name: 'bob', status: 'away' });
    await clock.settle();
    const away = alice.getRoom('lobby');
    expect(away.members.find((m) => m.userId === 'bob')?.status).toBe('away');
    expect(away.members.find((m) => m.userId === 'alice')).toBe(before.members.find((m) => m.userId === 'alice'));
    expect(away.messages).toBe(before.messages);
    expect(away.typing).toBe(typing.typing);
  });

  it('keep the objects of the other messages when one arrives or changes', async () => {
    server.seed('lobby', 'bob', 3);
    const alice = client('alice');
    const before = await inLobby(alice);
    server.post('lobby', 'bob', 'news');
    await clock.settle();
    const after = alice.getRoom('lobby');
    expect(after.messages.map((m) => m.content)).toEqual(['m1', 'm2', 'm3', 'news']);
    after.messages.slice(0, 3).forEach((m, i) => expect(m).toBe(before.messages[i]));

    // Our own message: pending, then stored; only its own object changes.
    const key = await alice.send('lobby', 'mine');
    const pending = alice.getRoom('lobby').messages;
    await clock.settle();
    const stored = alice.getRoom('lobby').messages;
    expect(stored.find((m) => m.key === key)?.seq).toBe(5);
    expect(stored.find((m) => m.key === key)).not.toBe(pending.find((m) => m.key === key));
    stored.slice(0, 4).forEach((m, i) => expect(m).toBe(after.messages[i]));
  });

  it('are frozen throughout, and a view the core re-reads unchanged notifies no one', async () => {
    server.seed('lobby', 'bob', 1);
    const alice = client('alice');
    const room = await inLobby(alice);
    expect(Object.isFrozen(room)).toBe(true);
    expect(Object.isFrozen(room.messages)).toBe(true);
    expect(Object.isFrozen(room.messages[0])).toBe(true);
    expect(Object.isFrozen(room.messages[0].readBy)).toBe(true);

    server.typing('lobby', 'bob', true);
    await clock.settle();
    let notified = 0;
    alice.subscribe('room:lobby', () => notified++);
    // The same indicator again (a refresh): the core marks the room changed, nothing in it is.
    server.typing('lobby', 'bob', true);
    await clock.settle();
    expect(notified).toBe(0);
    server.typing('lobby', 'bob', false);
    await clock.settle();
    expect(notified).toBe(1);
  });
});

describe('onMessage', () => {
  it('reports each message that arrives once: not what the room shows when joined, nor our own sends', async () => {
    server.seed('lobby', 'bob', 3);
    const reported: string[] = [];
    const alice = client('alice', {
      onMessage: (m) => reported.push(`${m.senderId}: ${m.content}${m.mine ? ' (mine)' : ''}`),
    });
    const alsoAlice = client('alice'); // another tab of the same user
    const failing = alice.onMessage(() => {
      throw new Error('a broken listener');
    });
    const errors: unknown[] = [];
    const error = console.error;
    console.error = (...args: unknown[]) => errors.push(args);
    try {
      for (const c of [alice, alsoAlice]) {
        await connect(c);
        c.join('lobby');
        await untilRoom(c, 'lobby', (r) => r.joined, 'joined');
      }
      expect(reported).toEqual([]);
      server.post('lobby', 'bob', 'hello');
      await alice.send('lobby', 'sent here');
      await alsoAlice.send('lobby', 'sent from the other tab');
      await clock.settle();
      expect(reported).toEqual(['bob: hello', 'alice: sent from the other tab (mine)']);
      expect(errors).toHaveLength(2); // the broken listener, logged; the others still called
    } finally {
      console.error = error;
    }
    failing();
    const off = alice.onMessage((m) => reported.push(`again: ${m.content}`));
    server.post('lobby', 'bob', 'more');
    await clock.settle();
    off();
    server.post('lobby', 'bob', 'last');
    await clock.settle();
    expect(reported.slice(2)).toEqual(['bob: more', 'again: more', 'bob: last']);
    expect(errors).toHaveLength(2);
  });

  it('does not report older pages', async () => {
    server.seed('lobby', 'bob', 60);
    const reported: number[] = [];
    const alice = client('alice', { onMessage: (m) => reported.push(m.seq!) });
    await connect(alice);
    alice.join('lobby');
    await untilRoom(alice, 'lobby', (r) => r.joined && r.messages.length === 50, 'the latest page');
    alice.loadOlder('lobby');
    await untilRoom(alice, 'lobby', (r) => r.messages.length === 60, 'the older page');
    server.post('lobby', 'bob', 'new');
    await clock.settle();
    expect(reported).toEqual([61]);
  });

  it('reports what came in while the connection was down, once, after the rejoin', async () => {
    const reported: string[] = [];
    const alice = client('alice', { onMessage: (m) => reported.push(m.content), reconnect: { baseMs: 10, capMs: 10 } });
    await connect(alice);
    alice.join('lobby');
    await untilRoom(alice, 'lobby', (r) => r.joined, 'joined');
    server.stop();
    server.post('lobby', 'bob', 'while you were away');
    await clock.advance(100);
    expect(state(alice)).toBe('reconnecting');
    server.start();
    await clock.advance(100);
    await untilRoom(alice, 'lobby', (r) => r.joined && r.messages.length === 1, 'rejoined');
    expect(reported).toEqual(['while you were away']);
    await clock.advance(60_000); // heartbeats, receipts: nothing is reported again
    expect(reported).toEqual(['while you were away']);
  });
});
