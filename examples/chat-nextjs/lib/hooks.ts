'use client';
// Small browser hooks: a ticking clock, page visibility, the room in the URL.
import { useEffect, useState, useSyncExternalStore } from 'react';

import { isValidRoomId, LOBBY } from './rooms';

/** Date.now(), refreshed every `intervalMs` (not at all when null). */
export function useNow(intervalMs: number | null): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (intervalMs === null) return;
    setNow(Date.now());
    const id = window.setInterval(() => setNow(Date.now()), intervalMs);
    return () => window.clearInterval(id);
  }, [intervalMs]);
  return now;
}

function subscribeVisibility(cb: () => void) {
  document.addEventListener('visibilitychange', cb);
  window.addEventListener('focus', cb);
  return () => {
    document.removeEventListener('visibilitychange', cb);
    window.removeEventListener('focus', cb);
  };
}

/** Whether the tab is in the foreground. */
export function usePageVisible(): boolean {
  return useSyncExternalStore(
    subscribeVisibility,
    () => document.visibilityState === 'visible',
    () => false,
  );
}

export function roomFromHash(): string | null {
  const raw = window.location.hash.replace(/^#/, '');
  if (!raw) return null;
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    return null;
  }
  return isValidRoomId(id) ? id : null;
}

function subscribeHash(cb: () => void) {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
}

/** The open room, kept in the URL's hash (so reloads, links and Back work). */
export function useHashRoom(): [string, (roomId: string) => void] {
  const room = useSyncExternalStore(
    subscribeHash,
    () => roomFromHash() ?? LOBBY,
    () => LOBBY,
  );
  const open = (roomId: string) => {
    if (roomFromHash() !== roomId) window.location.hash = roomId;
  };
  return [room, open];
}
