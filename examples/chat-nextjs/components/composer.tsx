'use client';
// Writing a message: Enter sends, Shift+Enter breaks the line. Tells the
// room we are typing, counts characters near the limit and explains refusals
// (too long, too fast) right here. It also answers a message (a reply, shown
// above the box until sent or cancelled), changes one of ours (Edit: the
// text comes into the box; Escape cancels), and attaches files (the
// paperclip): they show at once and upload when the network allows.
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
import type { TimelineMessage } from '@parley/realtime';

import { codePoints } from '@/lib/format';
import { ACCEPTED_TYPES, checkFile } from '@/lib/upload-client';

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
    /** The message this one answers, or null. */
    replyingTo: TimelineMessage | null;
    onCancelReply: () => void;
    /** A message of ours being changed, or null. */
    editing: TimelineMessage | null;
    onDoneEditing: () => void;
  }
>(function Composer(
  { room, placeholder, initialDraft, onDraftChange, replyingTo, onCancelReply, editing, onDoneEditing },
  ref,
) {
  const { send, setTyping, messages, edit, sendAttachment } = room;
  const fileInput = useRef<HTMLInputElement>(null);
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

  // Editing: the message's text comes into the box; done, the draft comes back.
  const saved = useRef<string | null>(null);
  const editingKey = editing?.key;
  useEffect(() => {
    if (!editingKey || !editing) return;
    saved.current = draft;
    setDraftState(editing.content);
    setSendError(null);
    requestAnimationFrame(() => {
      const el = input.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(el.value.length, el.value.length);
    });
    // Only when another message is picked for editing.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [editingKey]);
  useEffect(() => {
    if (replyingTo) input.current?.focus();
  }, [replyingTo]);
  function stopEditing() {
    setDraftState(saved.current ?? '');
    saved.current = null;
    onDoneEditing();
  }

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
    if (editing) {
      const key = editing.key;
      if (content !== editing.content) {
        edit(key, content).catch((err: unknown) => setSendError(err instanceof Error ? err.message : String(err)));
      }
      stopEditing();
      setTyping(false);
      return;
    }
    const message = replyingTo ? { content, replyTo: replyingTo.key } : content;
    send(message).catch((err: unknown) => {
      setSendError(err instanceof Error ? err.message : String(err));
      setDraft(content); // give the text back
    });
    if (replyingTo) onCancelReply();
    setDraft('');
    setTyping(false);
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
    if (e.key === 'Escape') {
      if (editing) stopEditing();
      else if (replyingTo) onCancelReply();
    }
  }

  function attach(files: FileList | null) {
    if (!files) return;
    setSendError(null);
    for (const file of Array.from(files)) {
      const problem = checkFile(file);
      if (problem) {
        setSendError(`${file.name}: ${problem}`);
        continue;
      }
      sendAttachment(file, replyingTo ? { replyTo: replyingTo.key } : {}).catch((err: unknown) =>
        setSendError(err instanceof Error ? err.message : String(err)),
      );
    }
    if (replyingTo) onCancelReply();
    if (fileInput.current) fileInput.current.value = '';
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
      {(editing || replyingTo) && (
        <div className="composer-context" role="status">
          {editing ? (
            <span>
              <strong>Editing your message</strong> · <kbd>Esc</kbd> to cancel
            </span>
          ) : (
            replyingTo && (
              <span className="replying">
                Replying to <strong>{replyingTo.senderName}</strong>
                <span className="replying-excerpt">{replyingTo.content || replyingTo.metadata?.fileName}</span>
              </span>
            )
          )}
          <button
            type="button"
            className="ghost small"
            aria-label={editing ? 'Cancel editing' : 'Cancel reply'}
            onClick={() => (editing ? stopEditing() : onCancelReply())}
          >
            ✕
          </button>
        </div>
      )}
      <div className={`composer-box${over > 0 ? ' over' : ''}`}>
        <button
          type="button"
          className="ghost icon-button attach"
          aria-label="Attach a file"
          onClick={() => fileInput.current?.click()}
          disabled={editing !== null}
        >
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M20 11.5l-8.2 8.2a5 5 0 01-7.1-7.1l8.5-8.5a3.3 3.3 0 014.7 4.7l-8.5 8.5a1.7 1.7 0 01-2.4-2.4l7.8-7.8" />
          </svg>
        </button>
        <input
          ref={fileInput}
          type="file"
          className="sr-only"
          tabIndex={-1}
          aria-label="File to attach"
          accept={ACCEPTED_TYPES}
          multiple
          onChange={(e) => attach(e.target.files)}
        />
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
        <button
          type="submit"
          className="send"
          disabled={draft.trim().length === 0}
          aria-label={editing ? 'Save edit' : 'Send'}
        >
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
