// The demo's upload function for @parley/realtime's sendAttachment: posts
// the file to the demo's own route (app/api/uploads) with a fresh token, and
// gives back what the route kept. The route checks everything again; the
// checks here only spare the user an upload that would be refused.
import type { UploadFunction, UploadResult } from '@parley/realtime';

import { requestToken } from '@/lib/session';

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
export const ACCEPTED_TYPES = 'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain';

/** Why the route would refuse this file, or null. */
export function checkFile(file: File): string | null {
  if (file.size === 0) return 'the file is empty';
  if (file.size > MAX_UPLOAD_BYTES) return 'files are at most 10 MB';
  if (file.type && !ACCEPTED_TYPES.split(',').includes(file.type)) {
    return 'only images (PNG, JPEG, GIF, WebP), PDF and plain text';
  }
  return null;
}

export function uploaderFor(name: string): UploadFunction {
  return async (file, info) => {
    const { token } = await requestToken(name);
    const form = new FormData();
    form.append('file', file, info.fileName);
    const res = await fetch('/api/uploads', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
      signal: info.signal,
    });
    const body = (await res.json().catch(() => ({}))) as Partial<UploadResult> & { error?: string };
    if (!res.ok || typeof body.url !== 'string') throw new Error(body.error ?? `upload failed (${res.status})`);
    return body as UploadResult;
  };
}
