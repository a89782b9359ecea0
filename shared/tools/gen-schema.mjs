#!/usr/bin/env node
// Generates code from the JSON Schemas in shared/schemas/, the single source of
// truth of protocol v1:
//   --cpp <dir>  src/schemas.gen.cpp (schema texts embedded for valijson),
//                src/rules.gen.cpp (per-field rules enforced by both codecs),
//                include/parley/protocol/limits.hpp (named limits for C++ code)
//   --ts <file>  TypeScript types of every frame, for js-wrapper
// Only a small, declared subset of draft 7 is supported; anything else is an
// error here, so a schema can never silently mean more than the codecs check.
import { readFileSync, writeFileSync, readdirSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const schemaDir = resolve(dirname(fileURLToPath(import.meta.url)), '../schemas');

function listSchemas() {
  const out = [];
  for (const dir of ['', 'client', 'server']) {
    for (const f of readdirSync(join(schemaDir, dir)).sort()) {
      if (f.endsWith('.schema.json')) out.push(posix.join(dir, f));
    }
  }
  return out;
}

const files = listSchemas();
const docs = Object.fromEntries(files.map((f) => [f, JSON.parse(readFileSync(join(schemaDir, f), 'utf8'))]));

const ALLOWED_KEYS = new Set(['$schema', 'title', 'description', 'definitions', 'type', 'properties', 'required',
  'additionalProperties', 'items', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'maxItems',
  'enum', 'const', '$ref']);

// Leaves an unchanged output untouched, so builds that depend on it stay warm.
function writeFileIfChanged(file, text) {
  let old = null;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    // first generation
  }
  if (old !== text) writeFileSync(file, text);
}

function fail(where, msg) {
  throw new Error(`gen-schema: ${where}: ${msg}`);
}

// Resolves a $ref relative to the document it appears in; returns [doc, node].
function deref(docName, ref) {
  const [file, pointer = ''] = ref.split('#');
  const target = file ? posix.normalize(posix.join(posix.dirname(docName), file)) : docName;
  if (!docs[target]) fail(docName, `unknown $ref target ${ref}`);
  let node = docs[target];
  for (const part of pointer.split('/').filter(Boolean)) {
    node = node?.[part];
    if (node === undefined) fail(docName, `dangling $ref ${ref}`);
  }
  return [target, node, pointer.split('/').filter(Boolean).pop()];
}

function resolveNode(docName, node) {
  let name;
  while (node.$ref) {
    [docName, node, name] = deref(docName, node.$ref);
  }
  return [docName, node, name];
}

// "^[A-Za-z0-9_.:-]+$" -> Set of allowed byte values. Only whole-string
// character-class patterns are allowed, so the codecs check them without regex.
function charsetOf(where, pattern) {
  const m = /^\^\[(.+)\]\+\$$/.exec(pattern);
  if (!m) fail(where, `pattern ${pattern} is not of the supported form ^[class]+$`);
  const body = m[1];
  const allowed = new Set();
  for (let i = 0; i < body.length; i++) {
    let c = body[i];
    if (c === '\\') c = body[++i];
    if (body[i + 1] === '-' && i + 2 < body.length) {
      let end = body[i + 2];
      let skip = 2;
      if (end === '\\') { end = body[i + 3]; skip = 3; }
      for (let x = c.charCodeAt(0); x <= end.charCodeAt(0); x++) allowed.add(x);
      i += skip;
    } else {
      allowed.add(c.charCodeAt(0));
    }
  }
  for (const x of allowed) if (x > 127) fail(where, 'patterns must be ASCII');
  return allowed;
}

function kindOf(where, node) {
  if (node.const !== undefined) return 'string';
  if (node.enum) return 'string';
  const t = node.type;
  if (!['string', 'integer', 'boolean', 'object', 'array'].includes(t)) fail(where, `unsupported type ${t}`);
  return t;
}

function checkKeys(where, node) {
  for (const k of Object.keys(node)) if (!ALLOWED_KEYS.has(k)) fail(where, `unsupported keyword ${k}`);
  if (node.type === 'object' && node.additionalProperties !== false) {
    fail(where, 'objects must set additionalProperties: false');
  }
}

// Flattens one frame schema into rules keyed by JSON pointer ("*" for array
// items). An object that is a common definition (message, member, ...) gets
// one rule naming the definition (`def`); the definition's own rules are
// flattened once, keyed "#<name>...", and shared by every frame using it.
function flatten(docName, node, path, required, rules, defs) {
  if (node.$ref) {
    const [target, resolved, name] = deref(docName, node.$ref);
    if (target === 'common.schema.json' && resolveNode(target, resolved)[1].type === 'object') {
      rules.push({ path, kind: 'object', required, def: name });
      defs.add(name);
      return;
    }
  }
  const inline = !node.$ref; // declared in this frame, not a shared definition
  [docName, node] = resolveNode(docName, node);
  const where = `${docName} ${path || '/'}`;
  checkKeys(where, node);
  const kind = kindOf(where, node);
  const rule = { path, kind, required, inline };
  if (node.minLength !== undefined) rule.minLength = node.minLength;
  if (node.maxLength !== undefined) rule.maxLength = node.maxLength;
  if (node.pattern) rule.charset = charsetOf(where, node.pattern);
  if (node.minimum !== undefined) rule.minimum = node.minimum;
  if (node.maximum !== undefined) rule.maximum = node.maximum;
  if (node.maxItems !== undefined) rule.maxItems = node.maxItems;
  if (node.enum) rule.enum = node.enum;
  if (node.const !== undefined) rule.enum = [node.const];
  if (kind === 'integer' && (rule.minimum === undefined || rule.maximum === undefined)) {
    fail(where, 'integers need minimum and maximum');
  }
  if (kind === 'string' && rule.maxLength === undefined && !rule.enum) fail(where, 'strings need maxLength');
  if (kind === 'array') {
    if (rule.maxItems === undefined) fail(where, 'arrays need maxItems');
    rules.push(rule);
    flatten(docName, node.items, `${path}/*`, true, rules, defs);
    return;
  }
  rules.push(rule);
  if (kind === 'object') {
    const req = new Set(node.required ?? []);
    for (const r of req) if (!node.properties?.[r]) fail(where, `required ${r} is not a property`);
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      flatten(docName, child, `${path}/${name}`, req.has(name), rules, defs);
    }
  }
}

const frames = files.filter((f) => f !== 'common.schema.json').map((f) => {
  const doc = docs[f];
  const direction = f.startsWith('client/') ? 'c2s' : 's2c';
  const type = doc.properties?.type?.const;
  if (type !== doc.title) fail(f, 'title must equal the const of "type"');
  const rules = [];
  const uses = new Set();
  flatten(f, doc, '', true, rules, uses);
  return { file: f, direction, type, doc, rules, uses, key: `${direction}/${type}` };
});
// Shared definitions (flattened once each), and the ones each uses in turn.
const definitions = new Map();
function definition(name) {
  if (!definitions.has(name)) {
    const rules = [];
    const uses = new Set();
    // The definition's root is the object itself: flatten its body, not a reference to it.
    flatten('common.schema.json', { ...docs['common.schema.json'].definitions[name] }, '', true, rules, uses);
    definitions.set(name, { name, rules, uses, key: `#${name}` });
  }
  return definitions.get(name);
}
// Every rule a direction's frames need: its frames and the definitions they reach.
function rulesOf(direction) {
  const owners = frames.filter((fr) => fr.direction === direction);
  const pending = owners.flatMap((fr) => [...fr.uses]);
  const seen = new Set();
  while (pending.length) {
    const name = pending.pop();
    if (seen.has(name)) continue;
    seen.add(name);
    const def = definition(name);
    owners.push(def);
    pending.push(...def.uses);
  }
  return owners;
}

// ---------------------------------------------------------------- C++ output
function cstr(s) {
  return JSON.stringify(s);
}

function rawString(text) {
  // Raw string literals longer than a compiler's limit are split.
  const parts = [];
  for (let i = 0; i < text.length; i += 12000) parts.push(`R"PARLEY(${text.slice(i, i + 12000)})PARLEY"`);
  return parts.join('\n');
}

function emitCpp(outDir) {
  const srcDir = join(outDir, 'src');
  const incDir = join(outDir, 'include/parley/protocol');
  mkdirSync(srcDir, { recursive: true });
  mkdirSync(incDir, { recursive: true });
  const header = '// Generated by shared/tools/gen-schema.mjs from shared/schemas/. Do not edit.\n';

  let schemas = `${header}#include "schema_texts.hpp"\n\nnamespace parley::protocol::detail {\n\n`;
  schemas += 'const std::vector<SchemaText>& schema_texts() {\n  static const std::vector<SchemaText> texts = {\n';
  for (const f of files) {
    schemas += `      {${cstr(f)},\n       ${rawString(readFileSync(join(schemaDir, f), 'utf8'))}},\n`;
  }
  schemas += '  };\n  return texts;\n}\n\n}  // namespace parley::protocol::detail\n';
  writeFileIfChanged(join(srcDir, 'schemas.gen.cpp'), schemas);

  const charsets = new Map();
  function charsetName(set) {
    const bytes = new Array(16).fill(0);
    for (const x of set) bytes[x >> 3] |= 1 << (x & 7);
    const key = bytes.join(',');
    if (!charsets.has(key)) charsets.set(key, `kCharset${charsets.size}`);
    return charsets.get(key);
  }
  let enumCount = 0;
  let enums = '';
  // One table per direction (each with the definitions it uses), so a peer
  // that decodes only one direction links only that table.
  function table(owners) {
    const entries = [];
    for (const owner of owners) {
      for (const r of owner.rules) {
        const key = `${owner.key}${r.path}`;
        let enumRef = 'nullptr, 0';
        if (r.enum) {
          const name = `kEnum${enumCount++}`;
          enums += `constexpr std::string_view ${name}[] = {${r.enum.map(cstr).join(', ')}};\n`;
          enumRef = `${name}, ${r.enum.length}`;
        }
        entries.push([key, `    {${cstr(key)}, FieldKind::${r.kind}, ${r.required}, ${r.minLength ?? 0}, ` +
          `${r.maxLength ?? 4294967295}u, ${r.charset ? charsetName(r.charset) : 'nullptr'}, ` +
          `${r.minimum ?? 0}LL, ${r.maximum ?? 0}LL, ${r.maxItems ?? 0}u, ${enumRef}, ${cstr(r.def ?? '')}},\n`]);
      }
    }
    // Sorted by key (byte order), for binary search.
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return entries.map((e) => e[1]).join('');
  }
  const clientTable = table(rulesOf('c2s'));
  const serverTable = table(rulesOf('s2c'));
  let rules = `${header}#include "rules.hpp"\n\nnamespace parley::protocol::detail {\nnamespace {\n\n`;
  for (const [key, name] of charsets) rules += `constexpr std::uint8_t ${name}[16] = {${key}};\n`;
  rules += enums;
  rules += `\nconstexpr FieldRule kClientFrameRules[] = {\n${clientTable}};\n`;
  rules += `\nconstexpr FieldRule kServerFrameRules[] = {\n${serverTable}};\n`;
  rules += '\n}  // namespace\n\nstd::span<const FieldRule> client_frame_rules() { return kClientFrameRules; }\n' +
    'std::span<const FieldRule> server_frame_rules() { return kServerFrameRules; }\n\n}  // namespace parley::protocol::detail\n';
  writeFileIfChanged(join(srcDir, 'rules.gen.cpp'), rules);

  // Named limits from common definitions, e.g. content_max_length; array
  // sizes of frames (s2c_history_messages_max_items); and the ranges of the
  // integers a frame declares itself (c2s_history_limit_maximum).
  let limits = `${header}#pragma once\n#include <cstddef>\n#include <cstdint>\n\nnamespace parley::protocol::limits {\n\n`;
  const snake = (s) => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  for (const [name, def] of Object.entries(docs['common.schema.json'].definitions)) {
    if (def.maxLength !== undefined) limits += `inline constexpr std::size_t ${snake(name)}_max_length = ${def.maxLength};\n`;
  }
  for (const fr of frames) {
    for (const r of fr.rules) {
      if (r.maxItems !== undefined) {
        const n = `${fr.direction}_${fr.type}${r.path.replace(/\//g, '_')}`;
        limits += `inline constexpr std::size_t ${snake(n)}_max_items = ${r.maxItems};\n`;
      }
    }
  }
  for (const fr of frames) {
    for (const r of fr.rules) {
      if (r.kind !== 'integer' || !r.inline || r.path.includes('*')) continue;
      const n = snake(`${fr.direction}_${fr.type}${r.path.replace(/\//g, '_')}`);
      limits += `inline constexpr std::int64_t ${n}_minimum = ${r.minimum};\n`;
      limits += `inline constexpr std::int64_t ${n}_maximum = ${r.maximum};\n`;
    }
  }
  limits += '\n}  // namespace parley::protocol::limits\n';
  writeFileIfChanged(join(incDir, 'limits.hpp'), limits);
}

// --------------------------------------------------------- TypeScript output
function pascal(s) {
  return s.replace(/(^|[_-])([a-z])/g, (_, __, c) => c.toUpperCase());
}

function tsType(docName, node, indent) {
  if (node.$ref) {
    const [target, , name] = deref(docName, node.$ref);
    if (target === 'common.schema.json') return pascal(name);
    return tsType(target, resolveNode(docName, node)[1], indent);
  }
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (node.enum) return node.enum.map((e) => JSON.stringify(e)).join(' | ');
  switch (node.type) {
    case 'string': return 'string';
    case 'integer': return 'number';
    case 'boolean': return 'boolean';
    case 'array': {
      const item = tsType(docName, node.items, indent);
      return item.includes('|') ? `(${item})[]` : `${item}[]`;
    }
    case 'object': {
      const req = new Set(node.required ?? []);
      const pad = '  '.repeat(indent + 1);
      const lines = Object.entries(node.properties ?? {}).map(([k, v]) => {
        const doc = v.description ? `${pad}/** ${v.description} */\n` : '';
        return `${doc}${pad}${k}${req.has(k) ? '' : '?'}: ${tsType(docName, v, indent + 1)};`;
      });
      return `{\n${lines.join('\n')}\n${'  '.repeat(indent)}}`;
    }
    default: fail(docName, `no TypeScript mapping for ${JSON.stringify(node)}`);
  }
}

function emitTs(outFile) {
  let out = '// Generated by shared/tools/gen-schema.mjs from shared/schemas/. Do not edit.\n\n';
  for (const [name, def] of Object.entries(docs['common.schema.json'].definitions)) {
    if (def.description) out += `/** ${def.description} */\n`;
    out += `export type ${pascal(name)} = ${tsType('common.schema.json', def, 0)};\n\n`;
  }
  const names = { c2s: [], s2c: [] };
  for (const fr of frames) {
    const name = `${fr.direction === 'c2s' ? 'Client' : 'Server'}${pascal(fr.type)}`;
    names[fr.direction].push(name);
    if (fr.doc.description) out += `/** ${fr.doc.description} */\n`;
    out += `export type ${name} = ${tsType(fr.file, fr.doc, 0)};\n\n`;
  }
  out += `/** Every frame a client may send. */\nexport type ClientFrame = ${names.c2s.join(' | ')};\n\n`;
  out += `/** Every frame a server may send. */\nexport type ServerFrame = ${names.s2c.join(' | ')};\n`;
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileIfChanged(outFile, out);
}

const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  if (args[i] === '--cpp') emitCpp(resolve(args[i + 1]));
  else if (args[i] === '--ts') emitTs(resolve(args[i + 1]));
  else if (args[i] === '--check') { /* validation above already ran */ i -= 1; }
  else fail('args', `unknown option ${args[i]}; use --cpp <dir> and/or --ts <file>`);
}
if (args.length === 0) console.log(`gen-schema: ${files.length} schemas, ${frames.length} frames OK`);

