// Where the core's persisted blobs live: IndexedDB in browsers (so a reload
// keeps queued messages), memory elsewhere (Node, tests, private modes that
// refuse IndexedDB).
export interface BlobStore {
  loadAll(): Promise<Map<string, Uint8Array>>;
  put(key: string, blob: Uint8Array): Promise<void>;
}

export class MemoryStore implements BlobStore {
  private readonly blobs = new Map<string, Uint8Array>();
  async loadAll(): Promise<Map<string, Uint8Array>> {
    return new Map(this.blobs);
  }
  async put(key: string, blob: Uint8Array): Promise<void> {
    this.blobs.set(key, blob);
  }
}

const STORE = 'blobs';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export class IndexedDbStore implements BlobStore {
  private db: Promise<IDBDatabase> | null = null;

  constructor(private readonly name: string) {}

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const r = indexedDB.open(this.name, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    return this.db;
  }

  async loadAll(): Promise<Map<string, Uint8Array>> {
    const db = await this.open();
    const store = db.transaction(STORE, 'readonly').objectStore(STORE);
    const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
    const out = new Map<string, Uint8Array>();
    keys.forEach((k, i) => out.set(String(k), new Uint8Array(values[i] as ArrayBuffer)));
    return out;
  }

  async put(key: string, blob: Uint8Array): Promise<void> {
    const db = await this.open();
    const tx = db.transaction(STORE, 'readwrite');
    // Store a copy: the effect's bytes view WASM memory that later calls reuse.
    tx.objectStore(STORE).put(blob.slice().buffer, key);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }
}

export function defaultStore(name: string): BlobStore {
  return typeof indexedDB !== 'undefined' ? new IndexedDbStore(name) : new MemoryStore();
}
