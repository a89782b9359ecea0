#!/usr/bin/env node
// Builds @parley/realtime into dist/: TypeScript types generated from the
// protocol schemas, the compiled package, and the WebAssembly core
// (parley-core.wasm from the em++ build); then prints the gzipped size of
// the JS + WASM a browser needs to run it (scripts/client-size.mjs, which
// `make test-js` runs as the budget check).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, measure } from '../../scripts/client-size.mjs';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(pkg, '..');
const wasmDir = resolve(process.env.PARLEY_WASM_DIR ?? join(root, 'build/wasm/client-wasm'));
const dist = join(pkg, 'dist');

for (const f of ['parley-core.wasm']) {
  if (!existsSync(join(wasmDir, f))) {
    console.error(`build: ${join(wasmDir, f)} is missing; build the WebAssembly core first (make wasm)`);
    process.exit(1);
  }
}

execFileSync(
  process.execPath,
  [join(root, 'shared/tools/gen-schema.mjs'), '--ts', join(pkg, 'src/generated/protocol.ts')],
  {
    stdio: 'inherit',
  },
);
rmSync(dist, { recursive: true, force: true });
// The JavaScript without comments (what browsers download), the declarations with them (what editors show).
const tsc = (...args) =>
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(pkg, 'tsconfig.json'), ...args],
    {
      stdio: 'inherit',
    },
  );
tsc('--removeComments', '--declaration', 'false');
tsc('--emitDeclarationOnly');
mkdirSync(dist, { recursive: true });
copyFileSync(join(wasmDir, 'parley-core.wasm'), join(dist, 'parley-core.wasm'));
console.log(`@parley/realtime built in ${dist}`);
console.log(describe(measure(dist)));
