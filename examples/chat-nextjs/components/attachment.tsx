'use client';
// Attachments in the timeline: an image at its final size from the first
// paint (the box is reserved from its width and height, so nothing below it
// jumps when it loads), or a file as a download chip. Only URLs parleyd
// accepts (https:, a path on this app) and the browser's own previews
// (blob:, while an upload waits) are ever put in the page.
import { useState } from 'react';
import type { TimelineMessage } from '@parley/realtime';

import { fileSize } from '@/lib/format';

const MAX_WIDTH = 360;
const MAX_HEIGHT = 320;

export function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  if (url.startsWith('/') && !url.startsWith('//')) return url;
  if (/^https:\/\/[^/?#@\s]/i.test(url) && !/\s/.test(url)) return url;
  if (url.startsWith('blob:')) return url;
  return undefined;
}

/** The size an image is shown at: its own, scaled down to fit the column. */
export function shownSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, MAX_WIDTH / width, MAX_HEIGHT / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export function Attachment({ message: m }: { message: TimelineMessage }) {
  const meta = m.metadata;
  const url = safeUrl(meta?.url);
  if (!meta || !url) return null;
  if (m.type === 'image' && meta.width && meta.height) {
    return <ImageAttachment url={url} name={meta.fileName ?? 'image'} width={meta.width} height={meta.height} />;
  }
  return (
    <a className="file-chip" href={url} download={meta.fileName} target="_blank" rel="noopener noreferrer">
      <svg className="file-icon" viewBox="0 0 16 16" aria-hidden="true">
        <path d="M4 1.5h5l3 3v10H4z" />
        <path d="M9 1.5v3h3" />
      </svg>
      <span className="file-name">{meta.fileName ?? 'file'}</span>
      {meta.fileSize !== undefined && <span className="file-size">{fileSize(meta.fileSize)}</span>}
    </a>
  );
}

function ImageAttachment({ url, name, width, height }: { url: string; name: string; width: number; height: number }) {
  const [state, setState] = useState<'loading' | 'loaded' | 'failed'>('loading');
  const size = shownSize(width, height);
  return (
    <a
      className={`image-attachment ${state}`}
      href={url}
      target="_blank"
      rel="noopener noreferrer"
      style={{ width: size.width, height: size.height }}
      data-width={size.width}
      data-height={size.height}
    >
      {state === 'failed' ? (
        <span className="image-failed">Image unavailable</span>
      ) : (
        <img
          src={url}
          alt={name}
          width={size.width}
          height={size.height}
          loading="lazy"
          decoding="async"
          onLoad={() => setState('loaded')}
          onError={() => setState('failed')}
        />
      )}
    </a>
  );
}
