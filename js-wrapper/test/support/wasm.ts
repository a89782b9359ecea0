// Loads the WebAssembly modules the way Node must: with their bytes.
//   dist/parley-core.wasm            the module the package ships
//   build/wasm/.../parley-core-test  the same core plus a frame inspector
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import type createParleyCore from './parley-core-test.mjs';
import type { ParleyCoreModule } from './parley-core-test.mjs';

// Paths from the package folder (vitest's working directory): under jsdom,
// import.meta.url is not a file URL.
const pkg = process.cwd();
export const wasmBinary = readFileSync(join(pkg, 'dist/parley-core.wasm'));

const testDir = join(pkg, '../build/wasm/client-wasm');
let module: Promise<ParleyCoreModule> | null = null;
export async function loadModule(): Promise<ParleyCoreModule> {
  module ??= import(pathToFileURL(join(testDir, 'parley-core-test.mjs')).href).then(
    (m: { default: typeof createParleyCore }) =>
      m.default({ wasmBinary: readFileSync(join(testDir, 'parley-core-test.wasm')) }),
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
export function inspect(
  m: ParleyCoreModule,
  direction: 'c2s' | 's2c',
  codec: 'json' | 'binary',
  bytes: Uint8Array,
): Inspection {
  const ptr = m._malloc(Math.max(bytes.length, 1));
  m.HEAPU8.set(bytes, ptr);
  const out = m._parley_inspect(direction === 'c2s' ? 0 : 1, codec === 'json' ? 0 : 1, ptr, bytes.length);
  m._free(ptr);
  const heap = m.HEAPU8;
  let end = out;
  while (heap[end] !== 0) end++;
  return JSON.parse(new TextDecoder().decode(heap.subarray(out, end))) as Inspection;
}
