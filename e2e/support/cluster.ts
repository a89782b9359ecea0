// A Parley cluster of a spec's own, started by scripts/cluster.sh exactly as
// `make cluster` runs it: PostgreSQL, Redis, three parleyd nodes behind
// HAProxy (round robin, no stickiness) and the demo's production build
// pointed at HAProxy. Everything lives in a temporary folder and on free
// ports, so it meets neither the shared stack nor a developer's own cluster.
// Nodes can be SIGKILLed and started again with the script's node<N>.sh.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { test } from '@playwright/test';

import { ROOT, SECRET } from './env';
import { freePort, waitForHttp } from './servers';

/** The admin token of every node (the script's default, set here explicitly). */
export const CLUSTER_ADMIN_TOKEN = 'cluster-admin';

const READY_LINE = 'Parley cluster is running';

// Given to the script and to node<N>.sh when a node is started again: a node
// started without them would sign nothing the demo's tokens match.
const ENV = {
  PARLEY_JWT_SECRET: SECRET,
  PARLEY_ADMIN_TOKEN: CLUSTER_ADMIN_TOKEN,
  NEXT_TELEMETRY_DISABLED: '1',
};

const running = new Set<ChildProcess>();
process.on('exit', () => {
  // A worker that dies mid-run: the script stops everything on SIGTERM by
  // itself (it is in a session of its own, so it outlives us).
  for (const proc of running) {
    try {
      proc.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
});

/** `count` distinct free ports. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((r) => proc.once('exit', () => r()));
}

export class Cluster {
  private constructor(
    private readonly proc: ChildProcess,
    /** CLUSTER_DIR: PostgreSQL's and Redis's files, node<N>.sh, node<N>.pid and every log. */
    readonly dir: string,
    /** HAProxy's port: the one clients use. */
    readonly port: number,
    /** Node N (1-based) listens on nodePorts[N - 1]. */
    readonly nodePorts: number[],
    private readonly demoPort: number,
    /** What the script printed. */
    readonly output: string[],
  ) {}

  /** Runs scripts/cluster.sh and resolves once it says the cluster is running. */
  static async start(nodes = 3): Promise<Cluster> {
    const [port, demoPort, ...nodePorts] = await freePorts(nodes + 2);
    const dir = mkdtempSync(join(tmpdir(), 'parley-e2e-cluster-'));
    const proc = spawn('bash', [resolve(ROOT, 'scripts', 'cluster.sh')], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...ENV,
        CLUSTER_DIR: dir,
        CLUSTER_PORT: String(port),
        NODE_PORTS: nodePorts.join(' '),
        DEMO_PORT: String(demoPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    const output: string[] = [];
    const cluster = new Cluster(proc, dir, port, nodePorts, demoPort, output);
    await new Promise<void>((ready, fail) => {
      // The script gives up by itself after 30 s of waiting for the nodes,
      // HAProxy and the demo; this is for a script that hangs before that.
      const timer = setTimeout(() => fail(new Error(`cluster.sh not ready in 120 s:\n${output.join('\n')}`)), 120_000);
      const collect = (chunk: Buffer) => {
        output.push(...chunk.toString().split('\n').filter(Boolean));
        if (output.some((l) => l.includes(READY_LINE))) {
          clearTimeout(timer);
          ready();
        }
      };
      proc.stdout.on('data', collect);
      proc.stderr.on('data', collect);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(new Error(`cluster.sh exited (${code ?? signal}) before it was ready:\n${output.join('\n')}`));
      });
    }).catch(async (e: unknown) => {
      await cluster.stop();
      throw e;
    });
    return cluster;
  }

  /** The demo (`next start`, started by the script), for signIn's baseURL. */
  get demoUrl(): string {
    return `http://127.0.0.1:${this.demoPort}`;
  }

  nodeUrl(node: number): string {
    return `http://127.0.0.1:${this.nodePorts[node - 1]}`;
  }

  /** Node `node`'s process id, from the pid file the script (or node<N>.sh) wrote. */
  pid(node: number): number {
    return Number(readFileSync(join(this.dir, `node${node}.pid`), 'utf8').trim());
  }

  /** Node `node`'s log (logfmt, across restarts). */
  log(node: number): string {
    const file = join(this.dir, `node${node}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  /**
   * The open connections of each node (index N - 1 for node N), from its
   * /admin/stats; null for a node that does not answer.
   */
  async connections(): Promise<(number | null)[]> {
    return Promise.all(
      this.nodePorts.map(async (_, i) => {
        try {
          const res = await fetch(`${this.nodeUrl(i + 1)}/admin/stats`, {
            headers: { authorization: `Bearer ${CLUSTER_ADMIN_TOKEN}` },
            signal: AbortSignal.timeout(5000),
          });
          if (!res.ok) return null;
          return ((await res.json()) as { connections: number }).connections;
        } catch {
          return null;
        }
      }),
    );
  }

  /** SIGKILL (no goodbye to its clients, nothing flushed); resolves once its port refuses connections. */
  async kill(node: number): Promise<void> {
    process.kill(this.pid(node), 'SIGKILL');
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await fetch(`${this.nodeUrl(node)}/healthz`, { signal: AbortSignal.timeout(1000) });
      } catch {
        return;
      }
      if (Date.now() > deadline) throw new Error(`node ${node} still answers after SIGKILL`);
      await new Promise((r) => setTimeout(r, 50)); // polling a process that is dying
    }
  }

  /** Starts node `node` again with the script's node<N>.sh; resolves once its /healthz says the bus is up. */
  async restart(node: number): Promise<void> {
    const starter = spawn('bash', [join(this.dir, `node${node}.sh`)], {
      cwd: ROOT,
      env: { ...process.env, ...ENV },
      stdio: 'ignore',
    });
    const code = await new Promise<number | null>((r) => starter.once('exit', (c) => r(c)));
    if (code !== 0) throw new Error(`node${node}.sh exited with ${code}`);
    const pid = this.pid(node);
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      await waitForHttp(`${this.nodeUrl(node)}/healthz`, 30_000, alive, `node ${node}`, (body) =>
        body.includes('"bus":"up"'),
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}\n${this.log(node).split('\n').slice(-20).join('\n')}`, { cause: e });
    }
  }

  /** SIGTERM to the script, which stops everything (PostgreSQL included); resolves once it has. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    const killer = setTimeout(() => {
      // Stuck: its session at least (Redis, HAProxy, the demo and the nodes have their own).
      try {
        if (this.proc.pid) process.kill(-this.proc.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }, 30_000);
    await exited(this.proc);
    clearTimeout(killer);
  }
}

/**
 * A cluster for the tests of one spec file: started before them, stopped
 * after them (also when they fail). Read `stack.cluster` inside the tests.
 * A failed test gets the nodes' and HAProxy's logs attached, and the
 * cluster's folder is kept (its path is printed); otherwise it is deleted.
 */
export function ownCluster(): { cluster: Cluster } {
  const stack = {} as { cluster: Cluster };
  let keep = false;
  test.beforeAll(async () => {
    test.setTimeout(150_000);
    stack.cluster = await Cluster.start();
  });
  test.afterEach(async () => {
    const testInfo = test.info();
    if (!stack.cluster || testInfo.status === testInfo.expectedStatus) return;
    keep = true;
    const nodeLogs = stack.cluster.nodePorts.map((_, i) => `node${i + 1}.log`);
    for (const name of [...nodeLogs, 'haproxy.log', 'demo.log']) {
      const file = join(stack.cluster.dir, name);
      if (existsSync(file)) await testInfo.attach(name, { path: file, contentType: 'text/plain' });
    }
  });
  test.afterAll(async () => {
    if (!stack.cluster) return;
    await stack.cluster.stop();
    if (keep) console.error(`cluster files kept in ${stack.cluster.dir}`);
    else rmSync(stack.cluster.dir, { recursive: true, force: true });
  });
  return stack;
}
