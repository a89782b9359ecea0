// @vitest-environment jsdom
// The React hooks against a real parleyd, in Strict Mode.
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { StrictMode } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, beforeEach, expect, it } from 'vitest';
import WebSocket from 'ws';

import { MemoryStore } from '../dist/index.js';
import { ParleyProvider, useConnection, useRoom } from '../dist/react/index.js';
import { metric, Parleyd, tokenFor } from './support/parleyd';
import { wasmBinary } from './support/wasm';

let server: Parleyd;
let sockets = 0;

class CountingWebSocket extends WebSocket {
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    sockets++;
  }
}

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

function App({ user }: { user: string }) {
  return (
    <ParleyProvider
      url={server.url}
      getToken={() => tokenFor(user)}
      wasmBinary={wasmBinary}
      WebSocket={CountingWebSocket as unknown as typeof globalThis.WebSocket}
      storage={new MemoryStore()}
    >
      <Lobby />
    </ParleyProvider>
  );
}

beforeEach(async () => {
  sockets = 0;
  server = new Parleyd();
  await server.start();
});

afterEach(async () => {
  cleanup();
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
});

it('renders on the server without loading the WebAssembly core or opening a socket', () => {
  const html = renderToString(<App user="alice" />);
  expect(html).toContain('idle');
  expect(html).toContain('not joined');
  expect(sockets).toBe(0);
});
