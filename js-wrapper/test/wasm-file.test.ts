// In Node the client reads its core from the package's own parley-core.wasm
// (a file: URL, which Node's fetch cannot read), with no wasmBinary. A file of
// its own: the module is loaded once per test file, and here the loader must
// find it by itself.
import { afterEach, expect, it } from 'vitest';

import { createClient, MemoryStore, type ParleyClient } from '../dist/index.js';
import { FakeClock } from './support/fake-clock';
import { fakeToken, FakeServer } from './support/fake-server';
import { untilConnection } from './support/until';

const clients: ParleyClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.dispose();
});

it('loads the WebAssembly core from the file next to it, without wasmBinary', async () => {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const alice = createClient({
    url: 'ws://parley.test/ws',
    getToken: () => fakeToken(clock, 'alice'),
    WebSocket: server.WebSocket,
    storage: new MemoryStore(),
    clock,
  });
  clients.push(alice);
  alice.connect();
  const c = await untilConnection(alice, (v) => v.state === 'connected' || v.state === 'failed', 'connected');
  expect(c.lastError).toBeNull();
  expect(c.state).toBe('connected');
});
