'use client';
// The timeline: grouped by sender and day, older pages on scroll (keeping the
// scroll position), read receipts while the newest messages are in view, a
// status mark on each of my messages (in words under the newest, and under
// any that waits or failed; every one is described by it for screen
// readers), and long messages folded behind "Show more". Each message has
// its actions (react, reply, edit and delete where allowed), its reactions,
// its attachment, and for a reply the quote of its original, which jumps to
// it (loading older pages until it is there).
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useConnection, type UseRoom } from '@parley/realtime/react';
import type { ParleyError, TimelineMessage } from '@parley/realtime';

import { Attachment } from '@/components/attachment';
import { Avatar } from '@/components/avatar';
import { ReactionPicker, Reactions } from '@/components/reactions';
import type { Me } from '@/components/workspace';
import { changeFailure, clockTime, dayLabel, failureReason, fullTime, statusLabel } from '@/lib/format';
import { useNow, usePageVisible } from '@/lib/hooks';

const NEAR_BOTTOM = 48;
const NEAR_TOP = 80;
const GROUP_GAP_MS = 5 * 60_000;
// Longer than this (characters or lines), a message is folded to a few lines.
const FOLD_CHARS = 600;
const FOLD_LINES = 8;

interface Anchor {
  height: number;
  top: number;
  firstKey: string | undefined;
  sawLoading: boolean;
  at: number;
}

export function MessageList({
  room,
  me,
  title,
  direct,
  refusal,
  onEdit,
  onReply,
  onEditMessage,
}: {
  room: UseRoom;
  me: Me;
  title: string;
  direct: boolean;
  refusal: string | null;
  /** A failed message's text back into the composer. */
  onEdit: (m: TimelineMessage) => void;
  onReply: (m: TimelineMessage) => void;
  /** A sent message of ours to change in the composer. */
  onEditMessage: (m: TimelineMessage) => void;
}) {
  const {
    messages,
    hasMore,
    loadingOlder,
    loadOlder,
    markRead,
    joined,
    retry,
    discard,
    react,
    deleteMessage,
    members,
  } = room;
  const scroller = useRef<HTMLDivElement>(null);
  const atBottomRef = useRef(true);
  const [atBottom, setAtBottom] = useState(true);
  const [unseen, setUnseen] = useState(0);
  const anchor = useRef<Anchor | null>(null);
  const lastKey = useRef<string | undefined>(undefined);
  const visible = usePageVisible();
  const now = useNow(60_000);

  const lastSeq = useMemo(
    () => messages.reduce((max, m) => (m.seq !== undefined && m.seq > max ? m.seq : max), 0),
    [messages],
  );

  const requestOlder = useCallback(() => {
    const el = scroller.current;
    if (!el || !hasMore || loadingOlder) return;
    const a = anchor.current;
    if (a && Date.now() - a.at < 5000) return; // one page at a time
    anchor.current = {
      height: el.scrollHeight,
      top: el.scrollTop,
      firstKey: messages[0]?.key,
      sawLoading: false,
      at: Date.now(),
    };
    loadOlder();
  }, [hasMore, loadingOlder, loadOlder, messages]);

  const onScroll = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
    atBottomRef.current = bottom;
    setAtBottom(bottom);
    if (bottom) setUnseen(0);
    if (el.scrollTop < NEAR_TOP) requestOlder();
  }, [requestOlder]);

  // Keep the view where the reader is: restore the position after an older
  // page was prepended, follow new messages when at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const a = anchor.current;
    if (a) {
      if (loadingOlder) a.sawLoading = true;
      if (messages[0]?.key !== a.firstKey) {
        el.scrollTop = el.scrollHeight - a.height + a.top;
        anchor.current = null;
        lastKey.current = messages.at(-1)?.key;
        return;
      }
      if (a.sawLoading && !loadingOlder) anchor.current = null; // nothing older came
    }
    const last = messages.at(-1);
    const isNew = last !== undefined && last.key !== lastKey.current;
    const first = lastKey.current === undefined;
    lastKey.current = last?.key;
    if (!isNew) return;
    if (first || atBottomRef.current || last.mine) {
      el.scrollTop = el.scrollHeight;
      atBottomRef.current = true;
      setAtBottom(true);
      setUnseen(0);
    } else {
      setUnseen((n) => n + 1);
    }
  }, [messages, loadingOlder]);

  // Stay at the bottom when the view shrinks (the composer grows, a banner shows).
  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (atBottomRef.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // Everything in view has been read: tell the others (the client coalesces).
  useEffect(() => {
    if (visible && atBottom && joined && lastSeq > 0) markRead(lastSeq);
  }, [visible, atBottom, joined, lastSeq, markRead]);

  // Owners and admins may delete anyone's messages.
  const myRole = members.find((m) => m.userId === me.id)?.role;
  const moderator = myRole === 'owner' || myRole === 'admin';
  const nameOf = useCallback(
    (userId: string) => (userId === me.id ? 'you' : (members.find((m) => m.userId === userId)?.name ?? userId)),
    [members, me.id],
  );

  // A reply's quote jumps to its original; older pages are loaded until it
  // is in the timeline, or there is nothing older.
  const [seeking, setSeeking] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [flash, setFlash] = useState<string | null>(null);
  const jumpTo = useCallback((id: string) => {
    setNotice(null);
    setSeeking(id);
  }, []);
  useEffect(() => {
    if (!seeking) return;
    const target = messages.find((m) => m.id === seeking || m.key === seeking);
    if (target) {
      const el = scroller.current?.querySelector(`[data-key="${CSS.escape(target.key)}"]`);
      if (el) {
        el.scrollIntoView({ block: 'center' });
        setFlash(target.key);
        setSeeking(null);
      }
      return;
    }
    if (!hasMore) {
      setNotice('The original message is no longer available.');
      setSeeking(null);
      return;
    }
    if (!loadingOlder) loadOlder();
  }, [seeking, messages, hasMore, loadingOlder, loadOlder]);
  useEffect(() => {
    if (!flash) return;
    const t = window.setTimeout(() => setFlash(null), 2000);
    return () => window.clearTimeout(t);
  }, [flash]);
  useEffect(() => {
    if (!notice) return;
    const t = window.setTimeout(() => setNotice(null), 5000);
    return () => window.clearTimeout(t);
  }, [notice]);

  const jumpToLatest = () => {
    const el = scroller.current;
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: 'smooth' });
  };

  const newestMine = useMemo(() => messages.findLast((m) => m.mine)?.key, [messages]);
  const rows: ReactNode[] = [];
  let prev: TimelineMessage | undefined;
  for (const m of messages) {
    const newDay = !prev || new Date(prev.createdAt).toDateString() !== new Date(m.createdAt).toDateString();
    if (newDay) {
      rows.push(
        <li
          key={`day-${m.createdAt}-${m.key}`}
          className="day"
          role="separator"
          aria-label={dayLabel(m.createdAt, now)}
        >
          <span>{dayLabel(m.createdAt, now)}</span>
        </li>,
      );
    }
    const continued =
      !newDay &&
      prev !== undefined &&
      prev.senderId === m.senderId &&
      m.createdAt - prev.createdAt < GROUP_GAP_MS &&
      prev.status !== 'failed';
    rows.push(
      <MessageRow
        key={m.key}
        message={m}
        myName={me.name}
        continued={continued}
        newestMine={m.key === newestMine}
        onRetry={retry}
        onDiscard={discard}
        onEdit={onEdit}
        me={me.id}
        mayDelete={m.mine || moderator}
        flash={flash === m.key}
        nameOf={nameOf}
        onReact={react}
        onDelete={deleteMessage}
        onReply={onReply}
        onEditMessage={onEditMessage}
        onJump={jumpTo}
      />,
    );
    prev = m;
  }

  return (
    <div className="timeline">
      <div
        className="scroller"
        ref={scroller}
        onScroll={onScroll}
        role="log"
        aria-label="Messages"
        aria-live="polite"
        aria-busy={!joined}
      >
        {hasMore && (
          <div className="older">
            {loadingOlder ? (
              <span className="muted">
                <span className="spinner" aria-hidden="true" /> Loading older messages…
              </span>
            ) : (
              <button type="button" className="ghost small" onClick={requestOlder}>
                Load older messages
              </button>
            )}
          </div>
        )}
        {!hasMore && messages.length > 0 && joined && (
          <p className="beginning">
            {direct
              ? `This is the beginning of your conversation with ${title}.`
              : `This is the beginning of #${title}.`}
          </p>
        )}
        {messages.length === 0 && (
          <div className="empty">
            {refusal ? (
              <div role="alert">
                <p className="empty-title">You can’t open this room</p>
                <p className="muted">The server said: {refusal}.</p>
              </div>
            ) : joined ? (
              <>
                <p className="empty-title">{direct ? `Say hi to ${title}` : `Welcome to #${title}`}</p>
                <p className="muted">No messages yet. Start the conversation!</p>
              </>
            ) : (
              <p className="muted">
                <span className="spinner" aria-hidden="true" /> Loading messages…
              </p>
            )}
          </div>
        )}
        <ol className="messages">{rows}</ol>
      </div>
      {(seeking || notice) && (
        <p className="seeking" role="status">
          {seeking ? 'Finding the original message…' : notice}
        </p>
      )}
      {unseen > 0 && !atBottom && (
        <button type="button" className="jump" onClick={jumpToLatest}>
          {unseen} new {unseen === 1 ? 'message' : 'messages'} ↓
        </button>
      )}
    </div>
  );
}

const MessageRow = memo(function MessageRow({
  message: m,
  myName,
  continued,
  newestMine,
  onRetry,
  onDiscard,
  onEdit,
  me,
  mayDelete,
  flash,
  nameOf,
  onReact,
  onDelete,
  onReply,
  onEditMessage,
  onJump,
}: {
  message: TimelineMessage;
  myName: string;
  continued: boolean;
  newestMine: boolean;
  onRetry: (key: string) => void;
  onDiscard: (key: string) => void;
  onEdit: (m: TimelineMessage) => void;
  me: string;
  mayDelete: boolean;
  flash: boolean;
  nameOf: (userId: string) => string;
  onReact: (key: string, emoji: string) => Promise<void>;
  onDelete: (key: string) => Promise<void>;
  onReply: (m: TimelineMessage) => void;
  onEditMessage: (m: TimelineMessage) => void;
  onJump: (id: string) => void;
}) {
  // Messages restored from a previous session may not carry a name yet.
  const sender = m.senderName || (m.mine ? myName : m.senderId);
  const [unfolded, setUnfolded] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const refused = (err: unknown) => setActionError(err instanceof Error ? err.message : String(err));
  const toggle = (emoji: string) => {
    setActionError(null);
    onReact(m.key, emoji).catch(refused);
  };
  const shown = m.deleted ? 'This message was deleted' : m.content || m.metadata?.fileName || '';
  const settled = m.status !== 'failed' && !m.deleted;
  const long = m.content.length > FOLD_CHARS || m.content.split('\n').length > FOLD_LINES;
  const label = statusLabel(m);
  const words = newestMine || m.status === 'queued' || m.status === 'sending';
  const statusId = `status-${m.key}`;
  const time = (
    <time dateTime={new Date(m.createdAt).toISOString()} title={fullTime(m.createdAt)}>
      {clockTime(m.createdAt)}
    </time>
  );
  return (
    <li
      className={`message${m.mine ? ' mine' : ''}${continued ? ' continued' : ''} status-${m.status}${
        m.deleted ? ' deleted' : ''
      }${flash ? ' flash' : ''}${m.changePending ? ' changing' : ''}`}
      aria-label={`${sender}: ${shown}`}
      aria-describedby={m.mine ? statusId : undefined}
      data-seq={m.seq}
      data-key={m.key}
    >
      <div className="gutter">
        {continued ? <span className="hover-time">{time}</span> : <Avatar id={m.senderId || sender} name={sender} />}
      </div>
      <div className="body">
        {!continued && (
          <div className="meta">
            <span className="sender">{sender}</span>
            {time}
          </div>
        )}
        {settled && (
          <div className="actions" role="toolbar" aria-label={`Actions for ${sender}’s message`}>
            <ReactionPicker onPick={toggle} />
            <button type="button" className="ghost small" onClick={() => onReply(m)}>
              Reply
            </button>
            {m.mine && (
              <button type="button" className="ghost small" onClick={() => onEditMessage(m)}>
                Edit
              </button>
            )}
            {mayDelete && (
              <button type="button" className="ghost small danger" onClick={() => setConfirming(true)}>
                Delete
              </button>
            )}
          </div>
        )}
        {m.replyTo && (
          <button
            type="button"
            className="quote"
            onClick={() => m.replyTo && onJump(m.replyTo)}
            aria-label={
              m.quote
                ? `Reply to ${m.quote.senderName}: ${m.quote.deleted ? 'deleted message' : m.quote.excerpt}`
                : 'Reply to a message no longer available'
            }
          >
            <span className="quote-sender">{m.quote ? m.quote.senderName : 'Unavailable'}</span>
            <span className="quote-excerpt">
              {!m.quote
                ? 'Original message not loaded'
                : m.quote.deleted
                  ? 'Original message deleted'
                  : m.quote.excerpt}
            </span>
          </button>
        )}
        <div className="text">
          {m.deleted ? (
            <p className="content tombstone">This message was deleted</p>
          ) : (
            (m.content || m.type === 'text') && (
              <p className={`content${long && !unfolded ? ' folded' : ''}`} id={`content-${m.key}`}>
                {m.content}
                {m.edited && <span className="edited"> (edited)</span>}
              </p>
            )
          )}
          {long && (
            <button
              type="button"
              className="ghost small show-more"
              aria-expanded={unfolded}
              aria-controls={`content-${m.key}`}
              onClick={() => setUnfolded((u) => !u)}
            >
              {unfolded ? 'Show less' : 'Show more'}
            </button>
          )}
          {!m.deleted && <Attachment message={m} />}
          <Reactions message={m} me={me} nameOf={nameOf} onToggle={toggle} />
        </div>
        {m.changePending && (
          <p className="change-pending" role="status">
            Saving your change…
          </p>
        )}
        {confirming && (
          <div className="confirm" role="alertdialog" aria-label="Delete this message?">
            <span>Delete this message for everyone?</span>
            <button
              type="button"
              className="small danger"
              onClick={() => {
                setConfirming(false);
                setActionError(null);
                onDelete(m.key).catch(refused);
              }}
            >
              Delete
            </button>
            <button type="button" className="small secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        )}
        {(m.error?.change || actionError) && (
          <p className="change-error" role="alert">
            {actionError ?? changeFailure(m.error)}
          </p>
        )}
        {m.mine && m.status !== 'failed' && (
          <p className={`status status-${m.status}`} title={words ? undefined : label}>
            <StatusIcon status={m.status} />
            <span id={statusId} className={words ? undefined : 'sr-only'}>
              {label}
            </span>
          </p>
        )}
        {m.mine && m.status === 'failed' && (
          <div className="failure" role="alert">
            <p className="status status-failed">
              <StatusIcon status="failed" />
              <span id={statusId}>Failed</span>
              <FailureReason error={m.error} />
            </p>
            <div className="failure-actions">
              <button type="button" className="small" onClick={() => onRetry(m.key)}>
                Retry
              </button>
              <button type="button" className="small secondary" onClick={() => onEdit(m)}>
                Edit
              </button>
              <button type="button" className="small ghost danger" onClick={() => onDiscard(m.key)}>
                Discard
              </button>
            </div>
          </div>
        )}
      </div>
    </li>
  );
});

/** Why it failed; a message too long for the server names the server's limit. */
function FailureReason({ error }: { error: ParleyError | undefined }) {
  const { limits } = useConnection();
  return (
    <span className="reason" title={error?.message}>
      {failureReason(error, limits?.maxContentLength)}
    </span>
  );
}

function StatusIcon({ status }: { status: TimelineMessage['status'] }) {
  switch (status) {
    case 'queued':
      return (
        <svg className="status-icon" viewBox="0 0 16 16" aria-hidden="true">
          <circle cx="8" cy="8" r="6" />
          <path d="M8 4.8V8l2.2 1.5" />
        </svg>
      );
    case 'sending':
      return <span className="spinner tiny" aria-hidden="true" />;
    case 'sent':
      return (
        <svg className="status-icon" viewBox="0 0 16 16" aria-hidden="true">
          <path d="M3.5 8.5l3 3 6-7" />
        </svg>
      );
    case 'delivered':
      return (
        <svg className="status-icon" viewBox="0 0 20 16" aria-hidden="true">
          <path d="M1.5 8.5l3 3 6-7M8.5 11.5l.2.2 6-7.2" />
        </svg>
      );
    case 'read':
      return (
        <svg className="status-icon" viewBox="0 0 20 16" aria-hidden="true">
          <path d="M1.5 8s3-5 8.5-5 8.5 5 8.5 5-3 5-8.5 5S1.5 8 1.5 8z" />
          <circle cx="10" cy="8" r="2.2" />
        </svg>
      );
    case 'failed':
      return (
        <svg className="status-icon" viewBox="0 0 16 16" aria-hidden="true">
          <circle cx="8" cy="8" r="6.2" />
          <path d="M8 4.6v4.2M8 11.2v.1" />
        </svg>
      );
  }
}
