// A clock whose time moves only when a test says so, for the client's `clock`
// option: backoff, heartbeats, token refresh and typing expiry run in no time
// and in a known order.
import type { Clock } from '../../dist/index.js';

interface Timer {
  at: number;
  order: number;
  callback: () => void;
}

const nextTask = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  private time: number;
  private readonly timers = new Map<number, Timer>();
  private nextId = 1;
  private order = 0;
  private readonly busy: (() => boolean)[] = [];

  /** Starts at `start` (ms since the epoch); by default a fixed instant, so runs are alike. */
  constructor(start = Date.UTC(2026, 11, 1, 12)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): number {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, delayMs), order: this.order++, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** `isBusy` says that events are still on their way (a fake server's frames): settle() waits for them. */
  waitFor(isBusy: () => boolean): void {
    this.busy.push(isBusy);
  }

  /**
   * Lets everything that is ready run, with no time passing: promise chains,
   * and events still on their way (see waitFor), with all they start in turn.
   */
  async settle(): Promise<void> {
    for (let round = 0; round < 10_000; round++) {
      await nextTask();
      if (!this.busy.some((isBusy) => isBusy())) return;
    }
    throw new Error('FakeClock.settle: events keep coming without time passing');
  }

  /** The delays of the timers still pending, soonest first. */
  pending(): number[] {
    return [...this.timers.values()].map((t) => t.at - this.time).sort((a, b) => a - b);
  }

  /**
   * Moves time forward by `ms`, firing each timer due by then at its own time
   * (in order of due time, then of setting), and letting what each one starts
   * (promise chains, socket events) run before the next.
   */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    await this.settle();
    for (;;) {
      let next: [number, Timer] | undefined;
      for (const entry of this.timers) {
        const t = entry[1];
        if (t.at <= end && (!next || t.at < next[1].at || (t.at === next[1].at && t.order < next[1].order)))
          next = entry;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].callback();
      await this.settle();
    }
    this.time = end;
  }

  /** Moves time to `at` (ms since the epoch), as advance does. */
  advanceTo(at: number): Promise<void> {
    return this.advance(Math.max(0, at - this.time));
  }
}
