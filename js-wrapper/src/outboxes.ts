// The offline queues of several tabs of one user on one device (one store).
//
// Each client (a tab, usually) keeps its queue under a key of its own,
// `outbox:<id>`, and holds the Web Lock `<scope>:outbox:<id>` for as long as
// it lives: the browser releases it when the tab closes, crashes or reloads.
// A queue whose lock is free belongs to a client that is gone. The first
// client to take that lock adopts the queue: its core adds the messages
// (with their original clientMsgIds, so the server's dedup on (sender,
// clientMsgId) keeps each message once even if it was already sent),
// saves them under its own key, and only then deletes the old key. A queue
// of a tab that is still open is watched: the lock is asked for, and the
// browser grants it when that tab goes. Clients learn of each other's queues
// at start, on every reconnect, and through a BroadcastChannel when one
// saves its queue for the first time.
//
// Without Web Locks (old browsers, Node) a client adopts every other queue it
// finds at start: right for one tab (or a reload), and still exactly once
// with several, through the server's dedup.
import type { BlobStore } from './storage.js';

export const OUTBOX = 'outbox';

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// The tab id of an outbox key ('' for the single key of older versions), or null.
function tabOf(key: string): string | null {
  if (key === OUTBOX) return '';
  return key.startsWith(`${OUTBOX}:`) ? key.slice(OUTBOX.length + 1) : null;
}

export class Outboxes {
  /** This client's key. */
  readonly key: string;
  private readonly id = randomId();
  private readonly watched = new Set<string>();
  private readonly stop = new AbortController();
  private releaseOwn: (() => void) | null = null;
  private channel: BroadcastChannel | null = null;
  private announced = false;

  /**
   * `adopt` hands a gone client's queue to this client's core and resolves
   * to true once it is saved under this client's key (false: not adopted,
   * e.g. another user's, so it is left where it is).
   */
  constructor(
    private readonly store: BlobStore,
    private readonly scope: string,
    private readonly locks: LockManager | null,
    private readonly adopt: (blob: Uint8Array) => Promise<boolean>,
  ) {
    this.key = `${OUTBOX}:${this.id}`;
  }

  private lockName(id: string): string {
    return `${this.scope}:${OUTBOX}:${id}`;
  }

  /** Takes this client's lock, then adopts or watches the other queues in `saved`. */
  async start(saved: Map<string, Uint8Array>): Promise<void> {
    if (this.locks) {
      await new Promise<void>((held) => {
        void this.locks!.request(this.lockName(this.id), () => {
          held();
          return new Promise<void>((release) => (this.releaseOwn = release));
        });
      });
    }
    // (Without locks a client could not tell a live queue from a gone one.)
    if (this.locks && typeof BroadcastChannel !== 'undefined') {
      this.channel = new BroadcastChannel(`${this.scope}:${OUTBOX}`);
      this.channel.onmessage = (e: MessageEvent) => {
        if (typeof e.data === 'string') void this.watch(e.data);
      };
    }
    await Promise.all([...saved.keys()].map((key) => this.watch(key)));
  }

  /** Looks for queues again (after a reconnect). */
  async rescan(): Promise<void> {
    if (this.stop.signal.aborted) return;
    const saved = await this.store.loadAll().catch(() => new Map<string, Uint8Array>());
    await Promise.all([...saved.keys()].map((key) => this.watch(key)));
  }

  /** Tells the other tabs that this client's queue exists (once). */
  saved(): void {
    if (this.announced || !this.channel) return;
    this.announced = true;
    this.channel.postMessage(this.key);
  }

  /** Stops watching and releases this client's lock (its queue is then another's to adopt). */
  dispose(): void {
    this.stop.abort();
    this.channel?.close();
    this.channel = null;
    this.releaseOwn?.();
    this.releaseOwn = null;
  }

  // Adopts the queue under `key` now if its client is gone, or when it goes.
  // Resolves after the first look (so that a start adopts what it can first).
  private watch(key: string): Promise<void> {
    const tab = tabOf(key);
    if (tab === null || key === this.key || this.watched.has(key) || this.stop.signal.aborted) return Promise.resolve();
    this.watched.add(key);
    const done = () => this.watched.delete(key);
    if (!this.locks) return this.take(key).finally(done);
    const locks = this.locks;
    const name = this.lockName(tab);
    return new Promise<void>((looked) => {
      locks
        .request(name, { ifAvailable: true }, async (lock) => {
          if (lock) {
            await this.take(key);
            done();
            return looked();
          }
          looked();
          // Still open: granted when that tab goes.
          locks
            .request(name, { signal: this.stop.signal }, () => this.take(key))
            .catch(() => {}) // aborted: this client stopped
            .finally(done);
        })
        .catch(() => {
          done();
          looked();
        });
    });
  }

  private async take(key: string): Promise<void> {
    if (this.stop.signal.aborted) return;
    // Read again under the lock: another client may have adopted it meanwhile.
    const blob = (await this.store.loadAll().catch(() => new Map<string, Uint8Array>())).get(key);
    if (!blob || this.stop.signal.aborted) return;
    if (await this.adopt(blob)) await this.store.delete(key).catch(() => {});
  }
}
