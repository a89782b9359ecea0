#!/usr/bin/env node
// Size of the release client as a browser downloads it (gzip -9): the
// Emscripten glue (parley-core.mjs) + the WebAssembly core, and the package's
// own JavaScript. Fails when glue + WASM exceeds the budget.
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
const glue = gz('parley-core.mjs');
const wasm = gz('parley-core.wasm');
const own = walk('').filter((f) => f.endsWith('.js')).reduce((n, f) => n + gz(f), 0);
const kb = (n) => (n / 1024).toFixed(1);
console.log(`client size (gzip -9): glue ${kb(glue)} kB + wasm ${kb(wasm)} kB = ${kb(glue + wasm)} kB ` +
  `(budget ${budget} kB); package JS ${kb(own)} kB unminified`);
if ((glue + wasm) / 1024 > budget) {
  console.error(`client size: ${kb(glue + wasm)} kB is over the ${budget} kB budget`);
  process.exit(1);
}
