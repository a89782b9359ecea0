'use client';
// The chat demo: sign in with a display name, then rooms, direct messages
// and members. Everything real-time goes through @parley/realtime's public
// API (the provider and its hooks).
import { useCallback, useEffect, useRef, useState } from 'react';
import { ParleyProvider } from '@parley/realtime/react';

import { SignIn } from '@/components/sign-in';
import { Workspace } from '@/components/workspace';
import { loadSession, requestToken, saveSession, type Session, type SignedToken } from '@/lib/session';
import { uploaderFor } from '@/lib/upload-client';

/** parleyd's address: PARLEY_URL from the server, else port 8787 of this host. */
function resolveServerUrl(serverUrl: string | null): string {
  if (serverUrl) return serverUrl;
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.hostname}:8787/ws`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function Chat({ serverUrl }: { serverUrl: string | null }) {
  // undefined until the saved session has been read (after hydration).
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  // The token fetched at sign-in serves the first connection.
  const firstToken = useRef<SignedToken | null>(null);

  useEffect(() => {
    setSession(loadSession());
    // Signing out (or in) in another tab applies here too.
    const onStorage = (e: StorageEvent) => {
      if (e.key === null || e.key === 'parley-demo:session') setSession(loadSession());
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  const signIn = useCallback((signed: SignedToken) => {
    firstToken.current = signed;
    const s = { name: signed.user.name, userId: signed.user.id };
    saveSession(s);
    setSession(s);
  }, []);

  const signOut = useCallback(() => {
    firstToken.current = null;
    saveSession(null);
    setSession(null);
    history.replaceState(null, '', window.location.pathname + window.location.search);
  }, []);

  if (session === undefined) {
    return (
      <div className="splash" aria-busy="true">
        <span className="logo" aria-hidden="true" />
        <span className="sr-only">Loading…</span>
      </div>
    );
  }
  if (!session) return <SignIn onSignIn={signIn} />;

  const url = resolveServerUrl(serverUrl);
  const name = session.name;
  const getToken = async () => {
    const first = firstToken.current;
    firstToken.current = null;
    if (first && first.user.id === session.userId) return first.token;
    return (await requestToken(name)).token;
  };

  return (
    <ParleyProvider
      // A new user or server gets a client of its own (and its own saved queue).
      key={`${session.userId}|${url}`}
      url={url}
      getToken={getToken}
      upload={uploaderFor(name)}
      storageKey={`${session.userId}@${hostOf(url)}`}
    >
      <Workspace session={session} onSignOut={signOut} />
    </ParleyProvider>
  );
}
