'use client';
// One room: its header, timeline, typing line, composer and members.
import { useCallback, useEffect, useRef, useState } from 'react';
import { useConnection, useRoom } from '@parley/realtime/react';
import type { TimelineMessage } from '@parley/realtime';

import { Composer, type ComposerHandle } from '@/components/composer';
import { MembersPanel } from '@/components/members';
import { MessageList } from '@/components/message-list';
import type { Me } from '@/components/workspace';
import { typingText } from '@/lib/format';
import { directPeer, isDirect } from '@/lib/rooms';

export function RoomView({
  roomId,
  title,
  me,
  drafts,
  onOpenDirect,
  onLeave,
  onToggleRooms,
  roomsOpen,
  membersOpen,
  onToggleMembers,
  onCloseMembers,
}: {
  roomId: string;
  title: string;
  me: Me;
  drafts: Map<string, string>;
  onOpenDirect: (userId: string, name: string) => void;
  onLeave?: () => void;
  onToggleRooms: () => void;
  roomsOpen: boolean;
  membersOpen: boolean;
  onToggleMembers: () => void;
  onCloseMembers: () => void;
}) {
  const room = useRoom(roomId);
  const connection = useConnection();
  const stale = connection.state !== 'connected';
  // The server refused to let us in (a direct room of others, a private room, removed).
  const refusal =
    !stale && !room.joined && connection.lastError && ['forbidden', 'not_found'].includes(connection.lastError.code)
      ? connection.lastError.message
      : null;
  const composer = useRef<ComposerHandle>(null);
  // Closing the members drawer gives the focus back to the button that opened it.
  const membersToggle = useRef<HTMLButtonElement>(null);
  const wasOpen = useRef(membersOpen);
  useEffect(() => {
    if (wasOpen.current && !membersOpen) membersToggle.current?.focus();
    wasOpen.current = membersOpen;
  }, [membersOpen]);
  const direct = isDirect(roomId);
  const peer = directPeer(roomId, me.id);
  const peerMember = peer ? room.members.find((m) => m.userId === peer) : undefined;
  const online = room.members.filter((m) => m.status !== 'offline').length;

  const [replyingTo, setReplyingTo] = useState<TimelineMessage | null>(null);
  const [editing, setEditing] = useState<TimelineMessage | null>(null);
  const reply = useCallback((m: TimelineMessage) => {
    setEditing(null);
    setReplyingTo(m);
  }, []);
  const editMessage = useCallback((m: TimelineMessage) => {
    setReplyingTo(null);
    setEditing(m);
  }, []);

  const { discard } = room;
  const edit = useCallback(
    (m: TimelineMessage) => {
      composer.current?.replaceDraft(m.content);
      discard(m.key);
    },
    [discard],
  );

  // Stop our typing indicator when leaving the room.
  const { setTyping } = room;
  useEffect(() => () => setTyping(false), [setTyping]);

  const subtitle = direct
    ? peerMember && !stale
      ? peerMember.status === 'offline'
        ? 'Offline'
        : peerMember.status[0].toUpperCase() + peerMember.status.slice(1)
      : 'Direct message'
    : room.members.length === 0
      ? stale
        ? connection.state === 'failed'
          ? 'Chat unavailable'
          : 'Waiting for the connection…'
        : 'Public room'
      : `${room.members.length} ${room.members.length === 1 ? 'member' : 'members'}${stale ? '' : ` · ${online} online`}`;

  return (
    <div className="room-layout">
      <section className="room" aria-label={direct ? `Conversation with ${title}` : `Room ${title}`}>
        <header className="room-header">
          <button
            type="button"
            className="icon-button open-drawer"
            aria-label="Open rooms"
            aria-expanded={roomsOpen}
            onClick={onToggleRooms}
          >
            <svg viewBox="0 0 24 24" aria-hidden="true">
              <path d="M4 7h16M4 12h16M4 17h16" />
            </svg>
          </button>
          <div className="room-title">
            <h1>
              {!direct && (
                <span className="hash" aria-hidden="true">
                  #
                </span>
              )}
              {title}
            </h1>
            <p className="room-subtitle">{subtitle}</p>
          </div>
          <div className="room-actions">
            {onLeave && (
              <button type="button" className="ghost small" onClick={onLeave}>
                Leave
              </button>
            )}
            <button
              ref={membersToggle}
              type="button"
              className="icon-button toggle-members"
              aria-label="Show members"
              aria-expanded={membersOpen}
              onClick={onToggleMembers}
            >
              <svg viewBox="0 0 24 24" aria-hidden="true">
                <circle cx="9" cy="8" r="3.2" />
                <path d="M3.5 19c.6-3.2 2.8-5 5.5-5s4.9 1.8 5.5 5" />
                <path d="M16 5.5a3 3 0 010 5.6M17.5 14.3c1.7.6 2.8 2.2 3 4.7" />
              </svg>
            </button>
          </div>
        </header>

        <MessageList
          room={room}
          me={me}
          title={title}
          direct={direct}
          refusal={refusal}
          onEdit={edit}
          onReply={reply}
          onEditMessage={editMessage}
        />

        <p className="typing" role="status" aria-live="polite" aria-label="Typing">
          {room.typing.length > 0 && (
            <>
              <span className="typing-dots" aria-hidden="true">
                <i />
                <i />
                <i />
              </span>
              {typingText(room.typing.map((t) => t.name))}
            </>
          )}
        </p>

        <Composer
          ref={composer}
          room={room}
          placeholder={direct ? `Message ${title}` : `Message #${title}`}
          initialDraft={drafts.get(roomId) ?? ''}
          onDraftChange={(d) => (d ? drafts.set(roomId, d) : drafts.delete(roomId))}
          replyingTo={replyingTo}
          onCancelReply={() => setReplyingTo(null)}
          editing={editing}
          onDoneEditing={() => setEditing(null)}
        />
      </section>
      <MembersPanel
        members={room.members}
        me={me}
        direct={direct}
        stale={stale}
        open={membersOpen}
        onOpenDirect={onOpenDirect}
        onClose={onCloseMembers}
      />
    </div>
  );
}
