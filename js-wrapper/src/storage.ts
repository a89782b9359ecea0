// Where the core's persisted blobs live: IndexedDB in browsers (so a reload
// keeps queued messages), memory elsewhere (Node, tests, private modes that
// refuse IndexedDB). One store holds one user's state on one device: every
// tab's offline queue (`outbox:<tab>`), the room cache (`rooms`), and the
// files of attachments not uploaded yet (beside them, not in loadAll).
export interface BlobStore {
  loadAll(): Promise<Map<string, Uint8Array>>;
  put(key: string, blob: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Deletes everything stored (signing out). Clients of other tabs on the
   * same store are told (onDestroyed) and stop writing.
   */
  destroy(): Promise<void>;
  /** Calls `listener` when another client destroyed the store; returns the unsubscribe. */
  onDestroyed?(listener: () => void): () => void;
  /**
   * Files of attachments waiting for their upload (sendAttachment), by the
   * message's key; loadAll() does not return them. A store without these
   * keeps such files in memory only: a reload loses them (the message then
   * fails with `upload_failed`).
   */
  putFile?(key: string, file: Blob): Promise<void>;
  getFile?(key: string): Promise<Blob | undefined>;
  deleteFile?(key: string): Promise<void>;
}

export class MemoryStore implements BlobStore {
  private readonly blobs = new Map<string, Uint8Array>();
  private readonly files = new Map<string, Blob>();
  private readonly listeners = new Set<() => void>();
  async loadAll(): Promise<Map<string, Uint8Array>> {
    return new Map(this.blobs);
  }
  async put(key: string, blob: Uint8Array): Promise<void> {
    this.blobs.set(key, blob.slice());
  }
  async delete(key: string): Promise<void> {
    this.blobs.delete(key);
  }
  async destroy(): Promise<void> {
    this.blobs.clear();
    this.files.clear();
    for (const listener of [...this.listeners]) listener();
  }
  async putFile(key: string, file: Blob): Promise<void> {
    this.files.set(key, file);
  }
  async getFile(key: string): Promise<Blob | undefined> {
    return this.files.get(key);
  }
  async deleteFile(key: string): Promise<void> {
    this.files.delete(key);
  }
  onDestroyed(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

const STORE = 'blobs';
// Files live in the same object store under keys after every blob's ('~'
// sorts after the letters of `outbox:...` and `rooms`), so that loadAll reads
// blobs only and no schema upgrade is needed.
const FILE = '~file:';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

export class IndexedDbStore implements BlobStore {
  private db: Promise<IDBDatabase> | null = null;
  // Deleted (signed out, here or in another tab): nothing is written again.
  private gone = false;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly name: string) {}

  private open(): Promise<IDBDatabase> {
    if (this.gone) return Promise.reject(new Error('parley: the stored state was deleted (signed out)'));
    this.db ??= new Promise((resolve, reject) => {
      const r = indexedDB.open(this.name, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onsuccess = () => {
        const db = r.result;
        // Another tab deletes the database (signs out): let it, and stop.
        db.onversionchange = (e) => {
          db.close();
          this.db = null;
          if (e.newVersion === null) {
            this.gone = true;
            for (const listener of [...this.listeners]) listener();
          }
        };
        resolve(db);
      };
      r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
    });
    return this.db;
  }

  async loadAll(): Promise<Map<string, Uint8Array>> {
    const db = await this.open();
    const store = db.transaction(STORE, 'readonly').objectStore(STORE);
    const blobs = IDBKeyRange.upperBound('~', true);
    const [keys, values] = await Promise.all([request(store.getAllKeys(blobs)), request(store.getAll(blobs))]);
    const out = new Map<string, Uint8Array>();
    keys.forEach((k, i) => out.set(k as string, new Uint8Array(values[i] as ArrayBuffer)));
    return out;
  }

  private async write(change: (store: IDBObjectStore) => void): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    change(tx.objectStore(STORE));
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    });
  }

  put(key: string, blob: Uint8Array): Promise<void> {
    // Store a copy: the effect's bytes view WASM memory that later calls reuse.
    return this.write((store) => store.put(blob.slice().buffer, key));
  }

  delete(key: string): Promise<void> {
    return this.write((store) => store.delete(key));
  }

  putFile(key: string, file: Blob): Promise<void> {
    return this.write((store) => store.put(file, FILE + key));
  }

  async getFile(key: string): Promise<Blob | undefined> {
    const db = await this.open();
    const file: unknown = await request(
      db
        .transaction(STORE, 'readonly')
        .objectStore(STORE)
        .get(FILE + key),
    );
    return file instanceof Blob ? file : undefined;
  }

  deleteFile(key: string): Promise<void> {
    return this.delete(FILE + key);
  }

  async destroy(): Promise<void> {
    this.gone = true;
    const db = this.db;
    this.db = null;
    if (db) (await db.catch(() => null))?.close();
    await new Promise<void>((resolve, reject) => {
      const r = indexedDB.deleteDatabase(this.name);
      r.onsuccess = () => resolve();
      r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
      // Open connections elsewhere are asked to close (versionchange); the
      // deletion completes when they have.
      r.onblocked = () => resolve();
    });
  }

  onDestroyed(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function defaultStore(name: string): BlobStore {
  return typeof indexedDB !== 'undefined' ? new IndexedDbStore(name) : new MemoryStore();
}
