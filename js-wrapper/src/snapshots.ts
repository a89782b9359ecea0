// From the core's views to the snapshots the client hands out. The core
// writes a view as JSON whenever it changes, so every read parses new
// objects; share() keeps the previous snapshot's objects wherever nothing
// changed, so that a typing or presence update leaves every message object
// (and the messages array) as it was, and memoised rows do not re-render.
// NewMessages picks out the messages that arrived since the last snapshot,
// for onMessage.
import type { RoomSnapshot, TimelineMessage } from './types.js';

// How an item of a list is matched with its previous version: timeline
// messages by key, members and typists by userId, anything else by position.
function identity(item: unknown, index: number): unknown {
  if (item && typeof item === 'object') {
    const { key, userId } = item as { key?: unknown; userId?: unknown };
    if (typeof key === 'string') return `k:${key}`;
    if (typeof userId === 'string') return `u:${userId}`;
  }
  return index;
}

/**
 * `next`, deep-frozen, with every object and array that is deep-equal to its
 * counterpart in `prev` replaced by that counterpart; `prev` itself when
 * nothing changed.
 */
export function share<T>(prev: unknown, next: T): T {
  if (typeof next !== 'object' || next === null || prev === next) return next;
  if (Array.isArray(next)) {
    const old: unknown[] = Array.isArray(prev) ? prev : [];
    const byIdentity = new Map(old.map((item, i) => [identity(item, i), item]));
    let same = old === prev && next.length === old.length;
    const out = next.map((item: unknown, i) => {
      const shared = share(byIdentity.get(identity(item, i)), item);
      if (shared !== old[i]) same = false;
      return shared;
    });
    return (same ? old : Object.freeze(out)) as T;
  }
  const old = (prev && typeof prev === 'object' && !Array.isArray(prev) ? prev : {}) as Record<string, unknown>;
  const keys = Object.keys(next);
  let same = old === prev && keys.length === Object.keys(old).length;
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    out[key] = share(old[key], (next as Record<string, unknown>)[key]);
    if (out[key] !== old[key] || !(key in old)) same = false;
  }
  return (same ? old : Object.freeze(out)) as T;
}

const topSeq = (room: RoomSnapshot) => room.messages.reduce((top, m) => Math.max(top, m.seq ?? 0), 0);

/**
 * The messages each room's snapshot shows for the first time: stored by the
 * server (they have a seq), above every seq the room showed before, and not
 * already shown while pending (our own sends, whose ack gives them a seq).
 * What the first joined snapshot of a room shows is where it starts, not
 * news; so are older pages (loadOlder) and the room cache.
 */
export class NewMessages {
  // Per room, from its first joined snapshot on: the highest seq shown.
  private readonly top = new Map<string, number>();

  take(prev: RoomSnapshot | undefined, next: RoomSnapshot): TimelineMessage[] {
    const top = this.top.get(next.roomId);
    if (top === undefined) {
      if (next.joined) this.top.set(next.roomId, topSeq(next));
      return [];
    }
    const shown = new Set(prev?.messages.map((m) => m.key));
    const fresh = next.messages.filter((m) => m.seq !== undefined && m.seq > top && !shown.has(m.key));
    this.top.set(next.roomId, Math.max(top, topSeq(next)));
    return fresh;
  }
}
