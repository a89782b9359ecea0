// Edits, deletes, reactions, replies and attachments through the wrapper,
// with the real WebAssembly core, against the in-process fake server on a
// fake clock: optimistic changes and their undoing, local refusals, replies'
// quotes, and attachments held until their upload, across a reload.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  createClient,
  MemoryStore,
  ParleyClientError,
  type ClientOptions,
  type ParleyClient,
  type TimelineMessage,
  type UploadFunction,
  type UploadResult,
} from '../dist/index.js';
import { FakeClock } from './support/fake-clock';
import { fakeToken, FakeServer } from './support/fake-server';
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
    reconnect: { baseMs: 20, capMs: 40 },
    ...more,
  });
  clients.push(c);
  return c;
}

/** Connected and joined to lobby. */
async function inLobby(c: ParleyClient): Promise<ParleyClient> {
  c.connect();
  c.join('lobby');
  await untilRoom(c, 'lobby', (r) => r.joined, 'lobby joined');
  await clock.settle();
  return c;
}

const lines = (c: ParleyClient) => c.getRoom('lobby').messages;
const line = (c: ParleyClient, key: string): TimelineMessage => {
  const m = lines(c).find((x) => x.key === key);
  if (!m) throw new Error(`no line ${key} in ${JSON.stringify(lines(c))}`);
  return m;
};
/** The line of the server's message `id` (its key is its clientMsgId). */
const lineOf = (c: ParleyClient, id: string) => lines(c).find((m) => m.id === id)!;

async function rejects(p: Promise<unknown>): Promise<ParleyClientError> {
  const error: unknown = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ParleyClientError);
  return error as ParleyClientError;
}

beforeEach(() => {
  clock = new FakeClock();
  server = new FakeServer(clock);
});

afterEach(() => {
  for (const c of clients.splice(0)) c.dispose();
});

describe('edits, deletes and reactions', () => {
  it('show at once, go as changes, and every member sees them', async () => {
    const alice = await inLobby(client('alice'));
    const bob = await inLobby(client('bob'));
    const key = await alice.send('lobby', 'helo');
    await clock.settle();
    expect(line(alice, key)).toMatchObject({ status: 'sent', id: 'm_1', edited: false, changePending: false });

    const editing = alice.edit('lobby', key, 'hello');
    await editing;
    expect(line(alice, key)).toMatchObject({ content: 'hello', edited: true, changePending: true });
    await clock.settle();
    expect(line(alice, key)).toMatchObject({ content: 'hello', edited: true, changePending: false });
    expect(server.stored('lobby', 'm_1')?.content).toBe('hello');
    expect(lineOf(bob, 'm_1')).toMatchObject({ content: 'hello', edited: true });
    expect(lines(bob)).toHaveLength(1); // a change is not a line

    await bob.react('lobby', lineOf(bob, 'm_1').key, '👍');
    await alice.react('lobby', key, '👍');
    await clock.settle();
    expect(line(alice, key).reactions).toEqual([{ emoji: '👍', count: 2, userIds: ['bob', 'alice'], mine: true }]);
    expect(lineOf(bob, 'm_1').reactions).toEqual([{ emoji: '👍', count: 2, userIds: ['bob', 'alice'], mine: true }]);
    await alice.react('lobby', key, '👍'); // a toggle: taken back
    await clock.settle();
    expect(line(alice, key).reactions).toEqual([{ emoji: '👍', count: 1, userIds: ['bob'], mine: false }]);
    expect(lineOf(bob, 'm_1').reactions).toEqual([{ emoji: '👍', count: 1, userIds: ['bob'], mine: true }]);

    await alice.deleteMessage('lobby', key);
    await clock.settle();
    expect(line(alice, key)).toMatchObject({ deleted: true, content: '', reactions: [] });
    expect(lineOf(bob, 'm_1')).toMatchObject({ deleted: true, content: '' });
    const alicesSends = server.allConnections[0].received.flatMap((f) => (f.type === 'send' ? [f.message.type] : []));
    expect(alicesSends).toEqual(['text', 'edit', 'react', 'unreact', 'delete']);
  });

  it('a refused change is undone and the message says which and why', async () => {
    const alice = await inLobby(client('alice'));
    const posted = server.post('lobby', 'bob', 'not yours');
    await clock.settle();
    await alice.deleteMessage('lobby', posted.clientMsgId); // the server decides who may delete
    expect(line(alice, posted.clientMsgId).deleted).toBe(true);
    await clock.settle();
    expect(line(alice, posted.clientMsgId)).toMatchObject({
      deleted: false,
      content: 'not yours',
      changePending: false,
      status: 'sent',
      error: { code: 'forbidden', change: 'delete', path: '/message/target' },
    });
  });

  it('a change the server does not answer is undone after changeTimeoutMs', async () => {
    const alice = await inLobby(client('alice', { changeTimeoutMs: 5_000 }));
    const key = await alice.send('lobby', 'helo');
    await clock.settle();
    server.refuse = (send) => (send.message.type === 'edit' ? 'ignore' : undefined);
    await alice.edit('lobby', key, 'hello');
    await clock.advance(4_999);
    expect(line(alice, key)).toMatchObject({ content: 'hello', changePending: true });
    await clock.advance(1);
    expect(line(alice, key)).toMatchObject({
      content: 'helo',
      edited: false,
      changePending: false,
      error: { code: 'timeout', change: 'edit' },
    });
  });

  it('what cannot be changed is refused at once, with the reason', async () => {
    const alice = await inLobby(client('alice'));
    const posted = server.post('lobby', 'bob', 'hi');
    await clock.settle();
    expect((await rejects(alice.edit('lobby', posted.clientMsgId, 'mine'))).error.code).toBe('forbidden');
    expect((await rejects(alice.react('lobby', posted.clientMsgId, 'lol'))).error.code).toBe('bad_request');
    expect((await rejects(alice.deleteMessage('lobby', 'c_nosuchkey'))).error.code).toBe('not_found');
    expect(() => createClient({ url: 'ws://x', getToken: () => 't', changeTimeoutMs: 0 })).toThrow(
      'changeTimeoutMs must be an integer of at least 1, not 0',
    );
  });

  it('changes made offline stay shown, and go after the reconnect', async () => {
    const alice = await inLobby(client('alice'));
    const key = await alice.send('lobby', 'helo');
    const posted = server.post('lobby', 'bob', 'hi');
    await clock.settle();
    server.stop();
    await clock.settle();
    await alice.edit('lobby', key, 'hello');
    await alice.react('lobby', posted.clientMsgId, '🎉');
    await clock.advance(30_000); // no timeout while nothing could be sent
    expect(line(alice, key)).toMatchObject({ content: 'hello', changePending: true });
    expect(line(alice, posted.clientMsgId).reactions).toEqual([
      { emoji: '🎉', count: 1, userIds: ['alice'], mine: true },
    ]);
    server.start();
    await clock.advance(100);
    expect(alice.getConnection().state).toBe('connected');
    expect(line(alice, key)).toMatchObject({ content: 'hello', changePending: false });
    expect(server.stored('lobby', posted.id)?.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: ['alice'] }]);
  });
});

describe('replies', () => {
  it('name their original by key and quote it as it is now', async () => {
    const alice = await inLobby(client('alice'));
    const original = server.post('lobby', 'bob', 'lunch?');
    await clock.settle();
    const key = await alice.send('lobby', { content: 'yes!', replyTo: original.clientMsgId });
    await clock.settle();
    expect(server.framesOf('send')[0].message.replyTo).toBe(original.id);
    expect(line(alice, key)).toMatchObject({
      replyTo: original.id,
      quote: { senderId: 'bob', senderName: 'bob', excerpt: 'lunch?', deleted: false },
    });
    server.change('lobby', 'bob', 'edit', original.id, 'lunch at 1?');
    await clock.settle();
    expect(line(alice, key).quote).toMatchObject({ excerpt: 'lunch at 1?', deleted: false });
    server.change('lobby', 'bob', 'delete', original.id);
    await clock.settle();
    expect(line(alice, key).quote).toEqual({ senderId: 'bob', senderName: 'bob', excerpt: '', deleted: true });
  });
});

/** An upload function whose uploads the test finishes (or fails) itself. */
function uploads() {
  const calls: {
    file: Blob;
    key: string;
    signal: AbortSignal;
    done: (r: UploadResult) => void;
    fail: (e: Error) => void;
  }[] = [];
  const upload: UploadFunction = (file, info) =>
    new Promise((done, fail) => calls.push({ file, key: info.key, signal: info.signal, done, fail }));
  return { upload, calls };
}

const cat = () => new File([new Uint8Array([137, 80, 78, 71, 1, 2, 3])], 'cat.png', { type: 'image/png' });

describe('attachments', () => {
  it('show at once, wait for their upload, then go in their place', async () => {
    const { upload, calls } = uploads();
    const alice = await inLobby(client('alice', { upload }));
    const key = await alice.sendAttachment('lobby', cat(), { caption: 'look', width: 640, height: 480 });
    const after = await alice.send('lobby', 'isn’t it cute');
    await clock.settle();
    const shown = line(alice, key);
    expect(shown).toMatchObject({
      type: 'image',
      content: 'look',
      held: true,
      status: 'queued',
      metadata: { fileName: 'cat.png', fileSize: 7, mimeType: 'image/png', width: 640, height: 480 },
    });
    expect(shown.metadata?.url).toMatch(/^blob:/);
    expect(line(alice, after).status).toBe('queued');
    expect(server.framesOf('send')).toHaveLength(0); // the later message waits behind it
    expect(calls).toHaveLength(1);
    expect(calls[0].key).toBe(key);
    expect(new Uint8Array(await calls[0].file.arrayBuffer())).toEqual(new Uint8Array([137, 80, 78, 71, 1, 2, 3]));

    calls[0].done({ url: '/uploads/cat.png', thumbnailUrl: '/uploads/cat-small.png' });
    await clock.settle();
    const sends = server.framesOf('send');
    expect(sends.map((f) => f.clientMsgId)).toEqual([key, after]);
    expect(sends[0].message).toEqual({
      type: 'image',
      content: 'look',
      metadata: {
        fileName: 'cat.png',
        fileSize: 7,
        mimeType: 'image/png',
        thumbnailUrl: '/uploads/cat-small.png',
        url: '/uploads/cat.png',
        width: 640,
        height: 480,
      },
    });
    expect(line(alice, key)).toMatchObject({ held: false, status: 'sent', metadata: { url: '/uploads/cat.png' } });
  });

  it('a failed upload shows the message failed, and retry uploads again', async () => {
    const { upload, calls } = uploads();
    const alice = await inLobby(client('alice', { upload }));
    const file = new File(['%PDF-1.7'], 'report.pdf', { type: 'application/pdf' });
    const key = await alice.sendAttachment('lobby', file);
    await clock.settle();
    expect(line(alice, key)).toMatchObject({ type: 'file', metadata: { fileName: 'report.pdf', fileSize: 8 } });
    expect(line(alice, key).metadata).not.toHaveProperty('width');
    calls[0].fail(new Error('HTTP 503'));
    await clock.settle();
    expect(line(alice, key)).toMatchObject({ status: 'failed', error: { code: 'upload_failed', message: 'HTTP 503' } });
    alice.retry('lobby', key);
    await clock.settle();
    expect(line(alice, key)).toMatchObject({ status: 'queued', held: true });
    expect(calls).toHaveLength(2);
    calls[1].done({ url: 'https://files.example/report.pdf' });
    await clock.settle();
    expect(line(alice, key)).toMatchObject({ status: 'sent', metadata: { url: 'https://files.example/report.pdf' } });
  });

  it('an attachment sent offline survives a reload and is uploaded after it, in its place', async () => {
    const storage = new MemoryStore();
    const first = uploads();
    const before = await inLobby(client('alice', { storage, upload: first.upload }));
    server.stop();
    await clock.settle();
    const key = await before.sendAttachment('lobby', cat(), { width: 640, height: 480 });
    const after = await before.send('lobby', 'and some text');
    await clock.settle();
    expect(first.calls).toHaveLength(0); // not while offline
    const oldPreview = line(before, key).metadata?.url;
    before.dispose(); // the page reloads

    server.start();
    const second = uploads();
    const alice = client('alice', { storage, upload: second.upload });
    alice.connect();
    const shown = await untilRoom(
      alice,
      'lobby',
      (r) =>
        r.messages.some((m) => m.key === key && m.metadata?.url?.startsWith('blob:') && m.metadata.url !== oldPreview),
      'the held message with a new preview',
    );
    expect(shown.messages.map((m) => m.key)).toEqual([key, after]);
    expect(shown.messages[0]).toMatchObject({ held: true, metadata: { width: 640, height: 480, fileName: 'cat.png' } });
    await untilConnection(alice, (v) => v.state === 'connected', 'connected');
    await clock.settle();
    expect(second.calls).toHaveLength(1);
    expect(new Uint8Array(await second.calls[0].file.arrayBuffer())).toEqual(
      new Uint8Array([137, 80, 78, 71, 1, 2, 3]),
    );
    second.calls[0].done({ url: '/uploads/cat.png' });
    await clock.settle();
    expect(server.framesOf('send').map((f) => f.clientMsgId)).toEqual([key, after]);
    expect(await storage.getFile(key)).toBeUndefined(); // the file goes once it is uploaded
  });

  it('deleting a held attachment stops its upload and drops its file', async () => {
    const storage = new MemoryStore();
    const { upload, calls } = uploads();
    const alice = await inLobby(client('alice', { storage, upload }));
    const key = await alice.sendAttachment('lobby', cat(), { width: 1, height: 1 });
    await clock.settle();
    expect(await storage.getFile(key)).toBeInstanceOf(Blob);
    await alice.deleteMessage('lobby', key);
    await clock.settle();
    expect(calls[0].signal.aborted).toBe(true);
    expect(lines(alice)).toHaveLength(0);
    expect(await storage.getFile(key)).toBeUndefined();
    calls[0].done({ url: '/uploads/late.png' }); // too late: nothing is sent
    await clock.settle();
    expect(server.framesOf('send')).toHaveLength(0);
  });

  it('an upload that gives a URL parleyd would refuse fails before anything is sent', async () => {
    const { upload, calls } = uploads();
    const alice = await inLobby(client('alice', { upload }));
    const key = await alice.sendAttachment('lobby', cat(), { width: 2, height: 2 });
    await clock.settle();
    calls[0].done({ url: 'http://files.example/cat.png' });
    await clock.settle();
    expect(line(alice, key)).toMatchObject({ status: 'failed', held: true, error: { code: 'upload_failed' } });
    expect(line(alice, key).error?.message).toContain('not an https: URL');
    expect(server.framesOf('send')).toHaveLength(0);
    alice.retry('lobby', key);
    await clock.settle();
    calls[1].done({ url: '/uploads/cat.png' });
    await clock.settle();
    expect(line(alice, key)).toMatchObject({ status: 'sent', metadata: { url: '/uploads/cat.png' } });
  });

  it('without an upload function the message fails and says so', async () => {
    const alice = await inLobby(client('alice'));
    const key = await alice.sendAttachment('lobby', cat(), { type: 'file' });
    await clock.settle();
    expect(line(alice, key)).toMatchObject({
      type: 'file',
      status: 'failed',
      error: { code: 'upload_failed', message: 'no upload function (ClientOptions.upload)' },
    });
    alice.discard('lobby', key);
    await clock.settle();
    expect(lines(alice)).toHaveLength(0);
  });
});
