'use client';
// Rooms and direct messages, the join form, and who is signed in.
import { useState, type FormEvent, type ReactNode } from 'react';
import { useRoom } from '@parley/realtime/react';

import { Avatar } from '@/components/avatar';
import type { Me } from '@/components/workspace';
import { directPeer, isDirect, roomIdFromInput, type SavedRoom } from '@/lib/rooms';

export function Sidebar({
  me,
  rooms,
  current,
  onOpen,
  onSignOut,
  onClose,
  status,
}: {
  me: Me;
  rooms: SavedRoom[];
  current: string;
  onOpen: (roomId: string, label?: string) => void;
  onSignOut: () => void;
  onClose: () => void;
  status: ReactNode;
}) {
  const publicRooms = rooms.filter((r) => !isDirect(r.id));
  const directRooms = rooms.filter((r) => isDirect(r.id) && directPeer(r.id, me.id) !== null);

  return (
    <aside className="sidebar" aria-label="Sidebar">
      <div className="sidebar-top">
        <div className="brand">
          <span className="logo" aria-hidden="true" />
          <span>Parley</span>
        </div>
        <button type="button" className="icon-button close-drawer" aria-label="Close rooms" onClick={onClose}>
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M6 6l12 12M18 6L6 18" />
          </svg>
        </button>
      </div>

      <nav aria-label="Rooms" className="room-nav">
        <h2 className="nav-heading">Rooms</h2>
        <ul>
          {publicRooms.map((r) => (
            <RoomLink key={r.id} room={r} me={me} current={current === r.id} />
          ))}
        </ul>
        <h2 className="nav-heading">Direct messages</h2>
        {directRooms.length === 0 ? (
          <p className="nav-empty">Choose the message button beside someone in Members to start one.</p>
        ) : (
          <ul>
            {directRooms.map((r) => (
              <RoomLink key={r.id} room={r} me={me} current={current === r.id} />
            ))}
          </ul>
        )}
      </nav>

      <JoinRoomForm onJoin={(id) => onOpen(id)} />

      <div className="me">
        <Avatar id={me.id} name={me.name} size={34} />
        <div className="me-text">
          <span className="me-name">{me.name}</span>
          {status}
        </div>
        <button type="button" className="ghost small" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </aside>
  );
}

/** A room in the sidebar. Being listed keeps the room joined, so it can count what is unread. */
function RoomLink({ room, me, current }: { room: SavedRoom; me: Me; current: boolean }) {
  const { messages, members } = useRoom(room.id);
  const peer = directPeer(room.id, me.id);
  const peerMember = peer ? members.find((m) => m.userId === peer) : undefined;
  const label = peer ? (room.label ?? (peerMember && peerMember.name !== peer ? peerMember.name : peer)) : room.id;
  const readUpTo = members.find((m) => m.userId === me.id)?.readSeq ?? 0;
  const unread = current ? 0 : messages.filter((m) => !m.mine && m.seq !== undefined && m.seq > readUpTo).length;

  return (
    <li>
      <a
        href={`#${room.id}`}
        className={`room-link${current ? ' current' : ''}${unread ? ' has-unread' : ''}`}
        aria-current={current ? 'page' : undefined}
      >
        {peer ? (
          <Avatar id={peer} name={label} size={22} presence={peerMember?.status ?? 'offline'} />
        ) : (
          <span className="hash" aria-hidden="true">
            #
          </span>
        )}
        <span className="room-name">{label}</span>
        {unread > 0 && (
          <span className="badge">
            {unread > 99 ? '99+' : unread}
            <span className="sr-only"> unread</span>
          </span>
        )}
      </a>
    </li>
  );
}

function JoinRoomForm({ onJoin }: { onJoin: (roomId: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);

  function submit(e: FormEvent) {
    e.preventDefault();
    const parsed = roomIdFromInput(value);
    if ('error' in parsed) {
      setError(parsed.error);
      return;
    }
    setError(null);
    setValue('');
    onJoin(parsed.id);
  }

  return (
    <form className="join-form" onSubmit={submit} aria-label="Join a room">
      <label htmlFor="join-room">Join or create a room</label>
      <div className="join-row">
        <input
          id="join-room"
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setError(null);
          }}
          placeholder="room-name"
          maxLength={160}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'join-room-error' : undefined}
        />
        <button type="submit" className="secondary" disabled={value.trim().length === 0}>
          Join
        </button>
      </div>
      {error && (
        <p id="join-room-error" className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
