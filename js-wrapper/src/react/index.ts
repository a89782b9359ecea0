'use client';
export { ParleyProvider, useParleyClient, type ParleyProviderProps } from './provider.js';
export { useConnection, useRoom, type UseConnection, type UseRoom } from './hooks.js';
