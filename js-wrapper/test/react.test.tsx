// @vitest-environment jsdom
// The provider and useRoom against a real parleyd, in Strict Mode, and in
// server rendering.
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { StrictMode, useState } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import WebSocket from 'ws';

import { MemoryStore } from '../dist/index.js';
import { ParleyProvider, useConnection, useRoom } from '../dist/react/index.js';
import { metric, Parleyd, tokenFor } from './support/parleyd';
import { wasmBinary } from './support/wasm';

let server: Parleyd;
let sockets = 0;
let framesSent: string[] = [];

// Counts the sockets the client opens and records what it sends on them.
class CountingWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    sockets++;
  }
  send(data: string): void {
    framesSent.push(data);
    super.send(data);
  }
}

const framesOf = (type: string, roomId: string) =>
  framesSent
    .map((f) => JSON.parse(f) as { type?: string; roomId?: string })
    .filter((f) => f.type === type && f.roomId === roomId);

function Lobby() {
  const { state } = useConnection();
  const { messages, send, joined } = useRoom('lobby');
  return (
    <div>
      <p data-testid="state">{state}</p>
      <p data-testid="joined">{joined ? 'joined' : 'not joined'}</p>
      <ul>
        {messages.map((m) => (
          <li key={m.key}>
            {m.senderName}: {m.content} ({m.status})
          </li>
        ))}
      </ul>
      <button onClick={() => void send('hi from react')}>send</button>
    </div>
  );
}

function Provider({ user, children }: { user: string; children: React.ReactNode }) {
  // Created once: a new store is a new client (see ParleyProviderProps).
  const [storage] = useState(() => new MemoryStore());
  return (
    <ParleyProvider
      url={server.url}
      getToken={() => tokenFor(user)}
      wasmBinary={wasmBinary}
      WebSocket={CountingWebSocket as unknown as typeof globalThis.WebSocket}
      storage={storage}
    >
      {children}
    </ParleyProvider>
  );
}

function App({ user }: { user: string }) {
  return (
    <Provider user={user}>
      <Lobby />
    </Provider>
  );
}

beforeEach(async () => {
  sockets = 0;
  framesSent = [];
  server = new Parleyd();
  await server.start();
});

afterEach(async () => {
  cleanup();
  vi.restoreAllMocks();
  await server.dispose();
});

it('opens one socket in Strict Mode and renders the room live', async () => {
  render(
    <StrictMode>
      <App user="alice" />
    </StrictMode>,
  );
  await waitFor(() => expect(screen.getByTestId('joined').textContent).toBe('joined'), { timeout: 10_000 });
  expect(screen.getByTestId('state').textContent).toBe('connected');
  await act(async () => screen.getByText('send').click());
  await waitFor(() => expect(screen.getByText('alice: hi from react (sent)')).toBeTruthy(), { timeout: 10_000 });
  expect(sockets).toBe(1);
  expect(metric(await server.metrics(), 'parley_connections_opened_total')).toBe(1);
  expect(framesOf('join', 'lobby')).toHaveLength(1);
  expect(framesOf('leave', 'lobby')).toHaveLength(0);
});

it('listens to the window only for the client it connects, and stops when it is gone', async () => {
  const added = vi.spyOn(window, 'addEventListener');
  const removed = vi.spyOn(window, 'removeEventListener');
  const count = (spy: typeof added, type: string) => spy.mock.calls.filter(([t]) => t === type).length;
  const { unmount } = render(
    <StrictMode>
      <App user="alice" />
    </StrictMode>,
  );
  await waitFor(() => expect(screen.getByTestId('joined').textContent).toBe('joined'), { timeout: 10_000 });
  // Strict Mode creates the client twice (useState's initialiser) and mounts twice.
  expect(count(added, 'online')).toBe(1);
  expect(count(added, 'offline')).toBe(1);
  unmount();
  await waitFor(() => expect(count(removed, 'online')).toBe(1));
  expect(count(removed, 'offline')).toBe(1);
  await waitFor(async () => expect(metric(await server.metrics(), 'parley_connections')).toBe(0));
});

function Toggle({ users }: { users: number }) {
  const [shown, setShown] = useState(users);
  return (
    <div>
      {Array.from({ length: shown }, (_, i) => (
        <Lobby key={i} />
      ))}
      <button onClick={() => setShown((n) => n - 1)}>hide one</button>
    </div>
  );
}

it('leaves a room when the last component using it unmounts (Strict Mode: once)', async () => {
  render(
    <StrictMode>
      <Provider user="alice">
        <Toggle users={2} />
      </Provider>
    </StrictMode>,
  );
  await waitFor(() => expect(screen.getAllByTestId('joined').map((e) => e.textContent)).toEqual(['joined', 'joined']), {
    timeout: 10_000,
  });
  expect(framesOf('join', 'lobby')).toHaveLength(1);
  await act(async () => screen.getByText('hide one').click());
  await waitFor(() => expect(screen.getAllByTestId('joined')).toHaveLength(1));
  // The release decides in a zero-delay timer set at unmount; a timer set
  // now fires after it (timers of equal delay run in order), by when a leave
  // would have been sent (the core is loaded: it sends synchronously).
  await act(() => new Promise((resolve) => setTimeout(resolve, 0)));
  // Still used by the other one: still joined, no leave sent.
  await act(async () => screen.getByText('send').click());
  await waitFor(() => expect(screen.getByText('alice: hi from react (sent)')).toBeTruthy(), { timeout: 10_000 });
  expect(screen.getByTestId('joined').textContent).toBe('joined');
  expect(framesOf('leave', 'lobby')).toHaveLength(0);
  await act(async () => screen.getByText('hide one').click());
  await waitFor(() => expect(framesOf('leave', 'lobby')).toHaveLength(1));
  expect(framesOf('join', 'lobby')).toHaveLength(1);
});

it('renders on the server without loading the WebAssembly core or opening a socket', () => {
  const instantiate = vi.spyOn(WebAssembly, 'instantiate');
  const streaming = vi.spyOn(WebAssembly, 'instantiateStreaming');
  const fetching = vi.spyOn(globalThis, 'fetch');
  const html = renderToString(<App user="alice" />);
  expect(html).toContain('idle');
  expect(html).toContain('not joined');
  expect(instantiate).not.toHaveBeenCalled();
  expect(streaming).not.toHaveBeenCalled();
  expect(fetching).not.toHaveBeenCalled();
  expect(sockets).toBe(0);
});
