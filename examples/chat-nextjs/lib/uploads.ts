// The demo's attachment storage: files on local disk, checked before they
// are kept. Server-only (the upload routes import it). A real app would put
// files in object storage behind the same two routes; what Parley needs is
// only the URL and the metadata that come back.
//
// Checks, each answering with an HTTP status the client shows:
//   - a signed-in user (the Parley token the demo hands out): 401
//   - at most MAX_UPLOAD_BYTES, not empty: 413 / 400
//   - the type is what the bytes say, not what the browser claims: images
//     (PNG, JPEG, GIF, WebP) by their signature, with their width and height
//     read from their header; PDF by its signature; plain text only when
//     valid UTF-8 without NUL: anything else is 415
//   - names are random ids; the original file name is kept only as metadata
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Image sides parleyd accepts (metadata width/height). */
export const MAX_IMAGE_SIDE = 65535;

export interface StoredFile {
  url: string;
  fileName: string;
  fileSize: number;
  mimeType: string;
  width?: number;
  height?: number;
}

export interface Sniffed {
  mimeType: string;
  extension: string;
  width?: number;
  height?: number;
}

export function uploadDir(): string {
  return process.env.PARLEY_UPLOAD_DIR || join(process.cwd(), '.uploads');
}

/** Stored names: 24 lower-case hex characters and one of our extensions. */
export const STORED_NAME = /^[0-9a-f]{24}\.(png|jpg|gif|webp|pdf|txt)$/;

function u16be(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}
function u16le(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}
function u24le(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);
}
function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}
function ascii(b: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > b.length) return false;
  for (let i = 0; i < text.length; ++i) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

function jpegSize(b: Uint8Array): { width: number; height: number } | null {
  let at = 2;
  while (at + 9 < b.length) {
    if (b[at] !== 0xff) return null;
    const marker = b[at + 1];
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    const length = u16be(b, at + 2);
    if (length < 2) return null;
    // Start of frame markers (baseline, progressive, ...), not DHT/JPG/DAC.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: u16be(b, at + 5), width: u16be(b, at + 7) };
    }
    at += 2 + length;
  }
  return null;
}

function webpSize(b: Uint8Array): { width: number; height: number } | null {
  if (ascii(b, 12, 'VP8X') && b.length >= 30) return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  if (ascii(b, 12, 'VP8 ') && b.length >= 30) return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  if (ascii(b, 12, 'VP8L') && b.length >= 25 && b[20] === 0x2f) {
    const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  return null;
}

/** What the bytes are, or null when the demo does not keep such files. */
export function sniff(b: Uint8Array): Sniffed | null {
  let size: { width: number; height: number } | null = null;
  let image: Omit<Sniffed, 'width' | 'height'> | null = null;
  if (b.length >= 24 && ascii(b, 0, '\x89PNG\r\n\x1a\n') && ascii(b, 12, 'IHDR')) {
    image = { mimeType: 'image/png', extension: 'png' };
    size = { width: u32be(b, 16), height: u32be(b, 20) };
  } else if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    image = { mimeType: 'image/jpeg', extension: 'jpg' };
    size = jpegSize(b);
  } else if (b.length >= 10 && (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a'))) {
    image = { mimeType: 'image/gif', extension: 'gif' };
    size = { width: u16le(b, 6), height: u16le(b, 8) };
  } else if (b.length >= 16 && ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) {
    image = { mimeType: 'image/webp', extension: 'webp' };
    size = webpSize(b);
  }
  if (image) {
    if (!size || size.width < 1 || size.height < 1 || size.width > MAX_IMAGE_SIDE || size.height > MAX_IMAGE_SIDE) {
      return null;
    }
    return { ...image, ...size };
  }
  if (ascii(b, 0, '%PDF-')) return { mimeType: 'application/pdf', extension: 'pdf' };
  if (!b.includes(0)) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(b);
      return { mimeType: 'text/plain', extension: 'txt' };
    } catch {
      return null;
    }
  }
  return null;
}

/** The original name as metadata: no path, no control characters, at most 255 characters. */
export function cleanFileName(name: string, extension: string): string {
  // eslint-disable-next-line no-control-regex
  const base = (name.split(/[\\/]/).pop() || '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  const chars = [...base];
  const kept = chars.length > 255 ? chars.slice(chars.length - 255).join('') : base;
  return kept || `file.${extension}`;
}

/** Keeps checked bytes under a random name; returns what the message carries. */
export async function keep(bytes: Uint8Array, sniffed: Sniffed, originalName: string): Promise<StoredFile> {
  const dir = uploadDir();
  await mkdir(dir, { recursive: true });
  const name = `${randomBytes(12).toString('hex')}.${sniffed.extension}`;
  const fileName = cleanFileName(originalName, sniffed.extension);
  await writeFile(join(dir, name), bytes, { flag: 'wx' });
  await writeFile(join(dir, `${name}.json`), JSON.stringify({ fileName, mimeType: sniffed.mimeType }), { flag: 'wx' });
  const stored: StoredFile = {
    url: `/api/uploads/${name}`,
    fileName,
    fileSize: bytes.length,
    mimeType: sniffed.mimeType,
  };
  if (sniffed.width) stored.width = sniffed.width;
  if (sniffed.height) stored.height = sniffed.height;
  return stored;
}

/** A kept file by its stored name, or null. */
export async function find(name: string): Promise<{ bytes: Buffer; fileName: string; mimeType: string } | null> {
  if (!STORED_NAME.test(name)) return null;
  try {
    const dir = uploadDir();
    const meta = JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as {
      fileName: string;
      mimeType: string;
    };
    return { bytes: await readFile(join(dir, name)), fileName: meta.fileName, mimeType: meta.mimeType };
  } catch {
    return null;
  }
}
