'use client';
// How the connection is doing: a pill in the sidebar (a live region: it
// announces changes) and a banner over the room while it is not connected.
import { useRef, useState, type ReactNode } from 'react';
import { useConnection, type UseConnection } from '@parley/realtime/react';

import { useNow } from '@/lib/hooks';

function useEverConnected(state: UseConnection['state']): boolean {
  const ever = useRef(false);
  if (state === 'connected') ever.current = true;
  return ever.current;
}

const PILL: Record<UseConnection['state'], string> = {
  idle: 'Starting…',
  connecting: 'Connecting…',
  authenticating: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  closed: 'Disconnected',
  failed: 'Unavailable',
};

export function ConnectionPill() {
  const { state, attempt } = useConnection();
  const ever = useEverConnected(state);
  const text =
    (state === 'connecting' || state === 'authenticating') && (ever || attempt > 0) ? 'Reconnecting…' : PILL[state];
  return (
    <p className={`conn conn-${state}`} role="status" aria-label="Connection status">
      <span className="conn-dot" aria-hidden="true" />
      {text}
    </p>
  );
}

export function ConnectionBanner() {
  const { state, nextAttemptAt, reconnectNow, attempt, announcement, lastError } = useConnection();
  const ever = useEverConnected(state);
  const now = useNow(state === 'reconnecting' ? 250 : null);

  let body: ReactNode = null;
  let tone = 'warn';
  if (state === 'offline') {
    tone = 'offline';
    body = <span className="banner-text">Offline — messages will be sent when you are back</span>;
  } else if (state === 'reconnecting') {
    const seconds = nextAttemptAt === null ? 0 : Math.max(0, Math.ceil((nextAttemptAt - now) / 1000));
    body = (
      <>
        <span className="spinner" aria-hidden="true" />
        <span className="banner-text">
          {seconds > 0 ? (
            <>
              Connection lost. Reconnecting in <span className="countdown">{seconds} s</span>…
            </>
          ) : (
            'Connection lost. Reconnecting…'
          )}
        </span>
        <button type="button" className="banner-action" onClick={reconnectNow}>
          Retry now
        </button>
      </>
    );
  } else if ((state === 'connecting' || state === 'authenticating') && (ever || attempt > 0)) {
    body = (
      <>
        <span className="spinner" aria-hidden="true" />
        <span className="banner-text">Connection lost. Reconnecting…</span>
      </>
    );
  } else if (state === 'closed' && ever) {
    body = <span className="banner-text">Disconnected</span>;
  } else if (state === 'failed') {
    // The client could not start (its WebAssembly did not load): nothing will
    // connect until it does, so say so rather than spin.
    tone = 'error';
    body = (
      <>
        <span className="banner-text" role="alert">
          Chat could not start: this browser could not load the chat client.
          {lastError && <span className="banner-detail">{lastError.message}</span>}
        </span>
        <button type="button" className="banner-action" onClick={reconnectNow}>
          Try again
        </button>
      </>
    );
  }

  return (
    <>
      {announcement && <Announcement text={announcement.text} level={announcement.level} />}
      {body && (
        <section className={`banner banner-${tone}`} aria-label="Connection problem">
          {body}
        </section>
      )}
    </>
  );
}

function Announcement({ text, level }: { text: string; level: 'info' | 'warning' }) {
  const [dismissed, setDismissed] = useState<string | null>(null);
  if (dismissed === text) return null;
  return (
    <section className={`banner banner-${level === 'warning' ? 'warn' : 'info'}`} aria-label="Announcement">
      <span className="banner-text" role={level === 'warning' ? 'alert' : 'status'}>
        {text}
      </span>
      <button type="button" className="banner-action" onClick={() => setDismissed(text)}>
        Dismiss
      </button>
    </section>
  );
}
