// Attachments sent before they are uploaded (ParleyClient.sendAttachment).
//
// The message is queued at once as a held send: the core shows it (with a
// local preview as its url) and keeps it, and every later message of its
// room, in the queue until attach() gives it the uploaded file's metadata.
// Meanwhile the file itself is kept in the store beside the queue, so that
// an upload that could not run before a reload (offline, or the tab closed)
// runs after it: the new page's core restores the held send, its view shows
// it, and this class finds the file again by the message's key, makes a
// new preview and uploads it once connected.
import type { BlobStore } from './storage.js';
import type { Metadata, ParleyError, TimelineMessage, UploadFunction } from './types.js';

interface Upload {
  roomId: string;
  /** What the message says of its file (no url): the upload's result is laid over it. */
  metadata: Metadata;
  /** Undefined while it is read back from the store (after a reload), or if it is gone. */
  file?: Blob;
  /** The object URL shown until the upload is done. */
  preview?: string;
  /** sendAttachment's own upload function (not kept across reloads). */
  upload?: UploadFunction;
  running: boolean;
  error?: ParleyError;
  abort: AbortController;
}

/** What the attachments need of their client. */
export interface AttachmentHost {
  readonly store: BlobStore;
  /** ClientOptions.upload. */
  upload(): UploadFunction | undefined;
  /** Whether uploads may start (the client is connected). */
  online(): boolean;
  /** Releases the held send with its uploaded file's metadata. */
  attach(roomId: string, key: string, metadata: Metadata): Promise<unknown>;
  /** The room's view changed (a preview or an upload error to show). */
  changed(roomId: string): void;
}

/** The size of an image in pixels as the browser decodes it, or undefined if it cannot. */
export async function imageSize(file: Blob): Promise<{ width: number; height: number } | undefined> {
  try {
    if (typeof createImageBitmap === 'function') {
      const bitmap = await createImageBitmap(file);
      const size = { width: bitmap.width, height: bitmap.height };
      bitmap.close();
      return size;
    }
  } catch {
    // not an image this browser decodes: sent as a file
  }
  return undefined;
}

export function objectUrl(file: Blob): string | undefined {
  return typeof URL.createObjectURL === 'function' ? URL.createObjectURL(file) : undefined;
}

const failed = (message: string): ParleyError => ({ code: 'upload_failed', message });

// Where parleyd lets an attachment point (protocol::is_attachment_url): an
// https: URL with a host, or a path on the app's own origin; nothing with
// whitespace, control characters or backslashes.
function attachmentUrl(url: unknown): boolean {
  if (typeof url !== 'string' || !url) return false;
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || c === 0x5c) return false;
  }
  if (url.startsWith('/')) return !url.startsWith('//');
  return /^https:\/\/[^/?#@]/i.test(url);
}

export class Attachments {
  private readonly uploads = new Map<string, Upload>();

  constructor(private readonly host: AttachmentHost) {}

  /** A held send was just queued for `file` under `key`. */
  add(roomId: string, key: string, file: Blob, metadata: Metadata, preview?: string, upload?: UploadFunction): void {
    this.uploads.set(key, { roomId, metadata, file, preview, upload, running: false, abort: new AbortController() });
    this.host.store
      .putFile?.(key, file)
      .catch((error: unknown) => console.error('parley: could not keep a file', error));
    this.pump();
  }

  /**
   * Shows a held message of the room's view (mutable: before it is shared
   * and frozen) with its preview and its upload's error; one this client
   * does not know (a reload, another tab's adopted queue) is taken up.
   */
  present(roomId: string, m: TimelineMessage): void {
    let upload = this.uploads.get(m.key);
    if (!upload) {
      if (!m.mine) return;
      upload = this.resume(roomId, m);
    }
    if (m.metadata) {
      // This page's preview; none while the file is read back (the one in the
      // queue belonged to the page that queued it, and is dead).
      const { url: _queued, ...rest } = m.metadata;
      m.metadata = upload.preview ? { ...rest, url: upload.preview } : rest;
    }
    if (upload.error) {
      m.status = 'failed';
      m.error = upload.error;
    }
  }

  /** Tries a failed upload again; false if `key` is not one. */
  retry(key: string): boolean {
    const upload = this.uploads.get(key);
    if (!upload?.error || !upload.file) return false;
    upload.error = undefined;
    this.host.changed(upload.roomId);
    this.pump();
    return true;
  }

  /** The message is gone (uploaded and released, discarded, deleted): its upload stops, its file goes. */
  forget(key: string): void {
    const upload = this.uploads.get(key);
    if (!upload) return;
    this.uploads.delete(key);
    upload.abort.abort();
    if (upload.preview) URL.revokeObjectURL(upload.preview);
    this.host.store.deleteFile?.(key).catch(() => {});
  }

  /** Starts the uploads that wait, if the client is connected. */
  pump(): void {
    if (!this.host.online()) return;
    for (const [key, upload] of this.uploads) {
      if (upload.file && !upload.running && !upload.error) void this.run(key, upload);
    }
  }

  /** Stops every upload and lets go of the previews (the client is disposed). */
  dispose(): void {
    for (const upload of this.uploads.values()) {
      upload.abort.abort();
      if (upload.preview) URL.revokeObjectURL(upload.preview);
    }
    this.uploads.clear();
  }

  // A held send this client did not start: its file is read back from the store.
  private resume(roomId: string, m: TimelineMessage): Upload {
    const metadata: Metadata = { ...m.metadata };
    delete metadata.url; // the preview of the page that queued it
    const upload: Upload = { roomId, metadata, running: false, abort: new AbortController() };
    this.uploads.set(m.key, upload);
    const get = this.host.store.getFile?.(m.key) ?? Promise.resolve(undefined);
    void get
      .catch(() => undefined)
      .then((file) => {
        if (this.uploads.get(m.key) !== upload) return;
        if (file) {
          upload.file = file;
          upload.preview = objectUrl(file);
        } else {
          upload.error = failed('the file to upload is no longer on this device');
        }
        this.host.changed(roomId);
        this.pump();
      });
    return upload;
  }

  private async run(key: string, upload: Upload): Promise<void> {
    upload.running = true;
    const { metadata } = upload;
    try {
      const send = upload.upload ?? this.host.upload();
      if (!send) throw new Error('no upload function (ClientOptions.upload)');
      const result = await send(upload.file!, {
        roomId: upload.roomId,
        key,
        fileName: metadata.fileName ?? 'file',
        mimeType: metadata.mimeType ?? '',
        fileSize: metadata.fileSize ?? upload.file!.size,
        signal: upload.abort.signal,
      });
      if (this.uploads.get(key) !== upload) return; // discarded meanwhile
      if (!attachmentUrl(result?.url)) {
        throw new Error(`the upload function gave ${JSON.stringify(result?.url)}: not an https: URL or a path (/...)`);
      }
      await this.host.attach(upload.roomId, key, { ...metadata, ...result });
      this.forget(key);
    } catch (error) {
      if (this.uploads.get(key) !== upload) return;
      upload.running = false;
      upload.error = failed(error instanceof Error ? error.message : String(error));
      this.host.changed(upload.roomId);
    }
  }
}
