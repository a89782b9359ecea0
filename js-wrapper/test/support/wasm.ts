// Loads the WebAssembly modules the way Node must: with their bytes.
//   dist/parley-core.wasm            the module the package ships
//   build/wasm/.../parley-core-test  the same core plus a frame inspector
import { readFileSync } from 'node:fs';

import type { ParleyCoreModule } from '../../src/parley-core.mjs';

export const wasmBinary = readFileSync(new URL('../../dist/parley-core.wasm', import.meta.url));

const testDir = new URL('../../../build/wasm/client-wasm/', import.meta.url);
let module: Promise<ParleyCoreModule> | null = null;
export async function loadModule(): Promise<ParleyCoreModule> {
  module ??= import(new URL('parley-core-test.mjs', testDir).href).then((m) =>
    m.default({ wasmBinary: readFileSync(new URL('parley-core-test.wasm', testDir)) }),
  );
  return module;
}


export interface Inspection {
  ok: boolean;
  type?: string;
  json?: string;
  binary?: string;
  code?: string;
  path?: string;
  message?: string;
}

// Decodes a frame with the module's own codecs (see parley_inspect in wasm_api.cpp).
export function inspect(m: ParleyCoreModule, direction: 'c2s' | 's2c', codec: 'json' | 'binary', bytes: Uint8Array): Inspection {
  const ptr = m._malloc(Math.max(bytes.length, 1));
  m.HEAPU8.set(bytes, ptr);
  const out = m._parley_inspect(direction === 'c2s' ? 0 : 1, codec === 'json' ? 0 : 1, ptr, bytes.length);
  m._free(ptr);
  const heap = m.HEAPU8;
  let end = out;
  while (heap[end] !== 0) end++;
  return JSON.parse(new TextDecoder().decode(heap.subarray(out, end)));
}
