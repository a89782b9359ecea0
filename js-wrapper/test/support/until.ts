// Waits until a client's view satisfies a condition (driven by the client's
// own notifications, with a deadline), instead of sleeping.
import type { ConnectionSnapshot, ParleyClient, RoomSnapshot } from '../../dist/index.js';

export function until<T>(
  client: ParleyClient,
  topic: string,
  read: () => T,
  ok: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const value = read();
      if (!ok(value)) return false;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
      return true;
    };
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(read()).slice(0, 500)}`));
    }, timeoutMs);
    const unsubscribe = client.subscribe(topic, () => void check());
    check();
  });
}

/** Waits until the room's view satisfies `ok`. */
export function untilRoom(
  client: ParleyClient,
  roomId: string,
  ok: (room: RoomSnapshot) => boolean,
  what: string,
  timeoutMs?: number,
): Promise<RoomSnapshot> {
  return until(client, `room:${roomId}`, () => client.getRoom(roomId), ok, what, timeoutMs);
}

/** Waits until the connection's view satisfies `ok`. */
export function untilConnection(
  client: ParleyClient,
  ok: (connection: ConnectionSnapshot) => boolean,
  what: string,
  timeoutMs?: number,
): Promise<ConnectionSnapshot> {
  return until(client, 'connection', () => client.getConnection(), ok, what, timeoutMs);
}
