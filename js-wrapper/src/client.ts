// The Parley client: runs the WebAssembly core and performs its effects with
// the browser (WebSocket, timers, IndexedDB, online/offline and visibility
// events, the app's getToken). All decisions (when to connect, what to send,
// what the timeline shows) are the core's; this file carries them out and
// keeps the latest views for subscribers such as the React hooks.
import { Attachments, imageSize, objectUrl } from './attachments.js';
import { type Command, CoreHandle, type Effect } from './core.js';
import { CLIENT_NAME, CLIENT_VERSION } from './generated/version.js';
import { OUTBOX, Outboxes } from './outboxes.js';
import { NewMessages, share } from './snapshots.js';
import { defaultStore, type BlobStore } from './storage.js';
import type {
  AttachmentOptions,
  Clock,
  ConnectionSnapshot,
  MessageDraft,
  Metadata,
  ParleyError,
  RoomSnapshot,
  TimelineMessage,
  TokenResult,
  UploadFunction,
} from './types.js';
import { loadCore } from './wasm-loader.js';

export interface ClientOptions {
  /** WebSocket URL of parleyd, e.g. `wss://chat.example.com/ws`. */
  url: string;
  /**
   * Returns a JWT for this user; called when the core needs one (first
   * connection, after the server refused one, and before the current one
   * expires). Return null when there is none to get (e.g. the user signed
   * out): the client closes with `unauthorized`. Three failures in a row
   * close it too. The expiry is the JWT's `exp`, unless the provider returns
   * `{ token, expiresAt }` (ms since the epoch); a token with an expiry is
   * refreshed before it, on the open connection.
   */
  getToken: () => TokenResult | Promise<TokenResult>;
  /**
   * Where queued messages and the room cache survive a reload: IndexedDB in
   * browsers by default (database `parley:<storageKey>`), memory elsewhere.
   */
  storage?: BlobStore;
  /** Names the IndexedDB database, e.g. per user; default "default". */
  storageKey?: string;
  /** Outside browsers (tests, Node): the bytes of parley-core.wasm. */
  wasmBinary?: ArrayBuffer | Uint8Array;
  /** Outside browsers: a WebSocket implementation (e.g. the `ws` package). */
  WebSocket?: typeof WebSocket;
  /** Reconnection backoff (full jitter): delays drawn from [0, min(capMs, baseMs · 2^attempt)]. */
  reconnect?: {
    /** Ceiling of the first retry's delay; default 500 ms. */
    baseMs?: number;
    /** Largest delay; default 10 000 ms. */
    capMs?: number;
    /** A connection up this long starts the backoff over; default 5 000 ms. */
    stableAfterMs?: number;
  };
  /** Unsent messages kept in the offline queue; more are refused with `queue_full`. Default 1000. */
  queueLimit?: number;
  /**
   * A connection attempt not welcomed by the server within this time (the
   * socket never opens, or opens and carries nothing) is closed and retried
   * after the backoff. Default 10 000 ms.
   */
  handshakeTimeoutMs?: number;
  /**
   * The time and timers every decision of the client runs on (backoff,
   * heartbeats, token refresh, typing expiry, send pacing). Default: Date.now
   * and the global setTimeout; tests pass a fake one.
   */
  clock?: Clock;
  /** Called once for each message that arrives (see ParleyClient.onMessage), e.g. to notify. */
  onMessage?: (message: TimelineMessage) => void;
  /**
   * Uploads an attachment to the app's own storage and resolves to where it
   * is (see sendAttachment). Given here (rather than per call), it also
   * uploads what was queued before a reload.
   */
  upload?: UploadFunction;
  /**
   * An edit, delete or reaction the server has not answered this long after
   * it went out is undone (error code `timeout`). Default 10 000 ms.
   */
  changeTimeoutMs?: number;
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

// The core's settings from the options, checked here so that a bad value is
// a clear error at createClient() rather than a surprise later.
function coreSettings(options: ClientOptions): Record<string, number> {
  const out: Record<string, number> = {};
  const take = (name: string, key: string, value: number | undefined, min: number) => {
    if (value === undefined) return;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new TypeError(`parley: ${name} must be an integer of at least ${min}, not ${String(value)}`);
    }
    out[key] = value;
  };
  const r = options.reconnect ?? {};
  take('reconnect.baseMs', 'backoffBaseMs', r.baseMs, 1);
  take('reconnect.capMs', 'backoffCapMs', r.capMs, 1);
  take('reconnect.stableAfterMs', 'stableAfterMs', r.stableAfterMs, 0);
  take('queueLimit', 'queueLimit', options.queueLimit, 1);
  take('handshakeTimeoutMs', 'handshakeTimeoutMs', options.handshakeTimeoutMs, 1);
  take('changeTimeoutMs', 'changeTimeoutMs', options.changeTimeoutMs, 1);
  if ((out.backoffCapMs ?? 10_000) < (out.backoffBaseMs ?? 500)) {
    throw new TypeError('parley: reconnect.capMs must not be less than reconnect.baseMs');
  }
  return out;
}

type Listener = () => void;

/** The connection view before the core has said anything (also the server-rendering snapshot). */
export const INITIAL_CONNECTION: ConnectionSnapshot = Object.freeze({
  state: 'idle',
  attempt: 0,
  nextAttemptAt: null,
  lastError: null,
  user: null,
  announcement: null,
  limits: null,
});

const emptyRooms = new Map<string, RoomSnapshot>();
function emptyRoom(roomId: string): RoomSnapshot {
  let room = emptyRooms.get(roomId);
  if (!room) {
    room = Object.freeze({
      roomId,
      joined: false,
      messages: [],
      members: [],
      typing: [],
      hasMore: false,
      loadingOlder: false,
    });
    emptyRooms.set(roomId, room);
  }
  return room;
}

/** The `exp` of a JWT in ms since the epoch, if it has one. */
function jwtExpiry(token: string): number | undefined {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const { exp } = JSON.parse(atob(payload)) as { exp?: unknown };
    return typeof exp === 'number' && Number.isFinite(exp) ? Math.floor(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

// The core's setToken command; the expiry from the JWT unless given.
function tokenCommand({ token, expiresAt }: { token: string; expiresAt?: number }): Command {
  const at = expiresAt ?? jwtExpiry(token);
  return at === undefined ? { op: 'setToken', token } : { op: 'setToken', token, expiresAt: Math.floor(at) };
}

function failedConnection(error: ParleyError): ConnectionSnapshot {
  return Object.freeze({
    ...INITIAL_CONNECTION,
    state: 'failed',
    lastError: Object.freeze(error),
  });
}

// Why the core would not queue a send or a change (its SendRefusal), in words.
const REFUSALS: Record<string, string> = {
  not_found: 'no such message in the timeline (or it was deleted)',
  forbidden: 'only its sender can edit a message',
  bad_request: 'not a single emoji',
  too_large: 'the text is longer than the protocol allows',
};

/**
 * Thrown by send() when the offline queue is full (code `queue_full`), and by
 * edit(), deleteMessage() and react() when there is nothing to change
 * (`not_found`), the change is not ours to make (`forbidden`: editing another
 * user's message), or is not one (`bad_request`: react with something that
 * is not an emoji; `too_large`: an edit too long).
 */
export class ParleyClientError extends Error {
  constructor(readonly error: ParleyError) {
    super(error.message);
    this.name = 'ParleyClientError';
  }
}

export class ParleyClient {
  private core: CoreHandle | null = null;
  private loading: Promise<CoreHandle> | null = null;
  private readonly store: BlobStore;
  private readonly sockets = new Map<number, WebSocket>();
  private readonly timers = new Map<number, unknown>();
  private readonly clock: Clock;
  private readonly views = new Map<string, unknown>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  private disposed = false;
  private detachWindow: (() => void) | null = null;
  private readonly settings: Record<string, number>;
  // Rooms held by useRoom (how many), and rooms the app joined itself.
  private readonly holds = new Map<string, number>();
  private readonly joinedByApp = new Set<string>();
  // This client's queue among the other tabs' (created when the core loads).
  private readonly scope: string;
  private outboxes: Outboxes | null = null;
  // The last write to the store (writes complete in order).
  private lastWrite: Promise<void> = Promise.resolve();
  // The store is being or was deleted: nothing is written any more.
  private erased = false;
  private unsubscribeStore: (() => void) | null = null;
  private wasConnected = false;
  private readonly newMessages = new NewMessages();
  private readonly messageListeners = new Set<(message: TimelineMessage) => void>();
  private readonly attachments: Attachments;

  /** Creating a client has no side effects: nothing is loaded, opened or listened to before connect(). */
  constructor(private readonly options: ClientOptions) {
    this.settings = coreSettings(options);
    this.clock = options.clock ?? realClock;
    this.scope = `parley:${options.storageKey ?? 'default'}`;
    this.store = options.storage ?? defaultStore(this.scope);
    if (options.onMessage) this.messageListeners.add(options.onMessage);
    this.attachments = new Attachments({
      store: this.store,
      upload: () => this.options.upload,
      online: () => this.getConnection().state === 'connected' && !this.disposed,
      attach: (roomId, key, metadata) => this.call({ op: 'attach', roomId, key, metadata }),
      changed: (roomId) => this.markDirty(`room:${roomId}`),
    });
  }

  /** Starts connecting (loading the core and the saved state first if needed). */
  connect(): void {
    if (!this.disposed) this.detachWindow ??= this.attachWindowEvents();
    void this.call({ op: 'connect' });
  }

  /**
   * Hands the client a new token (e.g. after the user signed in again): an
   * open connection takes it in place, a connection closed because its token
   * was refused starts over with it. `expiresAt` (ms since the epoch)
   * defaults to the JWT's `exp`.
   */
  setToken(token: string, expiresAt?: number): void {
    void this.call(tokenCommand({ token, expiresAt }));
  }

  /** Closes the connection; queued messages stay queued. */
  disconnect(): void {
    void this.call({ op: 'disconnect' });
  }

  /**
   * Skips the wait of a reconnection backoff; a connection closed for a
   * refused token starts over (asking getToken); after the core failed to
   * load (state `failed`) it is loaded again.
   */
  reconnectNow(): void {
    void this.call({ op: this.getConnection().state === 'failed' ? 'connect' : 'reconnectNow' });
  }

  /** Joins a room (and rejoins it after every reconnect) until leave(). */
  join(roomId: string): void {
    this.joinedByApp.add(roomId);
    void this.call({ op: 'join', roomId });
  }

  /** Leaves a room (unless a mounted useRoom still shows it). */
  leave(roomId: string): void {
    this.joinedByApp.delete(roomId);
    if (!this.holds.get(roomId)) void this.call({ op: 'leave', roomId });
  }

  /**
   * Keeps a room joined until the returned release is called (what useRoom
   * does while mounted). The room is left when the last holder lets go,
   * unless join() joined it, or a new holder comes in the same tick (React
   * Strict Mode's unmount and mount).
   */
  hold(roomId: string): () => void {
    const count = this.holds.get(roomId) ?? 0;
    this.holds.set(roomId, count + 1);
    if (count === 0) void this.call({ op: 'join', roomId });
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.holds.set(roomId, (this.holds.get(roomId) ?? 1) - 1);
      this.clock.setTimeout(() => {
        if (this.holds.get(roomId) || this.joinedByApp.has(roomId) || this.disposed) return;
        this.holds.delete(roomId);
        void this.call({ op: 'leave', roomId });
      }, 0);
    };
  }

  /**
   * Sends a message (text, or a draft with a type and metadata; a reply
   * names its original in `replyTo`). It shows at once in the room's
   * timeline; resolves to its timeline key. Rejects with a ParleyClientError
   * (code queue_full) when too many messages wait.
   */
  async send(roomId: string, message: string | MessageDraft): Promise<string> {
    const draft = typeof message === 'string' ? { content: message } : message;
    return this.queued(await this.call({ op: 'send', roomId, ...draft }));
  }

  /**
   * Sends a file the app has not uploaded yet: the message shows at once
   * (`held`, with a local preview as `metadata.url`, and for images the
   * width and height read from the file), the file is kept with the offline
   * queue (IndexedDB: a reload does not lose it), and once connected the
   * upload function (`options.upload`, else ClientOptions.upload) puts it
   * in the app's storage; its result (`url`, ...) then replaces the preview
   * and the message goes, in its place: the room's later messages wait
   * behind it. A failed upload shows the message `failed` (code
   * `upload_failed`): retry() uploads again, discard() drops it. Resolves to
   * the timeline key.
   */
  async sendAttachment(roomId: string, file: Blob, options: AttachmentOptions = {}): Promise<string> {
    const fileName = options.fileName ?? ((file as Partial<File>).name || 'file');
    const mimeType = file.type || 'application/octet-stream';
    const image = mimeType.startsWith('image/');
    let { width, height } = options;
    if (image && (width === undefined || height === undefined) && options.type !== 'file') {
      ({ width, height } = (await imageSize(file)) ?? {});
    }
    const type = options.type ?? (image && width && height ? 'image' : 'file');
    const metadata: Metadata = { fileName, fileSize: file.size, mimeType };
    if (type === 'image') Object.assign(metadata, { width, height });
    const preview = objectUrl(file);
    const draft = {
      type,
      content: options.caption ?? '',
      metadata: { ...metadata, url: preview },
      replyTo: options.replyTo,
    };
    // Taken up before the view is read, which shows the held message.
    const result = await this.call({ op: 'send', roomId, ...draft, held: true }, (r) => {
      if (r.ok) this.attachments.add(roomId, String(r.key), file, metadata, preview, options.upload);
    });
    if (!result.ok && preview) URL.revokeObjectURL(preview);
    return this.queued(result);
  }

  /**
   * Replaces the text of a message of ours (its caption for an attachment).
   * Shown at once; undone, with the reason in the message's `error`, if the
   * server refuses it or does not answer in time. A message still waiting in
   * the queue is changed itself. Rejects with a ParleyClientError if there
   * is nothing to edit (see ParleyClientError).
   */
  async edit(roomId: string, key: string, content: string): Promise<void> {
    await this.changed(this.call({ op: 'edit', roomId, key, content }));
  }

  /**
   * Deletes a message (ours, or any as the room's owner or admin: the server
   * decides). It shows as a tombstone at once (`deleted`), undone if
   * refused. A message of ours still waiting in the queue is simply dropped.
   */
  async deleteMessage(roomId: string, key: string): Promise<void> {
    await this.changed(this.call({ op: 'remove', roomId, key }));
    this.attachments.forget(key);
  }

  /** Adds our reaction `emoji` to a message, or takes it back if it is there (a toggle). */
  async react(roomId: string, key: string, emoji: string): Promise<void> {
    await this.changed(this.call({ op: 'react', roomId, key, emoji }));
  }

  /** Sends a failed message again (a failed upload: uploads again). */
  retry(roomId: string, key: string): void {
    if (!this.attachments.retry(key)) void this.call({ op: 'retry', roomId, key });
  }

  /** Drops a failed or queued message. */
  discard(roomId: string, key: string): void {
    this.attachments.forget(key);
    void this.call({ op: 'discard', roomId, key });
  }

  // The key of what the core queued, or the reason it did not, as an error.
  private queued(result: Record<string, unknown>): string {
    if (result.code === 'load_failed') throw new ParleyClientError(this.getConnection().lastError!);
    if (result.code === 'queue_full') {
      const limit = this.settings.queueLimit ?? 1000;
      throw new ParleyClientError({ code: 'queue_full', message: `${limit} messages are already waiting to be sent` });
    }
    if (typeof result.code === 'string' && result.code in REFUSALS) {
      throw new ParleyClientError({ code: result.code as ParleyError['code'], message: REFUSALS[result.code] });
    }
    if (!result.ok) throw new Error(`parley: send failed (${String(result.error)})`);
    return String(result.key);
  }

  private async changed(result: Promise<Record<string, unknown>>): Promise<void> {
    this.queued(await result);
  }

  /** Fetches the page of history before the oldest message shown. */
  loadOlder(roomId: string): void {
    void this.call({ op: 'loadOlder', roomId });
  }

  /** Call on every keystroke (true) and when the draft is cleared (false); throttled by the core. */
  setTyping(roomId: string, active: boolean): void {
    void this.call({ op: 'setTyping', roomId, active });
  }

  /** Everything up to `seq` has been seen; coalesced into one receipt. */
  markRead(roomId: string, seq: number): void {
    void this.call({ op: 'markRead', roomId, seq });
  }

  setPresence(status: 'online' | 'idle' | 'away'): void {
    void this.call({ op: 'setPresence', status });
  }

  getConnection(): ConnectionSnapshot {
    return (this.views.get('connection') as ConnectionSnapshot | undefined) ?? INITIAL_CONNECTION;
  }

  getRoom(roomId: string): RoomSnapshot {
    return (this.views.get(`room:${roomId}`) as RoomSnapshot | undefined) ?? emptyRoom(roomId);
  }

  /** Calls `listener` when the view `topic` ("connection" or "room:<id>") changes. */
  subscribe(topic: string, listener: Listener): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Calls `listener` once for each message that arrives in a room, e.g. to
   * show a notification: a message the server stored after the room was first
   * joined, from another member or from this user on another device or tab
   * (`mine`), including those that come in when the room is joined again
   * after a reconnect. Not this client's own sends, nor what a room shows
   * when first joined, nor older pages (loadOlder). Called after the room's
   * snapshot shows it. Returns the unsubscribe.
   */
  onMessage(listener: (message: TimelineMessage) => void): () => void {
    this.messageListeners.add(listener);
    return () => this.messageListeners.delete(listener);
  }

  /**
   * Signs out on this device: disconnects, and deletes everything the client
   * stored for this user (the offline queues of every tab, unsent receipts,
   * the room cache), so the next person on the device finds nothing. Clients
   * of other tabs on the same store stop (state `closed`, lastError
   * `unauthorized`). Messages still queued are dropped. The client cannot be
   * used afterwards. Resolves once the stored state is deleted.
   */
  async signOut(): Promise<void> {
    this.erased = true;
    this.shutDown();
    // Deleted while this client still holds its lock, so that no other tab
    // adopts its queue in between; released after.
    await this.lastWrite.catch(() => {});
    await this.store.destroy();
    this.release();
    this.showSignedOut();
  }

  /** Disconnects and releases everything; the client cannot be used afterwards. */
  dispose(): void {
    this.shutDown();
    this.release();
  }

  // Stops all activity: sockets, timers, window events, the core.
  private shutDown(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.attachments.dispose();
    this.detachWindow?.();
    this.detachWindow = null;
    for (const ws of this.sockets.values()) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close(1000, 'client disposed');
    }
    this.sockets.clear();
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
    this.core?.dispose();
    this.core = null;
  }

  // Lets go of this client's queue (another tab's to adopt now) and the store.
  private release(): void {
    this.outboxes?.dispose();
    this.unsubscribeStore?.();
    this.unsubscribeStore = null;
  }

  // ------------------------------------------------------------- internals

  private coreReady(): Promise<CoreHandle> {
    if (this.loading) return this.loading;
    const loading = (async () => {
      const [m, saved] = await Promise.all([
        loadCore({ wasmBinary: this.options.wasmBinary }),
        this.store.loadAll().catch(() => new Map<string, Uint8Array>()),
      ]);
      const seed = crypto.getRandomValues(new Uint32Array(2));
      const core = new CoreHandle(m, {
        url: this.options.url,
        seed: seed[0] * 2 ** 21 + (seed[1] & 0x1fffff),
        clientName: CLIENT_NAME,
        clientVersion: CLIENT_VERSION,
        ...this.settings,
      });
      if (this.disposed) {
        core.dispose();
        return core;
      }
      this.core = core;
      // The room cache (any tab's newest), then the queues of tabs that are
      // gone (adopted) or still open (watched until they go).
      const rooms = saved.get('rooms');
      if (rooms) core.restore('rooms', rooms, this.clock.now());
      const locks = typeof navigator !== 'undefined' && navigator.locks ? navigator.locks : null;
      this.outboxes = new Outboxes(this.store, this.scope, locks, (blob) => this.adopt(core, blob));
      this.unsubscribeStore = this.store.onDestroyed?.(() => this.signedOutElsewhere()) ?? null;
      await this.outboxes.start(saved);
      return core;
    })();
    this.loading = loading;
    loading.catch((error: unknown) => this.loadFailed(error));
    return loading;
  }

  // The WebAssembly core could not be loaded (a 404, a CSP without
  // 'wasm-unsafe-eval', ...): the connection says so, state `failed`.
  private loadFailed(error: unknown): void {
    this.loading = null; // connect() or reconnectNow() tries again
    if (this.disposed) return;
    const reason = error instanceof Error ? error.message : String(error);
    console.error('parley: could not load the client core', error);
    this.views.set(
      'connection',
      failedConnection({ code: 'load_failed', message: `could not load the client core: ${reason}` }),
    );
    this.emit('connection');
  }

  // Another client deleted the store (signed out in another tab): stop, show nothing.
  private signedOutElsewhere(): void {
    if (this.disposed) return;
    this.erased = true;
    this.shutDown();
    this.release();
    this.showSignedOut();
  }

  // Closed, unauthorized; no rooms.
  private showSignedOut(): void {
    this.views.clear();
    this.views.set(
      'connection',
      Object.freeze({
        ...INITIAL_CONNECTION,
        state: 'closed',
        lastError: Object.freeze({ code: 'unauthorized', message: 'signed out on this device' }),
      }),
    );
    for (const topic of this.listeners.keys()) this.emit(topic);
  }

  // Hands a gone tab's queue to the core; true once it is saved under this client's key.
  private async adopt(core: CoreHandle, blob: Uint8Array): Promise<boolean> {
    if (this.disposed || this.erased) return false;
    const adopted = core.restore(OUTBOX, blob, this.clock.now());
    this.perform(core.takeEffects());
    await this.lastWrite;
    return adopted;
  }

  private emit(topic: string): void {
    for (const listener of this.listeners.get(topic) ?? []) listener();
  }

  // `then` sees the result before the effects are performed (and so before
  // any view it changed is read).
  private async call(op: Command, then?: (result: Record<string, unknown>) => void): Promise<Record<string, unknown>> {
    // After a failed load only connect() (or reconnectNow()) loads again.
    if (this.getConnection().state === 'failed' && op.op !== 'connect') return { ok: false, code: 'load_failed' };
    let core: CoreHandle;
    try {
      core = await this.coreReady();
    } catch {
      return { ok: false, code: 'load_failed' };
    }
    if (this.disposed) return { ok: false, error: 'the client was disposed' };
    const result = core.command(op, this.clock.now());
    then?.(result);
    this.perform(core.takeEffects());
    return result;
  }

  // Runs an input on the core (if it is loaded) and performs what it asks.
  private input(fn: (core: CoreHandle, now: number) => void): void {
    const core = this.core;
    if (!core || this.disposed) return;
    fn(core, this.clock.now());
    this.perform(core.takeEffects());
  }

  private perform(effects: Effect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'open':
          this.open(e.socket, e.url, e.subprotocol);
          break;
        case 'send': {
          const ws = this.sockets.get(e.socket);
          if (ws && ws.readyState === 1) ws.send(e.frame);
          break;
        }
        case 'close':
          this.closeSocket(e.socket, e.code, e.reason);
          break;
        case 'timer': {
          this.clock.clearTimeout(this.timers.get(e.timer));
          this.timers.set(
            e.timer,
            this.clock.setTimeout(() => {
              this.timers.delete(e.timer);
              this.input((core, now) => core.timerFired(e.timer, now));
            }, e.delayMs),
          );
          break;
        }
        case 'cancel':
          this.clock.clearTimeout(this.timers.get(e.timer));
          this.timers.delete(e.timer);
          break;
        case 'persist': {
          if (this.erased) break;
          const own = e.key === OUTBOX;
          const write = this.store.put(own ? (this.outboxes?.key ?? OUTBOX) : e.key, e.blob);
          this.lastWrite = write;
          write.then(
            () => own && this.outboxes?.saved(),
            (error: unknown) => console.error('parley: could not save state', error),
          );
          break;
        }
        case 'token':
          this.fetchToken();
          break;
        case 'notify':
          this.markDirty(e.topic);
          break;
      }
    }
  }

  private open(socket: number, url: string, subprotocol: string): void {
    const Impl = this.options.WebSocket ?? globalThis.WebSocket;
    let ws: WebSocket;
    try {
      ws = new Impl(url, [subprotocol]);
    } catch {
      queueMicrotask(() => this.input((core, now) => core.socketClosed(socket, 1006, now)));
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.sockets.set(socket, ws);
    // A failed connection reports `error` then `close`; the close is what counts.
    ws.onerror = () => {};
    // The core checks the subprotocol the server chose.
    ws.onopen = () => this.input((core, now) => core.socketOpened(socket, now, ws.protocol));
    ws.onmessage = (event: MessageEvent<string | ArrayBuffer>) =>
      this.input((core, now) => core.received(socket, event.data, now));
    ws.onclose = (event: CloseEvent) => {
      this.sockets.delete(socket);
      this.input((core, now) => core.socketClosed(socket, event.code, now));
    };
  }

  private closeSocket(socket: number, code: number, reason: string): void {
    const ws = this.sockets.get(socket);
    if (!ws) return;
    this.sockets.delete(socket);
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {};
    // Browsers only let pages send 1000 and 3000-4999.
    ws.close(code === 1000 || (code >= 3000 && code <= 4999) ? code : 1000, reason.slice(0, 120));
  }

  private fetchToken(): void {
    Promise.resolve()
      .then(() => this.options.getToken())
      .then(
        (result) => {
          const token = typeof result === 'string' ? { token: result } : result;
          this.input((core, now) =>
            core.command(token?.token ? tokenCommand(token) : { op: 'tokenFailed', refused: true }, now),
          );
        },
        (error: unknown) => {
          console.error('parley: getToken failed', error);
          this.input((core, now) => core.command({ op: 'tokenFailed' }, now));
        },
      );
  }

  private markDirty(topic: string): void {
    this.dirty.add(topic);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  // Re-reads each changed view once per tick, however many inputs changed it;
  // what did not change keeps its objects (share), and an unchanged view
  // notifies no one.
  private flush(): void {
    this.flushScheduled = false;
    const core = this.core;
    if (!core || this.disposed) return;
    const topics = [...this.dirty];
    this.dirty.clear();
    const arrived: TimelineMessage[] = [];
    for (const topic of topics) {
      const prev = this.views.get(topic);
      const view = core.view(topic) as RoomSnapshot | null;
      if (topic.startsWith('room:') && view) {
        // Held sends show their local preview and their upload's state.
        for (const m of view.messages) if (m.held) this.attachments.present(view.roomId, m);
      }
      const next = share(prev, view);
      if (next === prev) continue;
      this.views.set(topic, next);
      if (topic.startsWith('room:')) arrived.push(...this.newMessages.take(prev as RoomSnapshot, next as RoomSnapshot));
      this.emit(topic);
    }
    for (const message of arrived) {
      for (const listener of [...this.messageListeners]) {
        try {
          listener(message);
        } catch (error) {
          console.error('parley: an onMessage listener failed', error);
        }
      }
    }
    // Each reconnect looks for queues of tabs that went meanwhile.
    const connected = this.getConnection().state === 'connected';
    if (connected && !this.wasConnected) {
      void this.outboxes?.rescan();
      this.attachments.pump();
    }
    this.wasConnected = connected;
  }

  private attachWindowEvents(): () => void {
    if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return () => {};
    const online = () => this.input((core, now) => core.command({ op: 'online' }, now));
    const offline = () => this.input((core, now) => core.command({ op: 'offline' }, now));
    // A tab coming back to the foreground should not wait out a long backoff.
    const visible = () => {
      if (document.visibilityState === 'visible' && this.getConnection().state === 'reconnecting') this.reconnectNow();
    };
    window.addEventListener('online', online);
    window.addEventListener('offline', offline);
    document.addEventListener('visibilitychange', visible);
    return () => {
      window.removeEventListener('online', online);
      window.removeEventListener('offline', offline);
      document.removeEventListener('visibilitychange', visible);
    };
  }
}

/** Creates a client. Nothing is loaded or opened until `connect()`. */
export function createClient(options: ClientOptions): ParleyClient {
  return new ParleyClient(options);
}
