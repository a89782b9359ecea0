'use client';
// <ParleyProvider>: one client per provider, connected while mounted, and
// replaced when its options change.
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';

import { createClient, type ClientOptions, type ParleyClient } from '../client.js';

const ParleyContext = createContext<ParleyClient | null>(null);

/**
 * The client's options (see ClientOptions) and the children that use it.
 *
 * `getToken`, `onMessage` and `upload` may change at every render (inline functions):
 * the client always calls the latest ones. Any other option that changes
 * replaces the client: the old one is disposed (its socket closed; messages
 * it still had queued stay in its store, where the new client adopts them
 * when it uses the same store) and a new one connects; e.g. a new `url`, or
 * a new `storageKey` when another user signs in. Numbers, strings and plain
 * objects (`reconnect`) are compared by value, other objects (`storage`,
 * `WebSocket`, `wasmBinary`, `clock`) by identity: create those once (at
 * module scope, or in useState), not in each render.
 */
export interface ParleyProviderProps extends ClientOptions {
  children?: ReactNode;
}

// The options called through the latest props rather than read once.
const LATEST = ['getToken', 'onMessage', 'upload'];

const isPlain = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (!isPlain(a) || !isPlain(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.is(a[k], b[k]));
}

function sameClient(a: ClientOptions, b: ClientOptions): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => LATEST.includes(k) || same(a[k as keyof ClientOptions], b[k as keyof ClientOptions]));
}

// How many providers use each client, so that React Strict Mode's
// mount/unmount/mount keeps one connection instead of opening two.
const mounts = new WeakMap<ParleyClient, number>();

export function ParleyProvider({ children, ...options }: ParleyProviderProps) {
  const latest = useRef(options);
  useEffect(() => {
    latest.current = options;
  });
  // Creating a client has no side effects, so this is safe in server
  // rendering and when Strict Mode renders twice.
  const create = (o: ClientOptions) =>
    createClient({
      ...o,
      getToken: () => latest.current.getToken(),
      onMessage: (message) => latest.current.onMessage?.(message),
      upload: (file, info) => {
        const upload = latest.current.upload;
        return upload ? upload(file, info) : Promise.reject(new Error('no upload function (ClientOptions.upload)'));
      },
    });
  const [current, setCurrent] = useState(() => ({ options, client: create(options) }));
  let client = current.client;
  if (!sameClient(current.options, options)) {
    // New options: a new client, from this render on (React renders again at once).
    client = create(options);
    setCurrent({ options, client });
  }

  useEffect(() => {
    mounts.set(client, (mounts.get(client) ?? 0) + 1);
    client.connect();
    return () => {
      mounts.set(client, (mounts.get(client) ?? 1) - 1);
      // Disconnect only if no re-mount follows right away (Strict Mode).
      setTimeout(() => {
        if (mounts.get(client) === 0) client.dispose();
      }, 0);
    };
  }, [client]);

  return <ParleyContext.Provider value={client}>{children}</ParleyContext.Provider>;
}

export function useParleyClient(): ParleyClient {
  const client = useContext(ParleyContext);
  if (!client) throw new Error('Parley hooks must be used inside <ParleyProvider>');
  return client;
}
