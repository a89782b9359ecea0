// Formatting helpers for times, counts and errors.
import type { ParleyError, TimelineMessage } from '@parley/realtime';

/** Length as the server counts it: Unicode code points. */
export function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** "3:10 PM" or "15:10", as the reader's locale writes it (no leading zero on the hour). */
export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });
}

export function fullTime(ms: number): string {
  return new Date(ms).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** “just now”, “5 min ago”, “2 h ago”, “Mon 14:03”, “12 Mar”. */
export function relativeTime(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 45) return 'just now';
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 24) return `${h} h ago`;
  const d = new Date(ms);
  if (now - ms < 7 * 86_400_000) return d.toLocaleString([], { weekday: 'short', hour: 'numeric', minute: '2-digit' });
  return d.toLocaleDateString([], { day: 'numeric', month: 'short' });
}

export function dayLabel(ms: number, now: number): string {
  const d = new Date(ms);
  const today = new Date(now);
  const yesterday = new Date(now - 86_400_000);
  if (d.toDateString() === today.toDateString()) return 'Today';
  if (d.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return d.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long' });
}

/**
 * Why a message could not be sent, in words a person understands;
 * `maxLength`: the server's limit on a message's length, when known.
 */
export function failureReason(error: ParleyError | undefined, maxLength?: number): string {
  if (!error) return 'Not sent';
  switch (error.code) {
    case 'too_large':
      return maxLength === undefined
        ? 'Too long for this server'
        : `Too long — messages can be up to ${maxLength.toLocaleString('en')} characters`;
    case 'forbidden':
      return 'You can’t post in this room';
    case 'not_found':
      return 'This room no longer exists';
    case 'queue_full':
      return 'Too many messages are waiting to be sent';
    case 'bad_request':
      return `The server refused it: ${error.message}`;
    default:
      return error.message || 'Not sent';
  }
}

export function statusLabel(m: TimelineMessage): string {
  switch (m.status) {
    case 'queued':
      return m.error?.code === 'rate_limited' ? 'Queued — slowing down' : 'Queued';
    case 'sending':
      return 'Sending…';
    case 'sent':
      return 'Sent';
    case 'delivered':
      return 'Delivered';
    case 'read':
      return `Seen by ${listNames(m.readBy)}`;
    case 'failed':
      return 'Failed';
  }
}

export function listNames(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  if (names.length === 3) return `${names[0]}, ${names[1]} and ${names[2]}`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} others`;
}

export function typingText(names: string[]): string {
  if (names.length === 0) return '';
  if (names.length === 1) return `${names[0]} is typing…`;
  if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
  return 'Several people are typing…';
}

export function initials(name: string): string {
  const parts = name
    .trim()
    .split(/[\s._-]+/)
    .filter(Boolean);
  const letters = parts.length > 1 ? [parts[0], parts[1]].map((p) => [...p][0]) : [...(parts[0] ?? '?')].slice(0, 2);
  return letters.join('').toUpperCase();
}

/** A stable hue per user, for avatars. */
export function hueOf(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % 360;
}

/** "820 B", "14 KB", "3.2 MB". */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** Why a change of ours (edit, delete, reaction) was undone, in words. */
export function changeFailure(error: (ParleyError & { change?: string }) | undefined): string {
  if (!error) return '';
  const what =
    error.change === 'edit'
      ? 'Your edit'
      : error.change === 'delete'
        ? 'Deleting it'
        : error.change === 'react' || error.change === 'unreact'
          ? 'Your reaction'
          : 'Your change';
  switch (error.code) {
    case 'timeout':
      return `${what} was not confirmed in time and was undone.`;
    case 'forbidden':
      return `${what} was refused: you are not allowed to.`;
    case 'not_found':
      return `${what} was undone: the message no longer exists.`;
    case 'too_large':
      return `${what} was refused: ${error.change?.endsWith('react') ? 'too many different reactions' : 'too long'}.`;
    case 'rate_limited':
      return `${what} was refused: too many at once.`;
    default:
      return `${what} was undone: ${error.message}`;
  }
}
