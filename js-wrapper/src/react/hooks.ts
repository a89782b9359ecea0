'use client';
// React hooks over the client's views: thin useSyncExternalStore calls with
// stable snapshots (a view object only changes when the core says it did).
import { useCallback, useEffect, useSyncExternalStore } from 'react';

import { INITIAL_CONNECTION } from '../client.js';
import type { ConnectionSnapshot, RoomSnapshot } from '../types.js';
import { useParleyClient } from './provider.js';

export interface UseConnection extends ConnectionSnapshot {}

/** The connection's state, for banners and status dots. */
export function useConnection(): UseConnection {
  const client = useParleyClient();
  const subscribe = useCallback((cb: () => void) => client.subscribe('connection', cb), [client]);
  return useSyncExternalStore(subscribe, () => client.getConnection(), () => INITIAL_CONNECTION);
}

export interface UseRoom {
  roomId: string;
  joined: boolean;
  messages: RoomSnapshot['messages'];
  /** Sends a text message; resolves to its timeline key. */
  send: (content: string) => Promise<string>;
}

/** Joins `roomId` while mounted and returns its timeline and `send`. */
export function useRoom(roomId: string): UseRoom {
  const client = useParleyClient();
  useEffect(() => {
    client.join(roomId);
  }, [client, roomId]);
  const subscribe = useCallback((cb: () => void) => client.subscribe(`room:${roomId}`, cb), [client, roomId]);
  const room = useSyncExternalStore(
    subscribe,
    () => client.getRoom(roomId),
    () => client.getRoom(roomId),
  );
  const send = useCallback((content: string) => client.send(roomId, content), [client, roomId]);
  return { roomId, joined: room.joined, messages: room.messages, send };
}
