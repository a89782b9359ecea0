'use client';
// Who is in the room, with presence, and a way to message them directly. On
// narrower screens it is a drawer with a close button (Escape closes it too).
import { useEffect, useRef } from 'react';
import type { Member } from '@parley/realtime';

import { Avatar, presenceLabel } from '@/components/avatar';
import type { Me } from '@/components/workspace';
import { fullTime, relativeTime } from '@/lib/format';
import { useNow } from '@/lib/hooks';

const ORDER: Record<Member['status'], number> = { online: 0, idle: 1, away: 2, offline: 3 };

export function MembersPanel({
  members,
  me,
  direct,
  stale,
  open,
  onOpenDirect,
  onClose,
}: {
  members: Member[];
  me: Me;
  direct: boolean;
  /** Not connected: what we show may be out of date. */
  stale: boolean;
  /** Shown as a drawer (narrow screens): focus moves into it. */
  open: boolean;
  onOpenDirect: (userId: string, name: string) => void;
  onClose: () => void;
}) {
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (open) close.current?.focus();
  }, [open]);
  const now = useNow(15_000);
  const sorted = [...members].sort(
    (a, b) =>
      Number(b.userId === me.id) - Number(a.userId === me.id) ||
      ORDER[a.status] - ORDER[b.status] ||
      a.name.localeCompare(b.name),
  );
  const online = members.filter((m) => m.status !== 'offline').length;

  return (
    <aside className={`members${stale ? ' stale' : ''}`} aria-labelledby="members-heading">
      <div className="panel-top">
        <h2 id="members-heading" className="panel-heading">
          Members {members.length > 0 && <span className="count">{members.length}</span>}
        </h2>
        <button
          ref={close}
          type="button"
          className="icon-button close-members"
          aria-label="Close members"
          onClick={onClose}
        >
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M6 6l12 12M18 6L6 18" />
          </svg>
        </button>
      </div>
      <p className="panel-sub">{stale ? 'Presence updates when you’re back online' : `${online} online`}</p>
      <ul aria-label="Members" className="member-list">
        {sorted.map((m) => {
          const isMe = m.userId === me.id;
          const presence =
            m.status === 'offline'
              ? m.lastSeen
                ? `Offline · last seen ${relativeTime(m.lastSeen, now)}`
                : 'Offline'
              : presenceLabel(m.status);
          return (
            <li
              key={m.userId}
              className={`member member-${m.status}`}
              aria-label={m.name}
              aria-describedby={`presence-${m.userId}`}
            >
              <Avatar id={m.userId} name={m.name} size={32} presence={m.status} />
              <div className="member-text">
                <span className="member-name">
                  {m.name}
                  {isMe && <span className="you"> (you)</span>}
                </span>
                <span
                  id={`presence-${m.userId}`}
                  className="member-presence"
                  title={m.lastSeen ? `Last seen ${fullTime(m.lastSeen)}` : undefined}
                >
                  {presence}
                </span>
              </div>
              {!isMe && !direct && (
                <button
                  type="button"
                  className="icon-button dm"
                  aria-label={`Message ${m.name}`}
                  title={`Message ${m.name}`}
                  onClick={() => onOpenDirect(m.userId, m.name)}
                >
                  <svg viewBox="0 0 24 24" aria-hidden="true">
                    <path d="M4 5h16v11H9l-5 4V5z" />
                  </svg>
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </aside>
  );
}
