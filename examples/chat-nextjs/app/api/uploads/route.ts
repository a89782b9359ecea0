// POST /api/uploads: a signed-in user's file (multipart field "file"),
// checked and kept on local disk (lib/uploads.ts); answers what the message
// will carry: { url, fileName, fileSize, mimeType, width?, height? }.
import { jwtVerify } from 'jose';

import { keep, MAX_UPLOAD_BYTES, sniff } from '../../../lib/uploads';

const DEV_SECRET = 'parley-dev-secret-do-not-use-in-production';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

function refuse(status: number, error: string): Response {
  return Response.json({ error }, { status });
}

export async function POST(request: Request): Promise<Response> {
  const auth = request.headers.get('authorization') ?? '';
  const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
  try {
    const secret = new TextEncoder().encode(process.env.PARLEY_JWT_SECRET || DEV_SECRET);
    await jwtVerify(token, secret, { algorithms: ['HS256'] });
  } catch {
    return refuse(401, 'sign in to upload');
  }
  // Refused before the body is read when it says it is too large.
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_UPLOAD_BYTES + 64 * 1024) return refuse(413, 'files are at most 10 MB');
  let file: FormDataEntryValue | null;
  try {
    file = (await request.formData()).get('file');
  } catch {
    return refuse(400, 'send the file as multipart/form-data, field "file"');
  }
  if (!file || typeof file === 'string') return refuse(400, 'send the file as multipart/form-data, field "file"');
  if (file.size === 0) return refuse(400, 'the file is empty');
  if (file.size > MAX_UPLOAD_BYTES) return refuse(413, 'files are at most 10 MB');
  const bytes = new Uint8Array(await file.arrayBuffer());
  const sniffed = sniff(bytes);
  if (!sniffed) return refuse(415, 'images (PNG, JPEG, GIF, WebP), PDF and plain text only');
  return Response.json(await keep(bytes, sniffed, file.name), { status: 201 });
}
