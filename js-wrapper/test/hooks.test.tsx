// @vitest-environment jsdom
// Each React hook against a real parleyd: two users (alice and bob), each
// with a provider of their own, as two tabs would be.
import { act, cleanup, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';

import { MemoryStore } from '../dist/index.js';
import { ParleyProvider, useConnection, usePresence, useRoom, useTyping } from '../dist/react/index.js';
import { Parleyd, tokenFor } from './support/parleyd';
import { wasmBinary } from './support/wasm';

let server: Parleyd;
const GRACE_MS = 300;

beforeAll(async () => {
  server = new Parleyd();
  // Quick presence changes; no send limit in the way of seeding history.
  await server.start([
    '--offline-grace-ms',
    String(GRACE_MS),
    '--rate-messages',
    '1000/1000',
    '--user-rate-messages',
    '1000/1000',
  ]);
});

afterEach(() => cleanup());

afterAll(async () => {
  await server.dispose();
});

let rooms = 0;
const uniqueRoom = () => `hooks-${++rooms}-${Date.now().toString(36)}`;

function as(user: string) {
  const storage = new MemoryStore();
  return ({ children }: { children: ReactNode }) => (
    <ParleyProvider
      url={server.url}
      getToken={() => tokenFor(user)}
      wasmBinary={wasmBinary}
      WebSocket={WebSocket as unknown as typeof globalThis.WebSocket}
      storage={storage}
    >
      {children}
    </ParleyProvider>
  );
}

function useEverything(roomId: string) {
  return {
    room: useRoom(roomId),
    presence: usePresence(roomId),
    typing: useTyping(roomId),
    connection: useConnection(),
  };
}

const WAIT = { timeout: 10_000 };

async function joined(roomId: string, user: string) {
  const hook = renderHook(() => useEverything(roomId), { wrapper: as(user) });
  await waitFor(() => expect(hook.result.current.room.joined).toBe(true), WAIT);
  return hook;
}

it('usePresence shows who is online, then a member who left as offline with lastSeen', async () => {
  const room = uniqueRoom();
  const alice = await joined(room, 'alice');
  const bob = await joined(room, 'bob');
  await waitFor(() => {
    const b = alice.result.current.presence.find((m) => m.userId === 'bob');
    expect(b?.status).toBe('online');
  }, WAIT);
  const leftAt = Date.now();
  bob.unmount(); // his only tab closes
  await waitFor(() => {
    const b = alice.result.current.presence.find((m) => m.userId === 'bob');
    expect(b?.status).toBe('offline');
    expect(b?.lastSeen).toBeGreaterThanOrEqual(leftAt - 1000);
  }, WAIT);
  expect(alice.result.current.presence.find((m) => m.userId === 'alice')?.status).toBe('online');
});

it('useTyping shows the other side typing, and stops showing it when they stop', async () => {
  const room = uniqueRoom();
  const alice = await joined(room, 'alice');
  const bob = await joined(room, 'bob');
  expect(alice.result.current.typing.typing).toEqual([]);
  act(() => bob.result.current.typing.setTyping(true));
  await waitFor(() => expect(alice.result.current.typing.typing).toEqual([{ userId: 'bob', name: 'bob' }]), WAIT);
  expect(bob.result.current.typing.typing).toEqual([]); // not ourselves
  expect(alice.result.current.room.typing).toEqual(alice.result.current.typing.typing);
  act(() => bob.result.current.typing.setTyping(false));
  await waitFor(() => expect(alice.result.current.typing.typing).toEqual([]), WAIT);
});

it('retry sends a failed message again, discard drops it, and the other side never sees it', async () => {
  const room = uniqueRoom();
  const alice = await joined(room, 'alice');
  const bob = await joined(room, 'bob');
  let key = '';
  await act(async () => {
    key = await alice.result.current.room.send('x'.repeat(4001));
  });
  const failed = () => alice.result.current.room.messages.find((m) => m.key === key);
  // Refused by the client at once, in its own (terse) words.
  expect(failed()).toMatchObject({
    status: 'failed',
    error: { code: 'too_large', message: 'too_large at /message/content' },
  });
  act(() => alice.result.current.room.retry(key));
  // Retried: this time the server refuses it, in its words.
  await waitFor(() => expect(failed()?.error?.message).toMatch(/4000/), WAIT);
  expect(failed()).toMatchObject({ status: 'failed', error: { code: 'too_large' } });

  act(() => alice.result.current.room.discard(key));
  await waitFor(() => expect(failed()).toBeUndefined(), WAIT);
  await act(async () => {
    await alice.result.current.room.send('after the discard');
  });
  await waitFor(
    () => expect(bob.result.current.room.messages.map((m) => m.content)).toEqual(['after the discard']),
    WAIT,
  );
  expect(alice.result.current.room.messages.map((m) => m.content)).toEqual(['after the discard']);
});

it('loadOlder brings the page before the oldest message shown', async () => {
  const room = uniqueRoom();
  const alice = await joined(room, 'alice');
  const texts = Array.from({ length: 60 }, (_, i) => `m${i + 1}`);
  await act(async () => {
    for (const t of texts) await alice.result.current.room.send(t);
  });
  await waitFor(() => expect(alice.result.current.room.messages.every((m) => m.status === 'sent')).toBe(true), WAIT);

  const bob = await joined(room, 'bob');
  expect(bob.result.current.room.messages.map((m) => m.content)).toEqual(texts.slice(10)); // the latest page
  expect(bob.result.current.room.hasMore).toBe(true);
  act(() => bob.result.current.room.loadOlder());
  await waitFor(() => expect(bob.result.current.room.messages.map((m) => m.content)).toEqual(texts), WAIT);
  expect(bob.result.current.room.hasMore).toBe(false);
  expect(bob.result.current.room.loadingOlder).toBe(false);
});

it('markRead turns the sender’s message into read by the reader', async () => {
  const room = uniqueRoom();
  const alice = await joined(room, 'alice');
  const bob = await joined(room, 'bob');
  await act(async () => {
    await alice.result.current.room.send('read me');
  });
  await waitFor(() => expect(bob.result.current.room.messages).toHaveLength(1), WAIT);
  // Received: delivered, not read.
  await waitFor(
    () => expect(alice.result.current.room.messages[0]).toMatchObject({ status: 'delivered', readBy: [] }),
    WAIT,
  );
  act(() => bob.result.current.room.markRead(bob.result.current.room.messages[0].seq!));
  await waitFor(
    () => expect(alice.result.current.room.messages[0]).toMatchObject({ status: 'read', readBy: ['bob'] }),
    WAIT,
  );
});
