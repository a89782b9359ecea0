'use client';
// <ParleyProvider>: one client per provider, connected while mounted.
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';

import { createClient, type ClientOptions, type ParleyClient } from '../client.js';

const ParleyContext = createContext<ParleyClient | null>(null);

export interface ParleyProviderProps extends ClientOptions {
  children?: ReactNode;
}

// How many providers use each client, so that React Strict Mode's
// mount/unmount/mount keeps one connection instead of opening two.
const mounts = new WeakMap<ParleyClient, number>();

export function ParleyProvider({ children, ...options }: ParleyProviderProps) {
  // Created once per provider; creating a client has no side effects, so this
  // is safe in server rendering and when Strict Mode calls it twice.
  const [client] = useState(() => createClient(options));

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
