// Processes a spec starts itself: a parleyd it can kill and restart (same
// port, same data folder), and a demo (`next start` of the production build,
// or `next dev`) pointed at it through PARLEY_URL, as in production.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { test } from '@playwright/test';

import { DEMO_DIR, PARLEYD_BIN, SECRET } from './env';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Polls `url` until it answers 200 (and, with `accept`, a body it accepts),
 * failing early once `alive()` says the process that should answer is gone.
 */
export async function waitForHttp(
  url: string,
  timeoutMs: number,
  alive: () => boolean,
  what: string,
  accept: (body: string) => boolean = () => true,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`${what} exited before answering ${url}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(1000, deadline - Date.now())) });
      const body = await res.text();
      if (res.ok && accept(body)) return;
      last = `HTTP ${res.status}: ${body.slice(0, 200)}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 100)); // polling a process that is starting
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms (${last})`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => child.once('exit', () => r()));
}

/** A parleyd of the test's own. Restarts keep its port and data folder. */
export class Parleyd {
  private proc: ChildProcess | null = null;
  /** Its log lines (logfmt), across restarts. */
  readonly logs: string[] = [];

  private constructor(
    readonly port: number,
    readonly dataDir: string,
    private readonly args: string[],
  ) {}

  static async start(args: string[] = []): Promise<Parleyd> {
    const p = new Parleyd(await freePort(), mkdtempSync(join(tmpdir(), 'parley-e2e-own-')), args);
    await p.start();
    return p;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== null && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('parleyd is already running');
    const proc = spawn(
      PARLEYD_BIN,
      [
        '--host',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--jwt-secret',
        SECRET,
        '--data-dir',
        this.dataDir,
        ...this.args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    this.proc = proc;
    children.add(proc);
    proc.once('exit', () => children.delete(proc));
    const collect = (chunk: Buffer) => this.logs.push(...chunk.toString().split('\n').filter(Boolean));
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    await waitForHttp(`${this.httpUrl}/healthz`, 10_000, () => this.running, 'parleyd');
  }

  /** SIGKILL: no goodbye to the clients, no checkpoint. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  /** SIGTERM: closes connections with 1012 and exits. */
  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    proc.kill(sig);
    await exited(proc);
  }

  /** The value of a Prometheus counter or gauge (without labels). */
  async metric(name: string): Promise<number> {
    const text = await (await fetch(`${this.httpUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    if (!line) throw new Error(`metric ${name} not found`);
    return Number(line.slice(name.length + 1));
  }
}

/** The chat demo on a port of its own: `next start` (production build) or `next dev`. */
export class Demo {
  private constructor(
    private readonly proc: ChildProcess,
    readonly url: string,
    readonly logs: string[],
  ) {}

  static async start(parleyUrl: string, mode: 'start' | 'dev' = 'start'): Promise<Demo> {
    const port = await freePort();
    const nextBin = require.resolve('next/dist/bin/next', { paths: [DEMO_DIR] });
    const proc = spawn(process.execPath, [nextBin, mode, '-H', '127.0.0.1', '-p', String(port)], {
      cwd: DEMO_DIR,
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        PARLEY_URL: parleyUrl,
        PARLEY_JWT_SECRET: SECRET,
        PARLEY_UPLOAD_DIR: mkdtempSync(join(tmpdir(), 'parley-e2e-uploads-')),
        NODE_ENV: mode === 'dev' ? 'development' : 'production',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.add(proc);
    proc.once('exit', () => children.delete(proc));
    const logs: string[] = [];
    const collect = (chunk: Buffer) => logs.push(...chunk.toString().split('\n').filter(Boolean));
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    const url = `http://127.0.0.1:${port}`;
    const alive = () => proc.exitCode === null && proc.signalCode === null;
    try {
      // In dev the first request also compiles the page.
      await waitForHttp(url, mode === 'dev' ? 240_000 : 60_000, alive, `next ${mode}`);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${logs.join('\n')}`, { cause: e });
    }
    return new Demo(proc, url, logs);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null || !this.proc.pid) return;
    process.kill(-this.proc.pid, 'SIGTERM');
    const killer = setTimeout(() => {
      try {
        process.kill(-this.proc.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, 5000);
    await exited(this.proc);
    clearTimeout(killer);
  }
}

/**
 * Runs the third client (support/protocol-client.mjs, a Node script that
 * speaks protocol v1 over a WebSocket) and returns what it sent: it signs in
 * as `userId`, joins `roomId`, sends `messages` one after the other and
 * exits once each was acknowledged.
 */
export async function runProtocolClient(opts: {
  url: string;
  userId: string;
  name: string;
  roomId: string;
  messages: string[];
}): Promise<{ seq: number; content: string }[]> {
  const script = resolve(__dirname, 'protocol-client.mjs');
  // Node 20 has WebSocket behind a flag; later versions have it by default.
  const flags =
    typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined' ? ['--experimental-websocket'] : [];
  const proc = spawn(process.execPath, [...flags, '--no-warnings', script], {
    env: {
      ...process.env,
      PARLEY_URL: opts.url,
      PARLEY_JWT_SECRET: SECRET,
      PARLEY_USER: opts.userId,
      PARLEY_NAME: opts.name,
      PARLEY_ROOM: opts.roomId,
      PARLEY_MESSAGES: JSON.stringify(opts.messages),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  if (code !== 0) throw new Error(`protocol client exited with ${code}: ${err}${out}`);
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { sent: { seq: number; content: string }[] }).sent;
}

/**
 * A parleyd (with `args`) and a `next start` of the demo of their own for the
 * tests of one spec file: started before them, stopped after. Read
 * `stack.parleyd` and `stack.demo` inside the tests.
 */
export function ownStack(args: string[] = []): { parleyd: Parleyd; demo: Demo } {
  const stack = {} as { parleyd: Parleyd; demo: Demo };
  test.beforeAll(async () => {
    test.setTimeout(90_000);
    stack.parleyd = await Parleyd.start(args);
    stack.demo = await Demo.start(stack.parleyd.wsUrl);
  });
  test.afterAll(async () => {
    await stack.demo?.stop();
    await stack.parleyd?.stop();
  });
  return stack;
}
