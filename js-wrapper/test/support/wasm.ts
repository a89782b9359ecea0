// Loads the built WebAssembly module (dist/) the way Node must: with its bytes.
import { readFileSync } from 'node:fs';

import createParleyCore from '../../dist/parley-core.mjs';
import type { ParleyCoreModule } from '../../src/parley-core.mjs';

export const wasmBinary = readFileSync(new URL('../../dist/parley-core.wasm', import.meta.url));

let module: Promise<ParleyCoreModule> | null = null;
export function loadModule(): Promise<ParleyCoreModule> {
  module ??= createParleyCore({ wasmBinary });
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
