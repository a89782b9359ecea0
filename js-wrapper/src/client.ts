// The Parley client: runs the WebAssembly core and performs its effects with
// the browser (WebSocket, timers, IndexedDB, online/offline and visibility
// events, the app's getToken). All decisions (when to connect, what to send,
// what the timeline shows) are the core's; this file carries them out and
// keeps the latest views for subscribers such as the React hooks.
import { CoreHandle, type Effect } from './core.js';
import { defaultStore, type BlobStore } from './storage.js';
import type { ConnectionSnapshot, MessageDraft, ParleyError, RoomSnapshot } from './types.js';
import { loadCore } from './wasm-loader.js';

export interface ClientOptions {
  /** WebSocket URL of parleyd, e.g. `wss://chat.example.com/ws`. */
  url: string;
  /** Returns a JWT for this user; called when the core needs one (first connection, after the server refused one). */
  getToken: () => string | Promise<string>;
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
}) as ConnectionSnapshot;

const emptyRooms = new Map<string, RoomSnapshot>();
function emptyRoom(roomId: string): RoomSnapshot {
  let room = emptyRooms.get(roomId);
  if (!room) {
    room = Object.freeze({ roomId, joined: false, messages: [], members: [], typing: [], hasMore: false, loadingOlder: false }) as RoomSnapshot;
    emptyRooms.set(roomId, room);
  }
  return room;
}

const textDecoder = new TextDecoder();

/** Thrown by send() when the offline queue is full. */
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
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  private readonly views = new Map<string, unknown>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly dirty = new Set<string>();
  private flushScheduled = false;
  private disposed = false;
  private readonly detachWindow: () => void;

  constructor(private readonly options: ClientOptions) {
    this.store = options.storage ?? defaultStore(`parley:${options.storageKey ?? 'default'}`);
    this.detachWindow = this.attachWindowEvents();
  }

  /** Starts connecting (loading the core and the saved state first if needed). */
  connect(): void {
    void this.call({ op: 'connect' });
  }

  /** Closes the connection; queued messages stay queued. */
  disconnect(): void {
    void this.call({ op: 'disconnect' });
  }

  /** Skips the wait of a reconnection backoff. */
  reconnectNow(): void {
    void this.call({ op: 'reconnectNow' });
  }

  /** Joins a room (and rejoins it after every reconnect). */
  join(roomId: string): void {
    void this.call({ op: 'join', roomId });
  }

  leave(roomId: string): void {
    void this.call({ op: 'leave', roomId });
  }

  /**
   * Sends a message (text, or a draft with a type and metadata). It shows at
   * once in the room's timeline; resolves to its timeline key. Rejects with a
   * ParleyClientError (code queue_full) when too many messages wait.
   */
  async send(roomId: string, message: string | MessageDraft): Promise<string> {
    const draft = typeof message === 'string' ? { content: message } : message;
    const result = await this.call({ op: 'send', roomId, ...draft });
    if (!result.ok) {
      throw new ParleyClientError({ code: 'queue_full', message: String(result.error) });
    }
    return String(result.key);
  }

  /** Sends a failed message again. */
  retry(roomId: string, key: string): void {
    void this.call({ op: 'retry', roomId, key });
  }

  /** Drops a failed or queued message. */
  discard(roomId: string, key: string): void {
    void this.call({ op: 'discard', roomId, key });
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

  /** Disconnects and releases everything; the client cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.detachWindow();
    for (const ws of this.sockets.values()) {
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close(1000, 'client disposed');
    }
    this.sockets.clear();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.core?.dispose();
    this.core = null;
  }

  // ------------------------------------------------------------- internals

  private coreReady(): Promise<CoreHandle> {
    this.loading ??= (async () => {
      const [m, saved] = await Promise.all([
        loadCore({ wasmBinary: this.options.wasmBinary }),
        this.store.loadAll().catch(() => new Map<string, Uint8Array>()),
      ]);
      const seed = crypto.getRandomValues(new Uint32Array(2));
      const core = new CoreHandle(m, {
        url: this.options.url,
        seed: seed[0] * 2 ** 21 + (seed[1] & 0x1fffff),
        clientName: '@parley/realtime',
        clientVersion: '0.1.0',
      });
      for (const [key, blob] of saved) core.restore(key, blob, Date.now());
      return core;
    })();
    return this.loading;
  }

  private async call(op: Record<string, unknown>): Promise<Record<string, unknown>> {
    const core = (this.core = await this.coreReady());
    if (this.disposed) return { ok: false, error: 'disposed' };
    const result = core.command(op, Date.now());
    this.perform(core.takeEffects());
    return result;
  }

  // Runs an input on the core (if it is loaded) and performs what it asks.
  private input(fn: (core: CoreHandle, now: number) => void): void {
    const core = this.core;
    if (!core || this.disposed) return;
    fn(core, Date.now());
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
          if (ws && ws.readyState === 1) ws.send(e.binary ? e.data.slice() : textDecoder.decode(e.data));
          break;
        }
        case 'close':
          this.closeSocket(e.socket, e.code, e.reason);
          break;
        case 'timer': {
          clearTimeout(this.timers.get(e.timer));
          this.timers.set(
            e.timer,
            setTimeout(() => {
              this.timers.delete(e.timer);
              this.input((core, now) => core.timerFired(e.timer, now));
            }, e.delayMs),
          );
          break;
        }
        case 'cancel':
          clearTimeout(this.timers.get(e.timer));
          this.timers.delete(e.timer);
          break;
        case 'persist':
          this.store.put(e.key, e.blob).catch((error: unknown) => console.error('parley: could not save state', error));
          break;
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
    ws.onopen = () => this.input((core, now) => core.socketOpened(socket, now));
    ws.onmessage = (event: MessageEvent) => this.input((core, now) => core.received(socket, event.data, now));
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
        (token) => this.input((core, now) => core.command({ op: 'setToken', token }, now)),
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

  // Re-reads each changed view once per tick, however many inputs changed it.
  private flush(): void {
    this.flushScheduled = false;
    const core = this.core;
    if (!core || this.disposed) return;
    const topics = [...this.dirty];
    this.dirty.clear();
    for (const topic of topics) {
      this.views.set(topic, Object.freeze(core.view(topic)));
      for (const listener of this.listeners.get(topic) ?? []) listener();
    }
  }

  private attachWindowEvents(): () => void {
    if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return () => {};
    const online = () => this.input((core, now) => core.command({ op: 'online' }, now));
    const offline = () => this.input((core, now) => core.command({ op: 'offline' }, now));
    // A tab coming back to the foreground should not wait out a long backoff.
    const visible = () => {
      if (document.visibilityState === 'visible') this.input((core, now) => core.command({ op: 'reconnectNow' }, now));
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
