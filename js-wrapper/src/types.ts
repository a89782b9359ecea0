// The public shapes of @parley/realtime. Wire types come from the schemas
// (src/generated/protocol.ts, generated at build time from shared/schemas/).
import type { ErrorCode, Member, Message, MessageType, Metadata, ServerWelcome } from './generated/protocol.js';

export type {
  ClientFrame,
  ErrorCode,
  Member,
  Message,
  MessageType,
  Metadata,
  ServerFrame,
} from './generated/protocol.js';

export type ConnectionState =
  /** Not started (connect() not called yet). */
  | 'idle'
  /** A socket is opening. */
  | 'connecting'
  /** The socket is open; hello sent, waiting for welcome. */
  | 'authenticating'
  /** Welcomed: rooms are joined and queued sends go out. */
  | 'connected'
  /** An attempt failed or the connection was lost: the next attempt starts at `nextAttemptAt`. */
  | 'reconnecting'
  /** The browser says the network is down: retried as soon as it is back. */
  | 'offline'
  /** Closed by the app (disconnect) or refused for good (see lastError); reconnectNow() starts over. */
  | 'closed'
  /** The client core could not be loaded (see lastError, code `load_failed`); reconnectNow() tries again. */
  | 'failed';

/**
 * What getToken returns: a JWT (its `exp` is its expiry), the token with its
 * expiry in ms since the epoch, or null when there is none (signed out).
 */
export type TokenResult = string | { token: string; expiresAt?: number } | null;

export interface ParleyError {
  /**
   * The server's codes, and two of the client's own: `queue_full` (send()
   * refused: the offline queue is full) and `load_failed` (the WebAssembly
   * core could not be loaded: a 404, a CSP without 'wasm-unsafe-eval', ...).
   */
  code: ErrorCode | 'queue_full' | 'load_failed';
  message: string;
  /** JSON pointer of the offending field, when the error is about one. */
  path?: string;
}

export interface ConnectionSnapshot {
  state: ConnectionState;
  /** Failed attempts since the last stable connection. */
  attempt: number;
  /** In `reconnecting`: when the next attempt starts (ms since the epoch). */
  nextAttemptAt: number | null;
  lastError: ParleyError | null;
  user: { id: string; name: string } | null;
  /** The operators' latest announcement. */
  announcement: { text: string; level: 'info' | 'warning' } | null;
  /** The server's limits from its latest welcome (kept while reconnecting); null before the first. */
  limits: ServerLimits | null;
}

/**
 * What the server accepts, as it says in `welcome`: `maxContentLength` (a
 * message's `content`, in Unicode code points), `maxFrameBytes`, and the send
 * rate (`sendBurst` at once, then one per `sendIntervalMs`; the client paces
 * itself to it).
 */
export type ServerLimits = ServerWelcome['limits'];

export type MessageStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

/** What send() accepts besides plain text. */
export interface MessageDraft {
  content: string;
  type?: MessageType;
  metadata?: Metadata;
  replyTo?: string;
}

/** A line of a room's timeline: a confirmed message, or one of ours still pending. */
export interface TimelineMessage extends Omit<Message, 'id' | 'seq' | 'updatedAt'> {
  /** Stable from the optimistic render to the confirmed message: use it as the React key. */
  key: string;
  id?: string;
  seq?: number;
  status: MessageStatus;
  mine: boolean;
  /** Names of the other members who have read it (our own messages). */
  readBy: string[];
  /** Why it failed (status `failed`), or the last transient refusal. */
  error?: ParleyError;
}

/**
 * Where the client gets the time and its timers: the real ones by default.
 * Tests pass a fake to run reconnection backoff, heartbeats, token refresh
 * and typing expiry without waiting (see test/support/fake-clock.ts).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface TypingUser {
  userId: string;
  name: string;
}

export interface RoomSnapshot {
  roomId: string;
  joined: boolean;
  messages: TimelineMessage[];
  members: Member[];
  typing: TypingUser[];
  /** Older messages exist on the server (see loadOlder). */
  hasMore: boolean;
  loadingOlder: boolean;
}
