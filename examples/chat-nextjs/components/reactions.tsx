'use client';
// Reactions under a message: one chip per emoji with its count (pressed when
// it is mine; the names of who reacted in its title), and a small picker.
// Toggling is optimistic in the client; a refusal rolls it back and says why
// on the message.
import { useEffect, useRef, useState } from 'react';
import type { TimelineMessage } from '@parley/realtime';

export const QUICK_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '👀', '🙏'];

type Reaction = NonNullable<TimelineMessage['reactions']>[number];

function names(r: Reaction, nameOf: (userId: string) => string): string {
  const listed = r.userIds.map(nameOf);
  const more = r.count - listed.length;
  return more > 0 ? `${listed.join(', ')} and ${more} more` : listed.join(', ');
}

export function Reactions({
  message: m,
  me,
  nameOf,
  onToggle,
}: {
  message: TimelineMessage;
  me: string;
  nameOf: (userId: string) => string;
  onToggle: (emoji: string) => void;
}) {
  const reactions = m.reactions ?? [];
  if (reactions.length === 0) return null;
  return (
    <ul className="reactions" aria-label="Reactions">
      {reactions.map((r) => {
        const mine = r.mine ?? r.userIds.includes(me);
        return (
          <li key={r.emoji}>
            <button
              type="button"
              className={`reaction${mine ? ' mine' : ''}`}
              aria-pressed={mine}
              aria-label={`${r.emoji} ${r.count}: ${names(r, nameOf)}`}
              title={names(r, nameOf)}
              onClick={() => onToggle(r.emoji)}
            >
              <span className="emoji">{r.emoji}</span>
              <span className="count">{r.count}</span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** The "add a reaction" button and its popover of quick emoji. */
export function ReactionPicker({ onPick }: { onPick: (emoji: string) => void }) {
  const [open, setOpen] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent | KeyboardEvent) => {
      if (e instanceof KeyboardEvent ? e.key === 'Escape' : !box.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  return (
    <div className="picker" ref={box}>
      <button
        type="button"
        className="ghost icon-button"
        aria-label="Add reaction"
        aria-expanded={open}
        onClick={() => setOpen((o) => !o)}
      >
        <svg viewBox="0 0 16 16" aria-hidden="true">
          <circle cx="8" cy="8" r="6.2" />
          <path d="M5.5 9.5c.6 1 1.5 1.6 2.5 1.6s1.9-.6 2.5-1.6M6 6.4v.1M10 6.4v.1" />
        </svg>
      </button>
      {open && (
        <div className="picker-popover" role="menu" aria-label="Pick a reaction">
          {QUICK_EMOJI.map((e) => (
            <button
              key={e}
              type="button"
              role="menuitem"
              aria-label={`React with ${e}`}
              onClick={() => {
                onPick(e);
                setOpen(false);
              }}
            >
              {e}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
