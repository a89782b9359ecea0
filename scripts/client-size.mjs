#!/usr/bin/env node
// Size of the release client as a browser downloads it (gzip -9): the JS
// glue (the package's WebAssembly loader, wasm-loader.js; there is no
// Emscripten glue) + the WebAssembly core, and the package's JavaScript in
// all. Fails when glue + WASM exceeds the budget (kB = 1000 bytes).
//   node scripts/client-size.mjs [budget kB]
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dist = new URL('../js-wrapper/dist/', import.meta.url).pathname;
const budget = Number(process.argv[2] ?? 40);
const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const walk = (dir) =>
  readdirSync(join(dist, dir)).flatMap((f) =>
    statSync(join(dist, dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)],
  );
const glue = gz('wasm-loader.js');
const wasm = gz('parley-core.wasm');
const own = walk('').filter((f) => f.endsWith('.js')).reduce((n, f) => n + gz(f), 0);
const kb = (n) => (n / 1000).toFixed(1);
console.log(`client size (gzip -9): glue ${kb(glue)} kB + wasm ${kb(wasm)} kB = ${kb(glue + wasm)} kB ` +
  `(budget ${budget} kB); all package JS ${kb(own)} kB unminified`);
if ((glue + wasm) / 1000 > budget) {
  console.error(`client size: ${kb(glue + wasm)} kB is over the ${budget} kB budget`);
  process.exit(1);
}
