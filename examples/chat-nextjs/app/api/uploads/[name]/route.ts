// GET /api/uploads/<name>: a kept file. Served so that it can never run as
// a page of the app: its checked type, nosniff, and a sandboxing CSP;
// anything but an image downloads.
import { find } from '../../../../lib/uploads';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

export async function GET(_request: Request, context: { params: Promise<{ name: string }> }): Promise<Response> {
  const { name } = await context.params;
  const file = await find(name);
  if (!file) return Response.json({ error: 'no such file' }, { status: 404 });
  const image = file.mimeType.startsWith('image/');
  const disposition = `${image ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(file.fileName)}`;
  return new Response(new Uint8Array(file.bytes), {
    headers: {
      'Content-Type': file.mimeType,
      'Content-Length': String(file.bytes.length),
      'Content-Disposition': disposition,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cache-Control': 'private, max-age=31536000, immutable',
    },
  });
}
