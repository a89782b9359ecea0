'use client';
// The chat demo: sign in with a display name, then the lobby. Everything
// real-time goes through @parley/realtime's public API.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ParleyProvider, useConnection, useRoom } from '@parley/realtime/react';
import type { TimelineMessage } from '@parley/realtime';

interface Session {
  name: string;
}

async function fetchToken(name: string): Promise<string> {
  const res = await fetch('/api/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `token request failed (${res.status})`);
  return body.token as string;
}

export function Chat({ serverUrl }: { serverUrl: string | null }) {
  const [session, setSession] = useState<Session | null>(null);
  if (!session) return <SignIn onSignIn={setSession} />;
  const url = serverUrl ?? `ws://${window.location.hostname}:8787/ws`;
  return (
    <ParleyProvider url={url} getToken={() => fetchToken(session.name)}>
      <ChatRoom roomId="lobby" name={session.name} />
    </ParleyProvider>
  );
}

function SignIn({ onSignIn }: { onSignIn: (s: Session) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await fetchToken(name); // checks the name before entering
      onSignIn({ name: name.trim() });
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <form onSubmit={submit} className="card" aria-label="Sign in">
        <h1>Parley chat</h1>
        <p className="muted">Pick a display name to join the lobby.</p>
        <label htmlFor="name">Display name</label>
        <input id="name" value={name} onChange={(e) => setName(e.target.value)} autoFocus maxLength={64} required />
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit" disabled={busy || name.trim().length === 0}>
          Join chat
        </button>
      </form>
    </main>
  );
}

const STATE_LABEL: Record<string, string> = {
  idle: 'Starting…',
  connecting: 'Connecting…',
  authenticating: 'Connecting…',
  connected: 'Connected',
  backoff: 'Reconnecting…',
  offline: 'Offline',
  closed: 'Disconnected',
};

function ChatRoom({ roomId, name }: { roomId: string; name: string }) {
  const connection = useConnection();
  const { messages, send, joined } = useRoom(roomId);
  const [draft, setDraft] = useState('');
  const listRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    const list = listRef.current;
    if (list) list.scrollTop = list.scrollHeight;
  }, [messages.length]);

  function submit(e: FormEvent) {
    e.preventDefault();
    const content = draft.trim();
    if (!content) return;
    void send(content);
    setDraft('');
  }

  return (
    <main className="chat">
      <header className="topbar">
        <h1>#{roomId}</h1>
        <span className={`pill pill-${connection.state}`} role="status" aria-label="Connection">
          {STATE_LABEL[connection.state]}
        </span>
        <span className="muted">Signed in as {connection.user?.name ?? name}</span>
      </header>
      <ol className="messages" ref={listRef} role="log" aria-label="Messages" aria-live="polite">
        {joined && messages.length === 0 && <li className="empty">No messages yet. Say hello!</li>}
        {messages.map((m) => (
          <MessageRow key={m.key} message={m} />
        ))}
      </ol>
      <form className="composer" onSubmit={submit}>
        <input
          aria-label="Message"
          placeholder={`Message #${roomId}`}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          autoFocus
        />
        <button type="submit" disabled={draft.trim().length === 0}>
          Send
        </button>
      </form>
    </main>
  );
}

function MessageRow({ message: m }: { message: TimelineMessage }) {
  const time = new Date(m.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  return (
    <li className={`message${m.mine ? ' mine' : ''}`} aria-label={`${m.senderName}: ${m.content}`}>
      <div className="meta">
        <span className="sender">{m.senderName}</span>
        <time dateTime={new Date(m.createdAt).toISOString()}>{time}</time>
      </div>
      <p className="content">{m.content}</p>
      {m.mine && <span className={`status status-${m.status}`}>{m.status}</span>}
    </li>
  );
}
