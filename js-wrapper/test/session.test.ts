// Token refresh in place, sign-out, and the queues of several clients (tabs)
// on one store: the wrapper with the real WebAssembly core and a real parleyd.
// (Token refresh on a fake clock, to the millisecond: wrapper.test.ts.)
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

import { createClient, MemoryStore, type ClientOptions, type ParleyClient, type RoomSnapshot } from '../dist/index.js';
import { metric, Parleyd, tokenFor } from './support/parleyd';
import { untilConnection, untilRoom } from './support/until';
import { wasmBinary } from './support/wasm';

let server: Parleyd;
const clients: ParleyClient[] = [];

function client(user: string, more: Partial<ClientOptions> = {}): ParleyClient {
  const c = createClient({
    url: server.url,
    getToken: () => tokenFor(user),
    wasmBinary,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    storage: new MemoryStore(),
    ...more,
  });
  clients.push(c);
  return c;
}

const contents = (room: RoomSnapshot) => room.messages.map((m) => m.content);

function connected(c: ParleyClient) {
  return untilConnection(c, (v) => v.state === 'connected', 'connected');
}

function joined(c: ParleyClient, room = 'lobby') {
  return untilRoom(c, room, (r) => r.joined, 'joined');
}

/** Resolves when `count()` reaches `n` (checked on each of the client's connection changes and token calls). */
function counter() {
  let n = 0;
  const waiters: { at: number; resolve: () => void }[] = [];
  return {
    get value() {
      return n;
    },
    bump() {
      n++;
      for (const w of waiters.filter((w) => n >= w.at)) w.resolve();
    },
    reach(at: number, what: string, timeoutMs = 15_000): Promise<void> {
      if (n >= at) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what} (${n} of ${at})`)), timeoutMs);
        waiters.push({ at, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

beforeEach(async () => {
  server = new Parleyd();
  await server.start();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.dispose();
  await server.dispose();
});

describe('token refresh', () => {
  it('refreshes a short-lived token on the open socket, across several expiries, with messages flowing', async () => {
    const tokens = counter();
    const issued: number[] = []; // each token is expired 3 s after it was issued, at the latest
    const alice = client('alice', {
      getToken: () => {
        issued.push(Date.now());
        tokens.bump();
        return tokenFor('alice', 'alice', 3);
      },
    });
    const bob = client('bob');
    const states: string[] = [];
    alice.subscribe('connection', () => states.push(alice.getConnection().state));
    for (const c of [alice, bob]) {
      c.connect();
      c.join('lobby');
    }
    await joined(alice);
    await joined(bob);
    // A message after each refresh, until three tokens have expired.
    const sent: string[] = [];
    while (issued.length < 3 || Date.now() <= issued[2] + 3_000) {
      await tokens.reach(tokens.value + 1, `token ${tokens.value + 1}`);
      const text = `after refresh ${tokens.value - 1}`;
      sent.push(text);
      await alice.send('lobby', text);
    }
    const atBob = await untilRoom(bob, 'lobby', (r) => r.messages.length === sent.length, 'bob has them all');
    expect(contents(atBob)).toEqual(sent);
    expect(tokens.value).toBeGreaterThanOrEqual(4);
    // One socket all along: no state but connected after the first welcome.
    expect(states.filter((s) => s !== 'connected')).toEqual(['connecting', 'authenticating']);
    expect(metric(await server.metrics(), 'parley_connections_opened_total')).toBe(2); // alice's and bob's
    expect(alice.getConnection().lastError).toBeNull();
  });

  it('falls back to a reconnect with a fresh token when the server refuses the refreshed one', async () => {
    const tokens = counter();
    const alice = client('alice', {
      getToken: () => {
        tokens.bump();
        // 1: short-lived; 2: another user's (refused in place); 3: good.
        if (tokens.value === 1) return tokenFor('alice', 'alice', 3);
        if (tokens.value === 2) return tokenFor('mallory', 'mallory', 3);
        return tokenFor('alice');
      },
      reconnect: { baseMs: 10, capMs: 20 },
    });
    const errors: string[] = [];
    alice.subscribe('connection', () => {
      const e = alice.getConnection().lastError;
      if (e && errors.at(-1) !== e.code) errors.push(e.code);
    });
    alice.connect();
    await connected(alice);
    await tokens.reach(3, 'a fresh token after the refusal');
    await untilConnection(alice, (c) => c.state === 'connected' && c.lastError === null, 'connected again');
    expect(errors).toEqual(['unauthorized']);
    expect(metric(await server.metrics(), 'parley_connections_opened_total')).toBe(2);
  });
});

describe('queues of several clients on one store', () => {
  it('adopts the queues of clients that are gone: each message is delivered once', async () => {
    const storage = new MemoryStore();
    const bob = client('bob');
    bob.connect();
    bob.join('lobby');
    await joined(bob);
    await server.kill();
    // Two "tabs" of alice on one store, both queueing while the server is down.
    const tabs = [client('alice', { storage }), client('alice', { storage })];
    for (const t of tabs) t.connect();
    for (const t of tabs) {
      await untilConnection(t, (c) => c.state === 'reconnecting', 'reconnecting');
    }
    await tabs[0].send('lobby', 'a1');
    await tabs[1].send('lobby', 'b1');
    await tabs[0].send('lobby', 'a2');
    await tabs[1].send('lobby', 'b2');
    const keys = [...(await storage.loadAll()).keys()].filter((k) => k.startsWith('outbox')).sort();
    expect(keys).toHaveLength(2); // one queue per tab: neither overwrote the other
    tabs[1].dispose();
    tabs[0].dispose();

    await server.start();
    const later = client('alice', { storage });
    later.connect();
    const atBob = await untilRoom(bob, 'lobby', (r) => r.messages.length === 4, 'bob has all four', 20_000);
    expect(contents(atBob).sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
    await untilRoom(
      later,
      'lobby',
      (r) => r.messages.length === 4 && r.messages.every((m) => m.status !== 'queued' && m.status !== 'sending'),
      'alice confirmed all',
    );
    // The adopted queues are gone from the store; the new client's is empty.
    const left = [...(await storage.loadAll()).keys()].filter((k) => k.startsWith('outbox'));
    expect(left).toHaveLength(1);
    expect(left[0]).not.toBe(keys[0]);
    expect(left[0]).not.toBe(keys[1]);
    // A sentinel from bob, then: nothing from alice came twice.
    await bob.send('lobby', 'sentinel');
    await untilRoom(later, 'lobby', (r) => r.messages.some((m) => m.content === 'sentinel'), 'sentinel');
    expect(contents(bob.getRoom('lobby'))).toHaveLength(5);
  });
});

describe('sign-out', () => {
  it('deletes everything stored and stops the other clients of the store', async () => {
    const storage = new MemoryStore();
    const tab1 = client('alice', { storage });
    const tab2 = client('alice', { storage });
    for (const t of [tab1, tab2]) {
      t.connect();
      t.join('lobby');
    }
    await joined(tab1);
    await joined(tab2);
    await server.kill();
    await untilConnection(tab1, (c) => c.state === 'reconnecting', 'reconnecting');
    await tab1.send('lobby', 'never sent 1');
    await tab2.send('lobby', 'never sent 2');
    expect([...(await storage.loadAll()).keys()].filter((k) => k.startsWith('outbox'))).toHaveLength(2);

    await tab1.signOut();
    expect((await storage.loadAll()).size).toBe(0);
    expect(tab1.getConnection()).toMatchObject({ state: 'closed', lastError: { code: 'unauthorized' } });
    const other = await untilConnection(tab2, (c) => c.state === 'closed', 'tab 2 stops');
    expect(other.lastError).toMatchObject({ code: 'unauthorized', message: 'signed out on this device' });
    expect(tab2.getRoom('lobby').messages).toEqual([]);
    // Nothing is written after the sign-out, whatever the stopped clients do.
    tab2.markRead('lobby', 5);
    await tab2.send('lobby', 'after sign-out').catch(() => undefined);
    expect((await storage.loadAll()).size).toBe(0);

    // Nothing of theirs reaches the server later.
    await server.start();
    const fresh = client('alice', { storage });
    fresh.connect();
    fresh.join('lobby');
    await joined(fresh);
    expect(fresh.getRoom('lobby').messages).toEqual([]);
    expect(metric(await server.metrics(), 'parley_messages_stored')).toBe(0);
  });
});
