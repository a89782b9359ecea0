'use client';
// Writing a message: Enter sends, Shift+Enter breaks the line. Tells the
// room we are typing, counts characters near the limit and explains refusals
// (too long, too fast) right here.
import {
  forwardRef,
  useEffect,
  useImperativeHandle,
  useMemo,
  useRef,
  useState,
  type FormEvent,
  type KeyboardEvent,
} from 'react';
import { useConnection, type UseRoom } from '@parley/realtime/react';

import { codePoints } from '@/lib/format';

export interface ComposerHandle {
  /** Puts text back into the composer (Edit of a failed message). */
  replaceDraft: (text: string) => void;
}

// The counter shows in the last 500 characters before the server's limit.
const COUNTER_SPAN = 500;
const SLOW_DOWN_NOTICE_MS = 4000;

export const Composer = forwardRef<
  ComposerHandle,
  {
    room: UseRoom;
    placeholder: string;
    initialDraft: string;
    onDraftChange: (draft: string) => void;
  }
>(function Composer({ room, placeholder, initialDraft, onDraftChange }, ref) {
  const { send, setTyping, messages } = room;
  const [draft, setDraftState] = useState(initialDraft);
  const [sendError, setSendError] = useState<string | null>(null);
  const input = useRef<HTMLTextAreaElement>(null);

  const setDraft = (text: string) => {
    setDraftState(text);
    onDraftChange(text);
  };

  useImperativeHandle(ref, () => ({
    replaceDraft(text: string) {
      setDraft(text);
      setSendError(null);
      requestAnimationFrame(() => {
        const el = input.current;
        if (!el) return;
        el.focus();
        el.setSelectionRange(el.value.length, el.value.length);
      });
    },
  }));

  // Grow with the text, up to a limit.
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`;
  }, [draft]);

  // The server asked us to slow down: say so while messages wait, and for a
  // little while after the last refusal as long as any still wait (the
  // client sends them by itself); never once nothing waits.
  const rateLimited = useMemo(
    () => messages.some((m) => m.mine && m.status === 'queued' && m.error?.code === 'rate_limited'),
    [messages],
  );
  const [slowDownUntil, setSlowDownUntil] = useState(0);
  useEffect(() => {
    if (rateLimited) setSlowDownUntil(Date.now() + SLOW_DOWN_NOTICE_MS);
  }, [rateLimited, messages]);
  const [, setTick] = useState(0);
  useEffect(() => {
    if (slowDownUntil <= Date.now()) return;
    const t = window.setTimeout(() => setTick((n) => n + 1), slowDownUntil - Date.now() + 20);
    return () => window.clearTimeout(t);
  }, [slowDownUntil]);
  const pendingCount = messages.filter((m) => m.mine && (m.status === 'queued' || m.status === 'sending')).length;
  const showSlowDown = pendingCount > 0 && (rateLimited || slowDownUntil > Date.now());

  // The server's limit from welcome: unknown until the first connection (the
  // server still has the last word: a longer message fails with the reason).
  const maxLength = useConnection().limits?.maxContentLength ?? Infinity;
  const length = codePoints(draft);
  const over = length - maxLength;

  function submit(e?: FormEvent) {
    e?.preventDefault();
    const content = draft.replace(/^\s*\n|\s+$/g, '');
    if (!content.trim()) return;
    setSendError(null);
    send(content).catch((err: unknown) => {
      setSendError(err instanceof Error ? err.message : String(err));
      setDraft(content); // give the text back
    });
    setDraft('');
    setTyping(false);
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  return (
    <form className="composer" onSubmit={submit} aria-label="Send a message">
      {showSlowDown && (
        <p className="composer-note warn" role="alert">
          You’re sending messages too fast. {pendingCount} waiting — {pendingCount === 1 ? 'it goes' : 'they go'} out
          automatically in a moment.
        </p>
      )}
      {sendError && (
        <p className="composer-note error" role="alert">
          Couldn’t queue that message: {sendError}
        </p>
      )}
      <div className={`composer-box${over > 0 ? ' over' : ''}`}>
        <textarea
          ref={input}
          aria-label="Message"
          aria-describedby="composer-help"
          aria-invalid={over > 0 ? true : undefined}
          placeholder={placeholder}
          value={draft}
          rows={1}
          onChange={(e) => {
            setDraft(e.target.value);
            setTyping(e.target.value.trim().length > 0);
          }}
          onKeyDown={onKeyDown}
          onBlur={() => {
            if (!draft.trim()) setTyping(false);
          }}
          autoFocus
        />
        <button type="submit" className="send" disabled={draft.trim().length === 0} aria-label="Send">
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M4 12l16-8-6 16-2.5-6.5L4 12z" />
          </svg>
        </button>
      </div>
      <div className="composer-foot" id="composer-help">
        {over > 0 ? (
          <span className="counter-error" role="alert">
            Too long by {over.toLocaleString('en')} {over === 1 ? 'character' : 'characters'} — messages can be up to{' '}
            {maxLength.toLocaleString('en')}.
          </span>
        ) : (
          <span className="hint">
            <kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line
          </span>
        )}
        {length >= maxLength - COUNTER_SPAN && (
          <span className={`counter${over > 0 ? ' over' : length > maxLength - 100 ? ' near' : ''}`}>
            {length.toLocaleString('en')} / {maxLength.toLocaleString('en')}
          </span>
        )}
      </div>
    </form>
  );
});
