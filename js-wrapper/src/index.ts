export { createClient, ParleyClient, ParleyClientError, type ClientOptions } from './client.js';
export { IndexedDbStore, MemoryStore, type BlobStore } from './storage.js';
export type * from './types.js';
