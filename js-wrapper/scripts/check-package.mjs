#!/usr/bin/env node
// Checks @parley/realtime as it would be published (`make test-package`):
// packs it with npm, then checks the tarball, not the working tree:
//   - the files a user needs are in it (README, LICENSE, the .wasm) and no others
//     (no sources, tests or scripts);
//   - every source map is valid and carries its sources (the .ts files are not shipped);
//   - the LICENSE is the repository's;
//   - publint (package.json against the files) and arethetypeswrong (the types each
//     entry point resolves to, ESM-only profile: the package has no CommonJS build);
//   - Node runs it as installed, without help: the client core is read from the
//     package's own parley-core.wasm (a file: URL), `@parley/realtime/parley-core.wasm`
//     resolves, and the hello names the package's name and version.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(pkgDir, '..');
const bin = (name) => join(root, 'node_modules/.bin', name);
const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'parley-package-'));
const failures = [];
const fail = (what) => failures.push(what);

try {
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: pkgDir, encoding: 'utf8' }),
  );
  const tarball = join(work, packed.filename);
  const files = packed.files.map((f) => f.path);
  console.log(`package: ${packed.filename}, ${files.length} files, ${(packed.size / 1000).toFixed(1)} kB packed`);

  for (const f of [
    'README.md',
    'LICENSE',
    'package.json',
    'dist/index.js',
    'dist/react/index.js',
    'dist/parley-core.wasm',
  ]) {
    if (!files.includes(f)) fail(`${f} is not in the tarball`);
  }
  for (const f of files) {
    if (!/^(README\.md|LICENSE|package\.json|dist\/.*\.(js|d\.ts|js\.map|wasm))$/.test(f)) fail(`unexpected file ${f}`);
  }

  const unpacked = join(work, 'node_modules', ...pkg.name.split('/'));
  mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);

  if (readFileSync(join(unpacked, 'LICENSE'), 'utf8') !== readFileSync(join(root, 'LICENSE'), 'utf8')) {
    fail('js-wrapper/LICENSE differs from the repository LICENSE');
  }

  for (const f of files.filter((f) => f.endsWith('.js'))) {
    const js = readFileSync(join(unpacked, f), 'utf8');
    const ref = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(js)?.[1];
    if (!ref) continue;
    const mapFile = join(dirname(f), ref);
    if (!files.includes(mapFile)) {
      fail(`${f} points to ${mapFile}, which is not in the tarball`);
      continue;
    }
    const map = JSON.parse(readFileSync(join(unpacked, mapFile), 'utf8'));
    const contents = map.sourcesContent ?? [];
    if (map.version !== 3 || typeof map.mappings !== 'string' || !Array.isArray(map.sources))
      fail(`${mapFile} is not a source map`);
    map.sources.forEach((source, i) => {
      if (typeof contents[i] !== 'string' && !existsSync(join(unpacked, dirname(mapFile), source))) {
        fail(`${mapFile}: source ${source} is neither shipped nor inlined`);
      }
    });
  }

  const run = (what, command, args) => {
    try {
      execFileSync(command, args, { cwd: work, stdio: 'inherit' });
    } catch {
      fail(what);
    }
  };
  run('publint', bin('publint'), ['run', '--strict', tarball]);
  run('arethetypeswrong', bin('attw'), [
    tarball,
    '--profile',
    'esm-only',
    '--exclude-entrypoints',
    './parley-core.wasm',
  ]);

  // As installed: no wasmBinary, a stand-in WebSocket that opens and records what is sent.
  const smoke = `
    import { createClient } from '${pkg.name}';
    const wasm = import.meta.resolve('${pkg.name}/parley-core.wasm');
    const sent = [];
    class Socket {
      readyState = 0;
      protocol = 'parley.v1.json';
      constructor() { setTimeout(() => { this.readyState = 1; this.onopen?.(); }); }
      send(data) { sent.push(JSON.parse(data)); }
      close() {}
    }
    const client = createClient({ url: 'ws://example.invalid/ws', getToken: () => 't', WebSocket: Socket });
    client.subscribe('connection', () => {
      const c = client.getConnection();
      if (c.state === 'failed') { console.error(c.lastError.message); process.exit(1); }
    });
    client.connect();
    const deadline = Date.now() + 10000;
    while (sent.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    client.dispose();
    console.log(JSON.stringify({ wasm, hello: sent[0] }));
  `;
  try {
    const out = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', smoke], { cwd: work, encoding: 'utf8' }),
    );
    if (!out.wasm.startsWith('file:') || !existsSync(fileURLToPath(out.wasm)))
      fail(`parley-core.wasm resolved to ${out.wasm}`);
    const client = out.hello?.client;
    if (out.hello?.type !== 'hello') fail('Node: the installed package sent no hello');
    else if (client?.name !== pkg.name || client?.version !== pkg.version) {
      fail(`the hello says ${JSON.stringify(client)}, not ${pkg.name} ${pkg.version}`);
    } else
      console.log(
        `Node: the installed package loaded its core from the file and said hello as ${client.name} ${client.version}`,
      );
  } catch (e) {
    fail(`Node could not run the installed package: ${e.message}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (failures.length) {
  for (const f of failures) console.error(`check-package: ${f}`);
  process.exit(1);
}
console.log('check-package: the tarball is complete and checks out');
