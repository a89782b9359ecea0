'use client';
import { useState, type FormEvent } from 'react';

import { requestToken, type SignedToken } from '@/lib/session';

export function SignIn({ onSignIn }: { onSignIn: (signed: SignedToken) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = name.trim();
    if (!trimmed) return;
    setBusy(true);
    setError(null);
    try {
      onSignIn(await requestToken(trimmed));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  }

  return (
    <main className="signin">
      <form onSubmit={(e) => void submit(e)} className="signin-card" aria-labelledby="signin-title">
        <div className="signin-brand">
          <span className="logo" aria-hidden="true" />
          <span>Parley</span>
        </div>
        <h1 id="signin-title">Join the conversation</h1>
        <p className="muted">
          Real-time rooms that keep working when the network doesn’t. Pick a name to start chatting.
        </p>
        <label htmlFor="name">Display name</label>
        <input
          id="name"
          name="name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          autoFocus
          autoComplete="nickname"
          maxLength={64}
          placeholder="e.g. Alice"
          required
          aria-describedby={error ? 'signin-error' : undefined}
        />
        {error && (
          <p id="signin-error" role="alert" className="form-error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || name.trim().length === 0}>
          {busy ? 'Joining…' : 'Join chat'}
        </button>
        <p className="fine-print">Your name is your identity in this demo; there is no password.</p>
      </form>
    </main>
  );
}
