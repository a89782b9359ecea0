// Compile-time checks of the TypeScript types generated from the schemas: if a
// schema change breaks these shapes, `npm test` fails at its type check.
import type { ClientFrame, Message, ServerFrame } from '../src/index.js';

const message: Message = {
  id: 'm_1',
  roomId: 'lobby',
  senderId: 'alice',
  senderName: 'Alice',
  clientMsgId: 'c_00000001',
  seq: 1,
  type: 'text',
  content: 'hello',
  createdAt: 1763776800000,
};

export const clientFrames: ClientFrame[] = [
  { type: 'hello', ref: '1', v: 1, token: 'jwt', client: { name: 'app', version: '1.0.0' }, codecs: ['json'] },
  { type: 'auth', token: 'jwt' },
  { type: 'join', ref: '2', roomId: 'lobby', sinceSeq: 1 },
  { type: 'leave', roomId: 'lobby' },
  { type: 'send', ref: '3', roomId: 'lobby', clientMsgId: 'c_00000002', message: { type: 'text', content: 'hi' } },
  { type: 'typing', roomId: 'lobby', active: true },
  { type: 'read', roomId: 'lobby', upToSeq: 1 },
  { type: 'delivered', roomId: 'lobby', upToSeq: 1 },
  { type: 'presence', status: 'away' },
  { type: 'history', roomId: 'lobby', beforeSeq: 10, limit: 50 },
  { type: 'ping' },
  { type: 'kick', roomId: 'lobby', userId: 'mallory' },
];

export const serverFrames: ServerFrame[] = [
  {
    type: 'welcome',
    sessionId: 's1',
    user: { id: 'alice', name: 'Alice' },
    serverTime: 1,
    heartbeatMs: 25000,
    limits: { maxFrameBytes: 65536, maxContentLength: 4000, sendIntervalMs: 100, sendBurst: 20 },
  },
  {
    type: 'joined',
    room: { id: 'lobby', kind: 'public' },
    epoch: 'e1',
    headSeq: 1,
    members: [{ userId: 'alice', name: 'Alice', status: 'online' }],
    messages: [message],
  },
  { type: 'ack', ref: '3', message },
  { type: 'error', code: 'rate_limited', message: 'slow down', retryAfterMs: 1000 },
  { type: 'message', message },
  { type: 'typing', roomId: 'lobby', userId: 'bob', name: 'Bob', active: true, ttlMs: 5000 },
  { type: 'presence', roomId: 'lobby', members: [], snapshot: true },
  { type: 'receipt', roomId: 'lobby', userId: 'bob', kind: 'read', upToSeq: 1 },
  { type: 'history', roomId: 'lobby', messages: [message], hasMore: false },
  { type: 'pong', serverTime: 1 },
  { type: 'announcement', id: 'a_1', text: 'maintenance', level: 'warning', createdAt: 1 },
  { type: 'removed', roomId: 'lobby', by: 'alice', reason: 'kicked' },
];
