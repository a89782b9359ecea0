// Who is signed in, kept in localStorage so a reload (or a new tab) lands
// back in the chat. The token itself is never stored: /api/token signs a
// fresh one whenever the client needs it.
export interface Session {
  /** Display name, as typed at sign-in. */
  name: string;
  /** The user id the token route derived from the name. */
  userId: string;
}

const KEY = 'parley-demo:session';

export function loadSession(): Session | null {
  try {
    const raw = window.localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.name === 'string' && typeof s.userId === 'string' ? { name: s.name, userId: s.userId } : null;
  } catch {
    return null;
  }
}

export function saveSession(session: Session | null): void {
  try {
    if (session) window.localStorage.setItem(KEY, JSON.stringify(session));
    else window.localStorage.removeItem(KEY);
  } catch {
    // Private modes may refuse storage: the session then lasts as long as the page.
  }
}

export interface SignedToken {
  token: string;
  user: { id: string; name: string };
}

/** Asks the demo's token route for a Parley token (a JWT signed with parleyd's secret). */
export async function requestToken(name: string): Promise<SignedToken> {
  let res: Response;
  try {
    res = await fetch('/api/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
  } catch {
    throw new Error('Could not reach the sign-in service. Check your connection and try again.');
  }
  const body = (await res.json().catch(() => ({}))) as Partial<SignedToken> & { error?: string };
  if (!res.ok || !body.token || !body.user) throw new Error(body.error ?? `Sign-in failed (${res.status})`);
  return { token: body.token, user: body.user };
}
