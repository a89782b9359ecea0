// Starts the real parleyd (build/native) for the wrapper's tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// From the package folder (vitest's working directory).
const binary = join(process.cwd(), '../build/native/server/parleyd');
export const SECRET = 'js-wrapper-test-secret';

export function tokenFor(user: string, name = user, validForSeconds = 3600): string {
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  const header = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64(JSON.stringify({ sub: user, name, exp: Math.floor(Date.now() / 1000) + validForSeconds }));
  const signature = createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export class Parleyd {
  private process: ChildProcess | null = null;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'parley-js-'));
  port = 0;

  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  // Starts (or restarts, on the same port and data) and waits until it listens.
  async start(extra: string[] = []): Promise<void> {
    if (!this.port) this.port = await freePort();
    const child = spawn(
      binary,
      ['--port', String(this.port), '--jwt-secret', SECRET, '--data-dir', this.dataDir, '--threads', '2', ...extra],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timeout = setTimeout(() => reject(new Error(`parleyd did not start:\n${log}`)), 10_000);
      child.stderr.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('msg=listening')) {
          clearTimeout(timeout);
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`parleyd exited (${code}):\n${log}`)));
    });
    child.stderr.resume();
  }

  // SIGKILL: a crash, nothing flushed by the server.
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = null;
  }

  async metrics(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    return res.text();
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : NaN;
}
