// A typed handle on one client core inside the WebAssembly module: the C ABI
// of client-wasm/bindings/wasm_api.cpp. The commands, the effect kinds and
// their numbers are declared once, in client-wasm/abi.json, and generated
// for both sides (./generated/abi.ts here).
import type { Command, Effect, EffectKinds, OpNames } from './generated/abi.js';
import type { CoreModule } from './wasm-loader.js';

export type { Command, Effect } from './generated/abi.js';

// The commands in the order of their numbers (1 up), as client-wasm/abi.json
// declares them; the generated tuple type holds the list to it.
export const OPS =
  'connect disconnect reconnectNow online offline setToken tokenFailed join leave loadOlder send retry discard setTyping markRead setPresence edit remove react attach'.split(
    ' ',
  ) as OpNames;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CoreHandle {
  private readonly handle: number;

  constructor(
    private readonly m: CoreModule,
    config: Record<string, unknown>,
  ) {
    const bytes = encoder.encode(JSON.stringify(config));
    const ptr = m._malloc(bytes.length);
    m.HEAPU8.set(bytes, ptr);
    this.handle = m._parley_new(ptr, bytes.length);
    m._free(ptr);
    if (!this.handle) throw new Error('parley: the client core refused its configuration');
  }

  dispose(): void {
    this.m._parley_free(this.handle);
  }

  command(command: Command, now: number): Record<string, unknown> {
    // The arguments as JSON (the core reads the fields it needs; "op" rides along unread).
    const length = this.input(encoder.encode(JSON.stringify(command)));
    const op = OPS.indexOf(command.op) + 1;
    return JSON.parse(this.cString(this.m._parley_command(this.handle, op, length, now))) as Record<string, unknown>;
  }

  // A blob persisted by an earlier core; false if the core could not read it.
  restore(key: string, blob: Uint8Array, now: number): boolean {
    const k = encoder.encode(key);
    const joined = new Uint8Array(k.length + blob.length);
    joined.set(k, 0);
    joined.set(blob, k.length);
    this.input(joined);
    return this.m._parley_restore(this.handle, k.length, blob.length, now) === 1;
  }

  /**
   * `protocol`: the subprotocol the server chose (WebSocket.protocol), which
   * the core checks; hosts without a real socket (benchmarks) leave it out.
   */
  socketOpened(socket: number, now: number, protocol = 'parley.v1.json'): void {
    const length = this.input(encoder.encode(protocol));
    this.m._parley_socket_opened(this.handle, socket, length, now);
  }

  socketClosed(socket: number, code: number, now: number): void {
    this.m._parley_socket_closed(this.handle, socket, code, now);
  }

  received(socket: number, data: string | ArrayBuffer, now: number): void {
    const bytes = typeof data === 'string' ? encoder.encode(data) : new Uint8Array(data);
    const length = this.input(bytes);
    this.m._parley_received(this.handle, socket, length, now);
  }

  timerFired(timer: number, now: number): void {
    this.m._parley_timer_fired(this.handle, timer, now);
  }

  view(topic: string): unknown {
    const length = this.input(encoder.encode(topic));
    return JSON.parse(this.cString(this.m._parley_view(this.handle, length)));
  }

  takeEffects(): Effect[] {
    const size = this.m._parley_take_effects(this.handle);
    if (size === 0) return [];
    const base = this.m._parley_effects_data(this.handle);
    // Copy out: the views below must survive later calls into the core.
    const bytes = this.m.HEAPU8.slice(base, base + size);
    const view = new DataView(bytes.buffer);
    const effects: Effect[] = [];
    let at = 0;
    while (at < size) {
      const kind = view.getUint8(at);
      const id = view.getUint32(at + 1, true);
      const num = view.getFloat64(at + 5, true);
      const len1 = view.getUint32(at + 13, true);
      const a = bytes.subarray(at + 17, at + 17 + len1);
      const len2 = view.getUint32(at + 17 + len1, true);
      const b = bytes.subarray(at + 21 + len1, at + 21 + len1 + len2);
      at += 21 + len1 + len2;
      // Each case's number and name are held to abi.json's by EffectKinds, and
      // each record's fields by the generated Effect type.
      const k = kind as keyof EffectKinds;
      switch (k) {
        case 1:
          effects.push({
            kind: 'open' satisfies EffectKinds[1],
            socket: id,
            url: decoder.decode(a),
            subprotocol: decoder.decode(b),
          });
          break;
        case 2:
          effects.push({ kind: 'send' satisfies EffectKinds[2], socket: id, frame: decoder.decode(a) });
          break;
        case 3:
          effects.push({ kind: 'close' satisfies EffectKinds[3], socket: id, code: num, reason: decoder.decode(a) });
          break;
        case 4:
          effects.push({ kind: 'timer' satisfies EffectKinds[4], timer: id, delayMs: num });
          break;
        case 5:
          effects.push({ kind: 'cancel' satisfies EffectKinds[5], timer: id });
          break;
        case 6:
          effects.push({ kind: 'persist' satisfies EffectKinds[6], key: decoder.decode(a), blob: b });
          break;
        case 7:
          effects.push({ kind: 'token' satisfies EffectKinds[7] });
          break;
        case 8:
          effects.push({ kind: 'notify' satisfies EffectKinds[8], topic: decoder.decode(a) });
          break;
        default:
          k satisfies never; // a kind abi.json declares and this switch misses does not compile
          throw new Error(`parley: unknown effect kind ${kind}`);
      }
    }
    return effects;
  }

  private input(bytes: Uint8Array): number {
    const ptr = this.m._parley_buffer(this.handle, bytes.length);
    this.m.HEAPU8.set(bytes, ptr); // HEAPU8 is re-read: memory may have grown
    return bytes.length;
  }

  private cString(ptr: number): string {
    const heap = this.m.HEAPU8;
    let end = ptr;
    while (heap[end] !== 0) end++;
    return decoder.decode(heap.subarray(ptr, end));
  }
}
