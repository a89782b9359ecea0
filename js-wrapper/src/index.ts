export { createClient, ParleyClient, type ClientOptions } from './client.js';
export type * from './types.js';
