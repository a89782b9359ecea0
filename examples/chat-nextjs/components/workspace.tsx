'use client';
// The signed-in layout: the sidebar (rooms, direct messages, who I am), the
// open room, and its members.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useConnection, useParleyClient } from '@parley/realtime/react';

import { ConnectionBanner, ConnectionPill } from '@/components/connection';
import { RoomView } from '@/components/room-view';
import { Sidebar } from '@/components/sidebar';
import { useHashRoom } from '@/lib/hooks';
import {
  directPeer,
  directRoomId,
  forgetRooms,
  isDirect,
  LOBBY,
  loadRooms,
  saveRooms,
  type SavedRoom,
} from '@/lib/rooms';
import type { Session } from '@/lib/session';

export interface Me {
  id: string;
  name: string;
}

export function Workspace({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const connection = useConnection();
  const client = useParleyClient();
  const me: Me = { id: connection.user?.id ?? session.userId, name: connection.user?.name ?? session.name };
  const [rooms, setRooms] = useState<SavedRoom[]>(() => loadRooms(session.userId));
  const [current, navigate] = useHashRoom();
  const [drawerOpen, setDrawerOpen] = useState(false);
  const [membersOpen, setMembersOpen] = useState(false);
  const drafts = useRef(new Map<string, string>());
  const signingOut = useRef(false);

  // Signing out leaves nothing of this user on the device: the client deletes
  // what it stored (every tab's unsent queue, receipts, the room cache), and
  // the demo forgets its room list.
  const signOut = useCallback(async () => {
    if (signingOut.current) return;
    signingOut.current = true;
    try {
      await client.signOut();
    } catch (error) {
      console.error('sign-out: could not delete the stored state', error);
    }
    forgetRooms(session.userId);
    onSignOut();
  }, [client, session.userId, onSignOut]);

  // A room opened by link or Back joins the sidebar (not someone else's direct room).
  useEffect(() => {
    if (isDirect(current) && directPeer(current, session.userId) === null) return;
    setRooms((list) => (list.some((r) => r.id === current) ? list : [...list, { id: current }]));
  }, [current, session.userId]);

  useEffect(() => {
    if (!signingOut.current) saveRooms(session.userId, rooms);
  }, [session.userId, rooms]);

  // Escape closes an open drawer (rooms or members).
  useEffect(() => {
    if (!drawerOpen && !membersOpen) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setDrawerOpen(false);
      setMembersOpen(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [drawerOpen, membersOpen]);

  const openRoom = useCallback(
    (roomId: string, label?: string) => {
      setRooms((list) => {
        const at = list.findIndex((r) => r.id === roomId);
        if (at < 0) return [...list, { id: roomId, label }];
        if (label && list[at].label !== label) return list.map((r, i) => (i === at ? { ...r, label } : r));
        return list;
      });
      navigate(roomId);
      setDrawerOpen(false);
    },
    [navigate],
  );

  const openDirect = useCallback(
    (userId: string, name: string) => openRoom(directRoomId(me.id, userId), name),
    [openRoom, me.id],
  );

  const leaveRoom = useCallback(
    (roomId: string) => {
      if (roomId === LOBBY) return;
      client.leave(roomId);
      setRooms((list) => list.filter((r) => r.id !== roomId));
      if (roomId === current) navigate(LOBBY);
    },
    [client, current, navigate],
  );

  const saved = rooms.find((r) => r.id === current);
  const peer = directPeer(current, me.id);
  const title = isDirect(current) ? (saved?.label ?? peer ?? current) : current;

  useEffect(() => {
    document.title = `${isDirect(current) ? title : `#${title}`} · Parley`;
  }, [current, title]);

  return (
    <div className={`app${drawerOpen ? ' drawer-open' : ''}${membersOpen ? ' members-open' : ''}`}>
      <Sidebar
        me={me}
        rooms={rooms}
        current={current}
        onOpen={openRoom}
        onSignOut={() => void signOut()}
        onClose={() => setDrawerOpen(false)}
        status={<ConnectionPill />}
      />
      {/* A click outside a drawer closes it; keyboard and screen-reader users
          have the drawers' close buttons and Escape. */}
      <button
        type="button"
        className="scrim"
        aria-hidden="true"
        tabIndex={-1}
        onClick={() => {
          setDrawerOpen(false);
          setMembersOpen(false);
        }}
      />
      <div className="main">
        <ConnectionBanner />
        <RoomView
          key={current}
          roomId={current}
          title={title}
          me={me}
          drafts={drafts.current}
          onOpenDirect={openDirect}
          onLeave={current === LOBBY ? undefined : () => leaveRoom(current)}
          onToggleRooms={() => setDrawerOpen((o) => !o)}
          roomsOpen={drawerOpen}
          membersOpen={membersOpen}
          onToggleMembers={() => setMembersOpen((o) => !o)}
          onCloseMembers={() => setMembersOpen(false)}
        />
      </div>
    </div>
  );
}
