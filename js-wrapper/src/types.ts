// The public shapes of @parley/realtime. Wire types come from the schemas
// (src/generated/protocol.ts, generated at build time from shared/schemas/).
import type { ErrorCode, Message, MessageType } from './generated/protocol.js';

export type { ClientFrame, ErrorCode, Message, MessageType, ServerFrame } from './generated/protocol.js';

export type ConnectionState =
  | 'idle'
  | 'connecting'
  | 'authenticating'
  | 'connected'
  | 'backoff'
  | 'offline'
  | 'closed';

export interface ParleyError {
  code: ErrorCode | 'queue_full';
  message: string;
  /** JSON pointer of the offending field, when the error is about one. */
  path?: string;
}

export interface ConnectionSnapshot {
  state: ConnectionState;
  /** Failed attempts since the last stable connection. */
  attempt: number;
  /** In `backoff`: when the next attempt starts (ms since the epoch). */
  nextAttemptAt: number | null;
  lastError: ParleyError | null;
  user: { id: string; name: string } | null;
}

export type MessageStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

/** A line of a room's timeline: a confirmed message, or one of ours still pending. */
export interface TimelineMessage extends Omit<Message, 'id' | 'seq' | 'metadata' | 'updatedAt'> {
  /** Stable from the optimistic render to the confirmed message: use it as the React key. */
  key: string;
  id?: string;
  seq?: number;
  type: MessageType;
  status: MessageStatus;
  mine: boolean;
  error?: ParleyError;
}

export interface RoomSnapshot {
  roomId: string;
  joined: boolean;
  messages: TimelineMessage[];
}
