// Development sign-in: turns a display name into a signed Parley token.
// A real app would check a session here; the token format is the same.
import { SignJWT } from 'jose';

const DEV_SECRET = 'parley-dev-secret-do-not-use-in-production';

export const dynamic = 'force-dynamic';

function userIdFor(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9_.@-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64);
  return slug || `user-${Math.random().toString(36).slice(2, 10)}`;
}

export async function POST(request: Request): Promise<Response> {
  let name: unknown;
  try {
    ({ name } = (await request.json()) as { name?: unknown });
  } catch {
    return Response.json({ error: 'send {"name": "..."}' }, { status: 400 });
  }
  if (typeof name !== 'string' || name.trim().length === 0 || [...name.trim()].length > 64) {
    return Response.json({ error: 'name must be 1 to 64 characters' }, { status: 400 });
  }
  const displayName = name.trim();
  const userId = userIdFor(displayName);
  const secret = new TextEncoder().encode(process.env.PARLEY_JWT_SECRET || DEV_SECRET);
  const token = await new SignJWT({ name: displayName })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(secret);
  return Response.json({ token, user: { id: userId, name: displayName } });
}
