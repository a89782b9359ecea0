// Room ids and the rooms a user keeps in the sidebar.

export const LOBBY = 'lobby';
const ROOM_ID = /^[A-Za-z0-9_.:@-]{1,160}$/;

export function isValidRoomId(id: string): boolean {
  return ROOM_ID.test(id);
}

export function isDirect(roomId: string): boolean {
  return roomId.startsWith('dm:');
}

/** The direct room of two users: `dm:<a>:<b>` with the ids in ascending order. */
export function directRoomId(a: string, b: string): string {
  const [x, y] = [a, b].sort();
  return `dm:${x}:${y}`;
}

/** The other user of a direct room (or null if `me` is not one of its two). */
export function directPeer(roomId: string, me: string): string | null {
  if (!isDirect(roomId)) return null;
  const [, a, b] = roomId.split(':');
  if (a === me) return b ?? null;
  if (b === me) return a ?? null;
  return null;
}

/**
 * Turns what someone typed into a public room id: spaces become dashes,
 * other characters the server would refuse are dropped. Null when nothing is
 * left, or when it names a direct room (those open from a member).
 */
export function roomIdFromInput(input: string): { id: string } | { error: string } {
  const trimmed = input.trim().replace(/^#+/, '');
  if (!trimmed) return { error: 'Type a room name.' };
  const id = trimmed
    .replace(/\s+/g, '-')
    .replace(/[^A-Za-z0-9_.:@-]/g, '')
    .slice(0, 160);
  if (!id) return { error: 'Room names use letters, digits and - _ . : @' };
  if (isDirect(id)) return { error: 'Direct messages start from a member: use “Message” next to their name.' };
  return { id };
}

export interface SavedRoom {
  id: string;
  /** For direct rooms: the other person's display name. */
  label?: string;
}

const roomsKey = (userId: string) => `parley-demo:rooms:${userId}`;

export function loadRooms(userId: string): SavedRoom[] {
  let rooms: SavedRoom[] = [];
  try {
    const raw = window.localStorage.getItem(roomsKey(userId));
    if (raw)
      rooms = (JSON.parse(raw) as SavedRoom[]).filter((r) => r && typeof r.id === 'string' && isValidRoomId(r.id));
  } catch {
    rooms = [];
  }
  if (!rooms.some((r) => r.id === LOBBY)) rooms.unshift({ id: LOBBY });
  return rooms;
}

export function saveRooms(userId: string, rooms: SavedRoom[]): void {
  try {
    window.localStorage.setItem(roomsKey(userId), JSON.stringify(rooms));
  } catch {
    // Not fatal: the list is rebuilt from the lobby next time.
  }
}

/** Drops the user's room list (signing out). */
export function forgetRooms(userId: string): void {
  try {
    window.localStorage.removeItem(roomsKey(userId));
  } catch {
    // Nothing stored, or storage refused: nothing to forget.
  }
}
