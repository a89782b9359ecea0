// The wrapper's side of the WebAssembly boundary agrees with its one
// declaration, client-wasm/abi.json: the command numbers core.ts sends (the
// effect kinds are held to it by the generated types at compile time).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

import { OPS } from '../src/core.js';

const abi = JSON.parse(readFileSync(new URL('../../client-wasm/abi.json', import.meta.url), 'utf8')) as {
  commands: { op: number; name: string }[];
};

describe('the WebAssembly boundary', () => {
  it('numbers every command as abi.json does', () => {
    expect(OPS.map((name, i) => ({ op: i + 1, name }))).toEqual(abi.commands.map(({ op, name }) => ({ op, name })));
  });
});
