// The shared protocol test vectors (shared/test-vectors/), run through the
// codecs compiled into the WebAssembly module this package ships.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { inspect, loadModule } from './support/wasm';

const dir = join(process.cwd(), '../shared/test-vectors');
const load = <T>(name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;

// {"$repeat": "ab", "times": 3} -> "ababab", as the C++ tests expand it.
function expand(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(expand);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if ('$repeat' in o) return String(o.$repeat).repeat(Number(o.times));
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, expand(v)]));
  }
  return value;
}

interface Vector {
  name: string;
  direction: 'c2s' | 's2c';
  frame?: unknown;
  text?: string;
  error?: { code: string; path: string };
}

const valid = load<Vector[]>('valid.json');
const invalid = load<Vector[]>('invalid.json');
const invalidBinary = load<(Omit<Vector, 'frame' | 'text'> & { hex: string | unknown[] })[]>('invalid-binary.json');
const golden = load<Record<string, string>>('binary.json');
const utf8 = new TextEncoder();
const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));

describe('valid vectors', () => {
  it.each(valid.map((v) => [v.name, v] as const))(
    '%s: decodes, re-encodes to the same JSON and the golden binary',
    async (_, v) => {
      const m = await loadModule();
      const text = JSON.stringify(expand(v.frame));
      const r = inspect(m, v.direction, 'json', utf8.encode(text));
      expect(r.ok, r.message).toBe(true);
      expect(JSON.parse(r.json!)).toEqual(JSON.parse(text));
      expect(r.binary).toBe(golden[v.name]);

      const fromBinary = inspect(m, v.direction, 'binary', fromHex(golden[v.name]));
      expect(fromBinary.ok, fromBinary.message).toBe(true);
      expect(JSON.parse(fromBinary.json!)).toEqual(JSON.parse(text));
    },
  );
});

describe('invalid vectors', () => {
  it.each(invalid.map((v) => [v.name, v] as const))('%s: refused with its code and path', async (_, v) => {
    const m = await loadModule();
    const text = v.text ?? JSON.stringify(expand(v.frame));
    const r = inspect(m, v.direction, 'json', utf8.encode(text));
    expect(r.ok).toBe(false);
    expect({ code: r.code, path: r.path }).toEqual(v.error);
    expect(r.message).toBeTruthy();
  });
});

describe('invalid binary vectors', () => {
  it.each(invalidBinary.map((v) => [v.name, v] as const))('%s: refused with its code and path', async (_, v) => {
    const m = await loadModule();
    // "hex" is a string, or a list of strings and {"$repeat", "times"} pieces.
    const hex = Array.isArray(v.hex) ? (expand(v.hex) as string[]).join('') : v.hex;
    const r = inspect(m, v.direction, 'binary', fromHex(hex));
    expect(r.ok).toBe(false);
    expect({ code: r.code, path: r.path }).toEqual(v.error);
  });
});
