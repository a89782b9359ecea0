// The public shapes of @parley/realtime. Wire types come from the schemas
// (src/generated/protocol.ts, generated at build time from shared/schemas/).
import type { ErrorCode, Member, Message, Metadata, Reaction, ServerWelcome } from './generated/protocol.js';

export type {
  ClientFrame,
  ErrorCode,
  Member,
  Message,
  MessageType,
  Metadata,
  Quote,
  Reaction,
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
   * The server's codes, and the client's own: `queue_full` (send() refused:
   * the offline queue is full), `load_failed` (the WebAssembly core could
   * not be loaded: a 404, a CSP without 'wasm-unsafe-eval', ...), `timeout`
   * (an edit, delete or reaction the server did not answer in time: it was
   * undone) and `upload_failed` (sendAttachment's upload failed or cannot
   * run: retry() tries again).
   */
  code: ErrorCode | 'queue_full' | 'load_failed' | 'timeout' | 'upload_failed';
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

/** What a timeline shows: messages (changes to them are not lines of their own). */
export type TimelineMessageType = 'text' | 'image' | 'file' | 'system';

/** What send() accepts besides plain text. */
export interface MessageDraft {
  content: string;
  /** `image` and `file` need `metadata` with the file's `url` (see sendAttachment for files not uploaded yet). */
  type?: 'text' | 'image' | 'file';
  metadata?: Metadata;
  /**
   * The message this one answers: its timeline `key` (or server `id`). A reply
   * to one of our messages still on its way waits for it.
   */
  replyTo?: string;
}

/** One emoji on a message, as the timeline shows it. */
export interface TimelineReaction extends Reaction {
  /** This user is among `userIds`. */
  mine: boolean;
}

/** What a reply shows of its original, as that message is now. */
export interface ReplyQuote {
  senderId: string;
  senderName: string;
  /** The start of its content (its file name for an attachment without caption); '' once deleted. */
  excerpt: string;
  /** The original was deleted. */
  deleted: boolean;
}

/** Why a message failed, or why our change to it (`change`) was refused and undone. */
export interface TimelineError extends ParleyError {
  /** The change of ours that was refused (or not answered: code `timeout`) and undone. */
  change?: 'edit' | 'delete' | 'react' | 'unreact';
}

/**
 * A line of a room's timeline: a confirmed message, or one of ours still
 * pending. Edits, deletes and reactions of ours show at once
 * (`changePending` until the server confirms them).
 */
export interface TimelineMessage extends Omit<
  Message,
  'id' | 'seq' | 'type' | 'updatedAt' | 'target' | 'deletedAt' | 'reactions' | 'quote'
> {
  /** Stable from the optimistic render to the confirmed message: use it as the React key. */
  key: string;
  id?: string;
  seq?: number;
  type: TimelineMessageType;
  /** When it was last edited; `edited` says whether it was. */
  updatedAt?: number;
  edited: boolean;
  /** When it was deleted; `deleted` says whether it is a tombstone (no content, metadata or reactions). */
  deletedAt?: number;
  deleted: boolean;
  /** Its reactions, in the order they first came; empty when none. */
  reactions: TimelineReaction[];
  /**
   * With `replyTo` (the original's id, or its key while it is one of our
   * messages still on its way): what the reply shows of the original, from
   * the original itself while the timeline holds it, else as the server
   * quoted it; null when neither is known.
   */
  quote?: ReplyQuote | null;
  status: MessageStatus;
  mine: boolean;
  /** Names of the other members who have read it (our own messages). */
  readBy: string[];
  /**
   * A send waiting for its attachment's upload (sendAttachment): `metadata.url`
   * is a local preview (an object URL) until then, and the room's later
   * messages wait behind it.
   */
  held: boolean;
  /** Changes of ours (edit, delete, reaction) are shown and not confirmed yet. */
  changePending: boolean;
  /** Why it failed (status `failed`), the last transient refusal, or why a change of ours was undone. */
  error?: TimelineError;
}

/** What an upload function gives back: where the file now is (`url`), and anything it learnt about it. */
export interface UploadResult {
  /** An https: URL, or a path on the app's own origin ("/uploads/..."): parleyd refuses anything else. */
  url: string;
  thumbnailUrl?: string;
  fileName?: string;
  fileSize?: number;
  mimeType?: string;
  width?: number;
  height?: number;
}

/** Uploads a file to the app's own storage (see sendAttachment). */
export type UploadFunction = (
  file: Blob,
  info: {
    roomId: string;
    /** The message's timeline key. */
    key: string;
    fileName: string;
    mimeType: string;
    fileSize: number;
    /** Aborted when the message is deleted or discarded meanwhile, or the client disposed. */
    signal: AbortSignal;
  },
) => Promise<UploadResult>;

/** sendAttachment's options. */
export interface AttachmentOptions {
  /** Shown with the file (the message's content); default ''. */
  caption?: string;
  /** As MessageDraft.replyTo. */
  replyTo?: string;
  /** `image` (the default for image/* files whose size can be read) or `file`. */
  type?: 'image' | 'file';
  /** The image's size in pixels; read from the file in browsers when not given. */
  width?: number;
  height?: number;
  /** Default: the file's `name`, else "file". */
  fileName?: string;
  /**
   * This upload's function, instead of ClientOptions.upload. An upload that
   * must survive a reload needs ClientOptions.upload: a function given here
   * is not kept across reloads.
   */
  upload?: UploadFunction;
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
