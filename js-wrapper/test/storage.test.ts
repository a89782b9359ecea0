// IndexedDbStore on fake-indexeddb (an implementation of the IndexedDB spec
// in memory): blobs and attachment files side by side, loadAll reading the
// blobs only, and an attachment queued offline surviving a reload through it.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterEach, beforeEach, expect, it } from 'vitest';

import { createClient, IndexedDbStore, type ParleyClient, type UploadFunction } from '../dist/index.js';
import { FakeClock } from './support/fake-clock';
import { fakeToken, FakeServer } from './support/fake-server';
import { untilRoom } from './support/until';
import { wasmBinary } from './support/wasm';

const globals = globalThis as unknown as { indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange };
const clients: ParleyClient[] = [];

beforeEach(() => {
  globals.indexedDB = new IDBFactory(); // a fresh, empty IndexedDB for each test
  globals.IDBKeyRange = IDBKeyRange;
});

afterEach(() => {
  for (const c of clients.splice(0)) c.dispose();
  delete globals.indexedDB;
  delete globals.IDBKeyRange;
});

it('keeps attachment files beside the blobs, out of loadAll', async () => {
  const store = new IndexedDbStore('parley:test');
  await store.put('rooms', new Uint8Array([1, 2]));
  await store.put('outbox:ab12', new Uint8Array([3]));
  await store.putFile('c_0123456789', new Blob(['a picture'], { type: 'image/png' }));
  await store.putFile('c_abcdefghij', new Blob(['a report']));
  const all = await store.loadAll();
  expect([...all.keys()].sort()).toEqual(['outbox:ab12', 'rooms']);
  expect([...all.get('rooms')!]).toEqual([1, 2]);

  const file = await store.getFile('c_0123456789');
  expect(file).toBeInstanceOf(Blob);
  expect(file!.type).toBe('image/png');
  expect(await file!.text()).toBe('a picture');
  expect(await store.getFile('c_nothing000')).toBeUndefined();
  await store.deleteFile('c_0123456789');
  expect(await store.getFile('c_0123456789')).toBeUndefined();
  expect(await store.getFile('c_abcdefghij')).toBeInstanceOf(Blob);

  await store.destroy(); // signing out deletes the files too
  const again = new IndexedDbStore('parley:test');
  expect((await again.loadAll()).size).toBe(0);
  expect(await again.getFile('c_abcdefghij')).toBeUndefined();
});

it('an attachment queued offline survives a reload through IndexedDB', async () => {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const uploaded: string[] = [];
  const upload: UploadFunction = async (file) => {
    uploaded.push(await file.text());
    return { url: '/uploads/notes.txt' };
  };
  const open = (upload?: UploadFunction) => {
    const c = createClient({
      url: 'ws://parley.test/ws',
      getToken: () => fakeToken(clock, 'alice'),
      wasmBinary,
      WebSocket: server.WebSocket,
      storage: new IndexedDbStore('parley:alice'), // a new page opens the database anew
      clock,
      upload,
    });
    clients.push(c);
    c.connect();
    return c;
  };
  const before = open();
  before.join('lobby');
  await untilRoom(before, 'lobby', (r) => r.joined, 'joined');
  server.stop();
  await clock.settle();
  const key = await before.sendAttachment(
    'lobby',
    new File(['remember the milk'], 'notes.txt', { type: 'text/plain' }),
  );
  await clock.settle();
  before.dispose();

  server.start();
  const after = open(upload);
  await untilRoom(after, 'lobby', (r) => r.messages.some((m) => m.key === key && !m.held), 'the upload released it');
  await clock.settle();
  expect(uploaded).toEqual(['remember the milk']);
  expect(server.framesOf('send').map((f) => f.message)).toEqual([
    {
      type: 'file',
      content: '',
      metadata: { fileName: 'notes.txt', fileSize: 17, mimeType: 'text/plain', url: '/uploads/notes.txt' },
    },
  ]);
  expect(await new IndexedDbStore('parley:alice').getFile(key)).toBeUndefined();
});
