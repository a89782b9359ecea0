'use client';
export { ParleyProvider, useParleyClient, type ParleyProviderProps } from './provider.js';
export { useConnection, usePresence, useRoom, useTyping, type UseConnection, type UseRoom } from './hooks.js';
