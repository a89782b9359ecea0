#!/usr/bin/env node
// Generates both sides of the WebAssembly boundary from client-wasm/abi.json:
//   --cpp <dir>  parley/client/abi.gen.hpp: the effect kinds and command ops
//   --ts <file>  the same numbers for js-wrapper, the Effect and Command types,
//                and the decoder of effect records
// so neither side numbers anything by hand.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const abi = JSON.parse(readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../abi.json'), 'utf8'));

function fail(msg) {
  throw new Error(`gen-abi: ${msg}`);
}

function writeFileIfChanged(file, text) {
  let old = null;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    // first generation
  }
  if (old !== text) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}

const cppName = (entry) => entry.cpp ?? entry.name;
const unique = (list, key) => {
  const seen = new Set();
  for (const e of list) {
    if (seen.has(e[key])) fail(`${key} ${e[key]} is declared twice`);
    seen.add(e[key]);
  }
};
unique(abi.effects, 'kind');
unique(abi.effects, 'name');
unique(abi.commands, 'op');
unique(abi.commands, 'name');
abi.commands.forEach((c, i) => {
  if (c.op !== i + 1) fail(`command ${c.name}: ops are numbered 1, 2, 3... in the order they are listed`);
});
for (const e of abi.effects) {
  if (!Number.isInteger(e.kind) || e.kind < 1 || e.kind > 255) fail(`effect ${e.name}: kind is a byte above 0`);
  for (const f of ['text', 'data']) {
    if (e[f] && !['string', 'bytes'].includes(e[f][1])) fail(`effect ${e.name}: ${f} is string or bytes`);
  }
}

function cpp() {
  const effects = abi.effects.map((e) => `  X(${cppName(e)}, ${e.kind})`).join(' \\\n');
  const ops = abi.commands.map((c) => `  X(${cppName(c)}, ${c.op})`).join(' \\\n');
  return `// Generated from client-wasm/abi.json by client-wasm/tools/gen-abi.mjs: do not edit.
// X-macro lists (name, number): effects.hpp makes Effect::Kind of the first,
// wasm_api.cpp dispatches commands by the second.
#pragma once

// What the core asks its host to do.
#define PARLEY_ABI_EFFECTS(X) \\
${effects}

// What the host asks of the core (parley_command's op).
#define PARLEY_ABI_COMMANDS(X) \\
${ops}
`;
}

const tsType = { string: 'string', number: 'number', boolean: 'boolean', object: 'Record<string, unknown>' };

function ts() {
  const effectTypes = abi.effects
    .map((e) => {
      const fields = [`kind: '${e.name}'`];
      if (e.id) fields.push(`${e.id}: number`);
      if (e.number) fields.push(`${e.number}: number`);
      if (e.text) fields.push(`${e.text[0]}: ${e.text[1] === 'string' ? 'string' : 'Uint8Array'}`);
      if (e.data) fields.push(`${e.data[0]}: ${e.data[1] === 'string' ? 'string' : 'Uint8Array'}`);
      return `  | { ${fields.join('; ')} }`;
    })
    .join('\n');
  const commandTypes = abi.commands
    .map((c) => {
      const args = Object.entries(c.args ?? {}).map(([k, t]) =>
        k.endsWith('?') ? `${k.slice(0, -1)}?: ${tsType[t]}` : `${k}: ${tsType[t]}`,
      );
      return `  | { op: '${c.name}'${args.length ? '; ' + args.join('; ') : ''} }`;
    })
    .join('\n');
  const pairs = (list, key, fmt) => list.map((e) => fmt(e, e[key])).join('\n');
  return `// Generated from client-wasm/abi.json by client-wasm/tools/gen-abi.mjs: do not edit.
// Types only: core.ts writes the numbers it uses and the compiler (and
// abi.test.ts) hold them to these, so the boundary costs the browser no table.

/** What the core asks its host to do. */
export type Effect =
${effectTypes};

/** Each effect kind's name, by its number. */
export interface EffectKinds {
${pairs(abi.effects, 'kind', (e, n) => `  ${n}: '${e.name}';`)}
}

/** What the host asks of the core, with its arguments. */
export type Command =
${commandTypes};

/** The commands in the order of their numbers, 1 up (each crosses the boundary as its number). */
export type OpNames = [${abi.commands.map((c) => `'${c.name}'`).join(', ')}];
`;
}

const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === '--cpp') writeFileIfChanged(join(args[i + 1], 'include/parley/client/abi.gen.hpp'), cpp());
  else if (args[i] === '--ts') writeFileIfChanged(args[i + 1], ts());
  else fail(`unknown argument ${args[i]} (use --cpp <dir> or --ts <file>)`);
}
