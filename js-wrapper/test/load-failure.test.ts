// A WebAssembly core that cannot be loaded ends in the `failed` state with
// the reason, not in `idle` forever. (A file of its own: the module is loaded
// once per page, and here it must fail.)
import { afterEach, expect, it } from 'vitest';

import { createClient, ParleyClientError, type ParleyClient } from '../dist/index.js';
import { until, untilConnection } from './support/until';

const clients: ParleyClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.dispose();
});

it('says failed, with load_failed, and send() rejects with it', async () => {
  let tokens = 0;
  const alice = createClient({
    url: 'ws://127.0.0.1:9/ws',
    getToken: () => {
      tokens++;
      return 't';
    },
    wasmBinary: new Uint8Array([0x3c, 0x21, 0x44, 0x4f]), // what a 404 page would give
  });
  clients.push(alice);
  alice.connect();
  const failed = await untilConnection(alice, (c) => c.state === 'failed', 'failed');
  expect(failed.lastError?.code).toBe('load_failed');
  expect(failed.lastError?.message).toMatch(/^could not load the client core: /);
  const refused = await alice.send('lobby', 'hello').catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(ParleyClientError);
  expect((refused as ParleyClientError).error.code).toBe('load_failed');
  expect(tokens).toBe(0);

  // reconnectNow() tries to load it again (and fails again here).
  const seen: string[] = [];
  alice.subscribe('connection', () => seen.push(alice.getConnection().state));
  alice.reconnectNow();
  await until(
    alice,
    'connection',
    () => seen,
    (s) => s.length > 0,
    'a second attempt',
  );
  expect(alice.getConnection().state).toBe('failed');
});
