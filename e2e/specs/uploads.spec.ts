// The demo's upload route (examples/chat-nextjs/lib/uploads.ts) through real
// HTTP requests to the production build: what it keeps, what it refuses
// (no token, too large, a type the bytes do not bear out, a path in a name),
// and how it serves what it kept so that it can never run as a page.
import { expect, test, type APIRequestContext } from '@playwright/test';

import { signToken } from '../support/tokens';

// A 3 x 2 PNG (RGBA), as a browser would upload it.
const PNG_3X2 = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAYAAACddGYaAAAAEUlEQVR4nGP4z8DwH4YZkDkAm34L9XKwuTwAAAAASUVORK5CYII=',
  'base64',
);

function upload(request: APIRequestContext, body: { name: string; mimeType: string; buffer: Buffer }, token?: string) {
  return request.post('/api/uploads', {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    multipart: { file: body },
  });
}

const token = signToken('uploader', 'Uploader', 600);

interface Kept {
  url: string;
  fileName: string;
  fileSize: number;
  mimeType: string;
  width?: number;
  height?: number;
}

test('an image is kept with its checked size and type, and served so that it cannot run', async ({ request }) => {
  const answer = await upload(request, { name: 'cat.png', mimeType: 'image/png', buffer: PNG_3X2 }, token);
  expect(answer.status()).toBe(201);
  const kept = (await answer.json()) as Kept;
  expect(kept).toMatchObject({
    fileName: 'cat.png',
    fileSize: PNG_3X2.length,
    mimeType: 'image/png',
    width: 3,
    height: 2,
  });
  expect(kept.url).toMatch(/^\/api\/uploads\/[0-9a-f]{24}\.png$/);

  const served = await request.get(kept.url);
  expect(served.status()).toBe(200);
  expect(served.headers()['content-type']).toBe('image/png');
  expect(served.headers()['x-content-type-options']).toBe('nosniff');
  expect(served.headers()['content-security-policy']).toContain('sandbox');
  expect(Buffer.from(await served.body()).equals(PNG_3X2)).toBe(true);

  // Text is kept too, and downloads; a path in its name is dropped.
  const text = await upload(
    request,
    { name: '../../etc/notes.txt', mimeType: 'text/plain', buffer: Buffer.from('héllo\n') },
    token,
  );
  expect(text.status()).toBe(201);
  const note = (await text.json()) as Kept;
  expect(note.fileName).toBe('notes.txt');
  expect(note.width).toBeUndefined();
  const download = await request.get(note.url);
  expect(download.headers()['content-disposition']).toMatch(/^attachment; filename\*=UTF-8''notes\.txt$/);
});

test('uploads without a valid token, too large, empty or of another type than claimed are refused', async ({
  request,
}) => {
  const png = { name: 'cat.png', mimeType: 'image/png', buffer: PNG_3X2 };
  expect((await upload(request, png)).status()).toBe(401);
  expect((await upload(request, png, 'not-a-token')).status()).toBe(401);
  expect((await upload(request, png, signToken('late', 'Late', -60))).status()).toBe(401);

  const cases: Array<[string, { name: string; mimeType: string; buffer: Buffer }, number]> = [
    [
      'HTML claiming to be a PNG',
      { name: 'x.png', mimeType: 'image/png', buffer: Buffer.from('<html><script>alert(1)</script>') },
      201,
    ],
    [
      'an SVG with a script',
      { name: 'x.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg onload="alert(1)"/>') },
      201,
    ],
    ['a PNG 70000 pixels wide', { name: 'wide.png', mimeType: 'image/png', buffer: widen(PNG_3X2, 70000) }, 415],
    [
      'binary of no known kind',
      { name: 'x.exe', mimeType: 'application/octet-stream', buffer: Buffer.from([0x4d, 0x5a, 0, 0, 1]) },
      415,
    ],
    ['an empty file', { name: 'empty.txt', mimeType: 'text/plain', buffer: Buffer.alloc(0) }, 400],
    [
      'a file over 10 MB',
      { name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.alloc(10 * 1024 * 1024 + 1, 'a') },
      413,
    ],
  ];
  for (const [what, file, status] of cases) {
    const answer = await upload(request, file, token);
    if (status === 201) {
      // Markup is valid UTF-8 text: it is kept, but as text/plain that downloads, never as a page or an image.
      expect(answer.status(), what).toBe(201);
      const kept = (await answer.json()) as Kept;
      expect(kept.mimeType, what).toBe('text/plain');
      const served = await request.get(kept.url);
      expect(served.headers()['content-type'], what).toBe('text/plain');
      expect(served.headers()['content-disposition'], what).toMatch(/^attachment/);
    } else {
      expect(answer.status(), what).toBe(status);
    }
  }
  const notMultipart = await request.post('/api/uploads', {
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    data: '{"file":"x"}',
  });
  expect(notMultipart.status()).toBe(400);

  for (const path of [
    '/api/uploads/..%2F..%2Fpackage.json',
    '/api/uploads/nothing.png',
    '/api/uploads/.env',
    '/api/uploads/000000000000000000000000.png.json',
  ]) {
    expect((await request.get(path)).status(), path).toBe(404);
  }
  // And the route still serves a good upload.
  expect((await upload(request, png, token)).status()).toBe(201);
});

// The PNG with its IHDR width changed (the header's CRC is not checked here,
// as browsers do not need it to be right to read the size).
function widen(png: Buffer, width: number): Buffer {
  const out = Buffer.from(png);
  out.writeUInt32BE(width, 16);
  return out;
}
