#!/usr/bin/env node
// Size of the release client as a browser downloads it (gzip -9, kB = 1000
// bytes), from js-wrapper/dist:
//   runtime  the WebAssembly core and every JS file needed to run it: the
//            loader (wasm-loader.js) and the C-ABI binding with its effect
//            decoder (core.js). This is what the budget bounds.
//   shell    the rest of the package's JS, reported apart: the effect
//            performer and view store (client.js, storage.js, index.js) and
//            the React hooks (react/). Apps bundle and minify these with their
//            own code; an app without React does not ship the hooks.
// As a command it prints the figures and fails above the budget:
//   node scripts/client-size.mjs [budget kB]
// js-wrapper/scripts/build.mjs prints the same figures after each build.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export const RUNTIME_FILES = ['parley-core.wasm', 'wasm-loader.js', 'core.js'];

const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;

function walk(dir, sub = '') {
  return readdirSync(join(dir, sub)).flatMap((f) =>
    statSync(join(dir, sub, f)).isDirectory() ? walk(dir, join(sub, f)) : [join(sub, f)],
  );
}

/** Gzipped bytes of the runtime files (each and in all) and of the rest of the package's JS. */
export function measure(dist) {
  const files = Object.fromEntries(RUNTIME_FILES.map((f) => [f, gz(join(dist, f))]));
  const runtime = Object.values(files).reduce((a, b) => a + b, 0);
  const js = walk(dist).filter((f) => f.endsWith('.js') && !RUNTIME_FILES.includes(f));
  const react = js.filter((f) => f.startsWith('react')).reduce((n, f) => n + gz(join(dist, f)), 0);
  const store = js.filter((f) => !f.startsWith('react')).reduce((n, f) => n + gz(join(dist, f)), 0);
  return { files, runtime, store, react };
}

const kb = (n) => (n / 1000).toFixed(1);

export function describe({ files, runtime, store, react }) {
  const parts = RUNTIME_FILES.map((f) => `${f} ${kb(files[f])}`).join(' + ');
  return (
    `client size (gzip -9): ${kb(runtime)} kB = ${parts} kB; ` +
    `besides, unminified: store ${kb(store)} kB, React hooks ${kb(react)} kB`
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dist = fileURLToPath(new URL('../js-wrapper/dist/', import.meta.url));
  const budget = Number(process.argv[2] ?? 40);
  const m = measure(dist);
  console.log(`${describe(m)} (budget ${budget} kB)`);
  if (m.runtime / 1000 > budget) {
    console.error(`client size: ${kb(m.runtime)} kB is over the ${budget} kB budget`);
    process.exit(1);
  }
}
