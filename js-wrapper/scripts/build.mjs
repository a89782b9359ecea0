#!/usr/bin/env node
// Builds @parley/realtime into dist/: TypeScript types generated from the
// protocol schemas, the compiled package, and the WebAssembly core
// (parley-core.wasm from the em++ build). Prints the
// gzipped size of what a browser downloads.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

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

execFileSync(process.execPath, [join(root, 'shared/tools/gen-schema.mjs'), '--ts', join(pkg, 'src/generated/protocol.ts')], {
  stdio: 'inherit',
});
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(pkg, 'tsconfig.json')], {
  stdio: 'inherit',
});
mkdirSync(dist, { recursive: true });
copyFileSync(join(wasmDir, 'parley-core.wasm'), join(dist, 'parley-core.wasm'));

// What a browser downloads: every .js of the package (minus maps) and the .wasm.
const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
function walk(dir) {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));
}
const files = walk(dist).filter((f) => /\.(js|wasm)$/.test(f));
const wasm = files.filter((f) => f.endsWith('.wasm')).reduce((n, f) => n + gz(f), 0);
const js = files.filter((f) => !f.endsWith('.wasm')).reduce((n, f) => n + gz(f), 0);
console.log(`@parley/realtime built: gzip -9 JS ${(js / 1024).toFixed(1)} kB + WASM ${(wasm / 1024).toFixed(1)} kB = ${((js + wasm) / 1024).toFixed(1)} kB`);
