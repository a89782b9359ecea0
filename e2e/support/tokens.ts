// Parley tokens signed by the test itself (HS256 with the secret the test
// servers share), for specs that need other lifetimes than the demo's.
import { createHmac } from 'node:crypto';

import { SECRET } from './env';

export function signToken(userId: string, name: string, lifetimeSeconds: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: userId, name, iat: now, exp: now + lifetimeSeconds })}`;
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
}
