// @vitest-environment jsdom
// What React sees, against the in-process fake server on a fake clock: a
// memoised message row renders once however often typing and presence
// change, and the provider's answer to changed props (a new client for new
// options, the latest callbacks for new functions).
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { memo, useState, type ReactNode } from 'react';
import { afterEach, beforeEach, expect, it } from 'vitest';

import { MemoryStore, type ParleyClient, type TimelineMessage, type UploadResult } from '../dist/index.js';
import { ParleyProvider, useParleyClient, useRoom, type ParleyProviderProps } from '../dist/react/index.js';
import { FakeClock } from './support/fake-clock';
import { fakeToken, FakeServer } from './support/fake-server';
import { wasmBinary } from './support/wasm';

let clock: FakeClock;
let server: FakeServer;
const storage = new MemoryStore();

beforeEach(() => {
  clock = new FakeClock();
  server = new FakeServer(clock);
});

afterEach(() => cleanup());

function Provider(props: Partial<ParleyProviderProps> & { children: ReactNode }) {
  return (
    <ParleyProvider
      url="ws://parley.test/ws"
      getToken={() => fakeToken(clock, 'alice')}
      wasmBinary={wasmBinary}
      WebSocket={server.WebSocket}
      storage={storage}
      clock={clock}
      {...props}
    />
  );
}

const renders = new Map<string, number>();

const Row = memo(function Row({ message }: { message: TimelineMessage }) {
  renders.set(message.content, (renders.get(message.content) ?? 0) + 1);
  return (
    <li>
      {message.senderName}: {message.content}
    </li>
  );
});

function Room() {
  const { messages, typing, members } = useRoom('lobby');
  return (
    <div>
      <p data-testid="typing">{typing.map((u) => u.name).join(', ')}</p>
      <p data-testid="members">{members.map((m) => `${m.userId} ${m.status}`).join(', ')}</p>
      <ul>
        {messages.map((m) => (
          <Row key={m.key} message={m} />
        ))}
      </ul>
    </div>
  );
}

it('a memoised message row renders once, whatever typing and presence do', async () => {
  renders.clear();
  server.seed('lobby', 'bob', 3);
  render(
    <Provider>
      <Room />
    </Provider>,
  );
  await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(3));
  await act(() => clock.settle()); // the delivered receipt for what the join brought
  expect(Object.fromEntries(renders)).toEqual({ m1: 1, m2: 1, m3: 1 });

  await act(async () => {
    server.typing('lobby', 'bob', true);
    await clock.settle();
  });
  expect(screen.getByTestId('typing').textContent).toBe('bob');
  await act(async () => {
    server.presence('lobby', { userId: 'bob', name: 'bob', status: 'away' });
    await clock.settle();
  });
  expect(screen.getByTestId('members').textContent).toContain('bob away');
  await act(async () => {
    server.typing('lobby', 'bob', false);
    await clock.settle();
  });
  expect(screen.getByTestId('typing').textContent).toBe('');
  expect(Object.fromEntries(renders)).toEqual({ m1: 1, m2: 1, m3: 1 });

  // A new message renders its own row, and only that.
  await act(async () => {
    server.post('lobby', 'bob', 'news');
    await clock.settle();
  });
  expect(screen.getAllByRole('listitem')).toHaveLength(4);
  expect(Object.fromEntries(renders)).toEqual({ m1: 1, m2: 1, m3: 1, news: 1 });
});

let seenClient: ParleyClient | null = null;
function ClientProbe() {
  seenClient = useParleyClient();
  return null;
}

it('keeps its client when getToken or onMessage change, and calls the latest ones', async () => {
  const calls: string[] = [];
  const app = (tag: string) => (
    <Provider
      getToken={() => {
        calls.push(`token ${tag}`);
        return fakeToken(clock, 'alice', 'alice', 2_000); // refreshed after 1 s
      }}
      onMessage={(m) => calls.push(`${tag} ${m.content}`)}
      reconnect={{ baseMs: 100, capMs: 1_000 }}
    >
      <ClientProbe />
      <Room />
    </Provider>
  );
  const { rerender } = render(app('first'));
  const first = seenClient;
  await waitFor(() => expect(server.framesOf('join')).toHaveLength(1));
  rerender(app('second')); // new functions, a new but equal reconnect object
  // (Compared by identity without printing: a client holds the whole WebAssembly memory.)
  expect(seenClient === first, 'the same client').toBe(true);
  await act(async () => {
    server.post('lobby', 'bob', 'hello');
    await clock.advance(1_000);
  });
  expect(calls).toEqual(['token first', 'second hello', 'token second']);
  expect(server.opened).toBe(1);
});

it('replaces its client when another option changes: the old one is disposed, the new one connects', async () => {
  const other = new FakeServer(clock);
  // Sockets go to the server their URL names.
  const servers: Record<string, FakeServer> = { 'ws://one.test/ws': server, 'ws://two.test/ws': other };
  const Routed = function (url: string, protocols?: string | string[]) {
    return new servers[url].WebSocket(url, protocols);
  } as unknown as typeof WebSocket;
  function App() {
    const [url, setUrl] = useState('ws://one.test/ws');
    return (
      <Provider url={url} WebSocket={Routed}>
        <ClientProbe />
        <button onClick={() => setUrl('ws://two.test/ws')}>move</button>
        <Room />
      </Provider>
    );
  }
  render(<App />);
  await waitFor(() => expect(server.framesOf('join')).toHaveLength(1));
  const first = seenClient!;
  expect(server.connections.size).toBe(1);
  act(() => screen.getByText('move').click());
  expect(seenClient !== first, 'a new client').toBe(true);
  await waitFor(() => expect(server.connections.size).toBe(0)); // the old client closed its socket
  await waitFor(() => expect(other.framesOf('join')).toHaveLength(1));
  expect(seenClient!.getConnection().state).toBe('connected');
  expect(other.opened).toBe(1);
});

function Kitchen() {
  const { messages, send, edit, deleteMessage, react, sendAttachment } = useRoom('kitchen');
  const mine = messages.find((m) => m.mine && m.type === 'text');
  return (
    <div>
      <ul>
        {messages.map((m) => (
          <li key={m.key}>
            {m.deleted ? '(deleted)' : m.content}
            {m.edited && ' (edited)'}
            {m.reactions.map((r) => ` ${r.emoji}${r.count}`)}
            {m.quote && ` > ${m.quote.excerpt}`}
            {m.held && ' (uploading)'}
            {m.metadata?.url && ` [${m.metadata.url}]`}
          </li>
        ))}
      </ul>
      <button onClick={() => void send('soup?')}>send</button>
      <button onClick={() => void send({ content: 'yes', replyTo: mine!.key })}>reply</button>
      <button onClick={() => void edit(mine!.key, 'soup!')}>edit</button>
      <button onClick={() => void react(mine!.key, '🍲')}>react</button>
      <button onClick={() => void deleteMessage(mine!.key)}>delete</button>
      <button onClick={() => void sendAttachment(new File(['x'], 'menu.pdf', { type: 'application/pdf' }))}>
        attach
      </button>
    </div>
  );
}

it('useRoom edits, deletes, reacts, replies and sends attachments', async () => {
  let finish: (r: UploadResult) => void = () => {};
  render(
    <Provider upload={() => new Promise((done) => (finish = done))}>
      <Kitchen />
    </Provider>,
  );
  await waitFor(() => expect(server.framesOf('join')).toHaveLength(1));
  const click = (name: string) =>
    act(async () => {
      screen.getByText(name).click();
      await clock.settle();
    });
  const rows = () => screen.getAllByRole('listitem').map((li) => li.textContent);
  await click('send');
  await click('edit');
  await click('react');
  expect(rows()).toEqual(['soup! (edited) 🍲1']);
  await click('reply');
  expect(rows()).toEqual(['soup! (edited) 🍲1', 'yes > soup!']);
  await click('attach');
  expect(rows()[2]).toMatch(/^ \(uploading\) \[blob:/); // a caption-less file, its preview for now
  await act(async () => {
    finish({ url: '/uploads/menu.pdf' });
    await clock.settle();
  });
  expect(rows()[2]).toBe(' [/uploads/menu.pdf]');
  await click('delete');
  expect(rows()).toEqual(['(deleted) (edited)', 'yes > ', ' [/uploads/menu.pdf]']);
});
