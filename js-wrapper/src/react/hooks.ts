'use client';
// React hooks over the client's views: thin useSyncExternalStore calls with
// stable snapshots (a view object only changes when the core says it did).
import { useCallback, useEffect, useMemo, useSyncExternalStore } from 'react';

import { INITIAL_CONNECTION, type ParleyClient } from '../client.js';
import type {
  AttachmentOptions,
  ConnectionSnapshot,
  Member,
  MessageDraft,
  RoomSnapshot,
  TimelineMessage,
  TypingUser,
} from '../types.js';
import { useParleyClient } from './provider.js';

/** The connection's snapshot (state, attempt, nextAttemptAt, ...) and its one action. */
export interface UseConnection extends ConnectionSnapshot {
  /** Skips the wait of `reconnecting` (or starts over after `closed`). */
  reconnectNow: () => void;
}

/** The connection's state, for banners and status dots. */
export function useConnection(): UseConnection {
  const client = useParleyClient();
  const subscribe = useCallback((cb: () => void) => client.subscribe('connection', cb), [client]);
  const c = useSyncExternalStore(
    subscribe,
    () => client.getConnection(),
    () => INITIAL_CONNECTION,
  );
  const reconnectNow = useCallback(() => client.reconnectNow(), [client]);
  return useMemo(() => ({ ...c, reconnectNow }), [c, reconnectNow]);
}

function useRoomSnapshot(client: ParleyClient, roomId: string): RoomSnapshot {
  const subscribe = useCallback((cb: () => void) => client.subscribe(`room:${roomId}`, cb), [client, roomId]);
  const get = useCallback(() => client.getRoom(roomId), [client, roomId]);
  return useSyncExternalStore(subscribe, get, get);
}

export interface UseRoom {
  roomId: string;
  joined: boolean;
  messages: TimelineMessage[];
  members: Member[];
  typing: TypingUser[];
  hasMore: boolean;
  loadingOlder: boolean;
  /** Sends text or a draft (a reply: `replyTo`); resolves to the timeline key (rejects with queue_full). */
  send: (message: string | MessageDraft) => Promise<string>;
  /** Sends a file not uploaded yet (see ParleyClient.sendAttachment); resolves to the timeline key. */
  sendAttachment: (file: Blob, options?: AttachmentOptions) => Promise<string>;
  /** Replaces the text of a message of ours, by its key; shown at once, undone if refused. */
  edit: (key: string, content: string) => Promise<void>;
  /** Deletes a message by its key; a tombstone at once, undone if refused. */
  deleteMessage: (key: string) => Promise<void>;
  /** Toggles our reaction `emoji` on a message, by its key. */
  react: (key: string, emoji: string) => Promise<void>;
  /** Sends a failed message again (or uploads a failed attachment again). */
  retry: (key: string) => void;
  /** Drops a failed or queued message. */
  discard: (key: string) => void;
  loadOlder: () => void;
  setTyping: (active: boolean) => void;
  markRead: (seq: number) => void;
}

/**
 * Joins `roomId` while mounted (left when the last component using it
 * unmounts); its timeline, members, typing and actions.
 */
export function useRoom(roomId: string): UseRoom {
  const client = useParleyClient();
  useEffect(() => client.hold(roomId), [client, roomId]);
  const room = useRoomSnapshot(client, roomId);
  const actions = useMemo(
    () => ({
      send: (message: string | MessageDraft) => client.send(roomId, message),
      sendAttachment: (file: Blob, options?: AttachmentOptions) => client.sendAttachment(roomId, file, options),
      edit: (key: string, content: string) => client.edit(roomId, key, content),
      deleteMessage: (key: string) => client.deleteMessage(roomId, key),
      react: (key: string, emoji: string) => client.react(roomId, key, emoji),
      retry: (key: string) => client.retry(roomId, key),
      discard: (key: string) => client.discard(roomId, key),
      loadOlder: () => client.loadOlder(roomId),
      setTyping: (active: boolean) => client.setTyping(roomId, active),
      markRead: (seq: number) => client.markRead(roomId, seq),
    }),
    [client, roomId],
  );
  return useMemo(
    () => ({
      roomId,
      joined: room.joined,
      messages: room.messages,
      members: room.members,
      typing: room.typing,
      hasMore: room.hasMore,
      loadingOlder: room.loadingOlder,
      ...actions,
    }),
    [roomId, room, actions],
  );
}

/** The room's members with their presence (status, lastSeen). */
export function usePresence(roomId: string): Member[] {
  return useRoomSnapshot(useParleyClient(), roomId).members;
}

/** Who else is typing in the room, and the setter for our own indicator. */
export function useTyping(roomId: string): { typing: TypingUser[]; setTyping: (active: boolean) => void } {
  const client = useParleyClient();
  const typing = useRoomSnapshot(client, roomId).typing;
  const setTyping = useCallback((active: boolean) => client.setTyping(roomId, active), [client, roomId]);
  return useMemo(() => ({ typing, setTyping }), [typing, setTyping]);
}
