// Connection attempts that never complete are abandoned after the handshake
// timeout and retried: against a TCP server that accepts and never answers
// the upgrade, and a WebSocket server that accepts and then stays silent.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';

import { createClient, MemoryStore, type ParleyClient } from '../dist/index.js';
import { tokenFor } from './support/parleyd';
import { wasmBinary } from './support/wasm';

const clients: ParleyClient[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.dispose();
  for (const f of cleanups.splice(0)) await f();
});

function client(url: string, handshakeTimeoutMs: number): ParleyClient {
  const c = createClient({
    url,
    getToken: () => tokenFor('alice'),
    wasmBinary,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    storage: new MemoryStore(),
    handshakeTimeoutMs,
    reconnect: { baseMs: 10, capMs: 20 },
  });
  clients.push(c);
  return c;
}

/** A list of what happened, with a wait for its n-th entry (woken by the push, not by time). */
function log<T>() {
  const items: T[] = [];
  const waiters: { n: number; wake: () => void }[] = [];
  return {
    items,
    push(item: T) {
      items.push(item);
      for (const w of waiters.filter((w) => items.length >= w.n)) w.wake();
    },
    reach(n: number, what: string): Promise<void> {
      if (items.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${what} (${items.length} of ${n})`)),
          10_000,
        );
        waiters.push({ n, wake: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

describe('the handshake timeout', () => {
  it('abandons a socket that never opens (the upgrade is never answered) and retries', async () => {
    const accepted: Socket[] = [];
    const closedByClient = log<Socket>();
    const server: Server = createServer((socket) => {
      accepted.push(socket);
      socket.on('data', () => {}); // swallow the upgrade request
      socket.on('close', () => closedByClient.push(socket));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      for (const s of accepted) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const { port } = server.address() as { port: number };
    const alice = client(`ws://127.0.0.1:${port}/ws`, 300);
    const states: string[] = [];
    alice.subscribe('connection', () => states.push(alice.getConnection().state));
    alice.connect();
    await closedByClient.reach(3, 'three abandoned attempts');
    expect(accepted.length).toBeGreaterThanOrEqual(3);
    expect(states).not.toContain('authenticating'); // never opened
    expect(states.filter((s) => s === 'reconnecting').length).toBeGreaterThanOrEqual(3);
    expect(alice.getConnection().lastError?.message).toBe('no answer from the server');
  });

  it('abandons a socket that opens and then carries nothing, and retries', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'parley.v1.json' });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    const hellos: string[] = [];
    const closes = log<number>();
    wss.on('connection', (ws) => {
      ws.on('message', (data) => hellos.push((data as Buffer).toString())); // heard, never answered
      ws.on('close', (code) => closes.push(code));
    });
    const { port } = wss.address() as { port: number };
    // Long enough for a local socket to open and say hello, however busy the machine.
    const alice = client(`ws://127.0.0.1:${port}/ws`, 1_000);
    const states: string[] = [];
    alice.subscribe('connection', () => states.push(alice.getConnection().state));
    alice.connect();
    await closes.reach(3, 'three abandoned attempts');
    expect(hellos.length).toBeGreaterThanOrEqual(3);
    expect(hellos.every((h) => (JSON.parse(h) as { type: string }).type === 'hello')).toBe(true);
    expect(closes.items.slice(0, 3)).toEqual([1000, 1000, 1000]); // closed by the client
    expect(states.slice(0, 4)).toEqual(['connecting', 'authenticating', 'reconnecting', 'connecting']);
  });
});
