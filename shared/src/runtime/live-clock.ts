/**
 * The live run clock (DESIGN.md §4, docs/live.md): wall-clock time since the run started, scaled by
 * the run's speed (0.1 = ten times slower than real), in ms of run time. Lives at the edge (the
 * scheduler host); the kernel only sees its readings, carried by its inputs, so a recorded live run
 * replays exactly.
 */
import { performance } from "node:perf_hooks";

export interface LiveClock {
  readonly speed: number;
  /** Starts the clock (run time 0); later calls do nothing. */
  start(): void;
  /** Run time now, ms (0 before the start). */
  now(): number;
  /** Wall ms until run time `runMs` (0 if it is past). */
  wallUntil(runMs: number): number;
}

export const liveClock = (speed: number): LiveClock => {
  if (!(speed > 0 && speed <= 1000)) throw new Error(`live clock speed ${speed}: expected a number in (0, 1000]`);
  let t0: number | undefined;
  const now = () => (t0 === undefined ? 0 : (performance.now() - t0) * speed);
  return {
    speed,
    start: () => {
      t0 ??= performance.now();
    },
    now,
    wallUntil: (runMs) => Math.max(0, (runMs - now()) / speed),
  };
};

export interface TimerHandle {
  cancel(): void;
}

/** How close to its due time a timer is polled with setImmediate instead of waiting on setTimeout (ms). */
export const SPIN_WINDOW_MS = 1;

/**
 * Timers precise to tens of microseconds for live mode. setTimeout has a 1 ms granularity, far
 * coarser than a layer's latency (often 10–100 µs): a timer waits on setTimeout until it is within
 * {@link SPIN_WINDOW_MS} of its due time, then the event loop is polled with setImmediate (other
 * I/O still runs between polls). Costs CPU only while a timer is that close. One per process.
 */
export class PreciseTimers {
  private readonly due: Array<{ readonly at: number; readonly fn: () => void }> = [];
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private timeout: ReturnType<typeof setTimeout> | undefined;

  /** Calls `fn` once `wallMs` of wall time have passed. */
  after(wallMs: number, fn: () => void): TimerHandle {
    const entry = { at: performance.now() + Math.max(0, wallMs), fn };
    let lo = 0;
    let hi = this.due.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.due[mid]!.at <= entry.at) lo = mid + 1;
      else hi = mid;
    }
    this.due.splice(lo, 0, entry);
    if (lo === 0) this.arm();
    return {
      cancel: () => {
        const i = this.due.indexOf(entry);
        if (i < 0) return;
        this.due.splice(i, 1);
        if (i === 0) this.arm();
      },
    };
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.due.length;
  }

  private readonly pump = () => {
    this.immediate = undefined;
    this.timeout = undefined;
    const now = performance.now();
    while (this.due.length > 0 && this.due[0]!.at <= now) this.due.shift()!.fn();
    this.arm();
  };

  private arm() {
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    if (this.timeout !== undefined) clearTimeout(this.timeout);
    this.immediate = undefined;
    this.timeout = undefined;
    if (this.due.length === 0) return;
    const wait = this.due[0]!.at - performance.now();
    if (wait > SPIN_WINDOW_MS) this.timeout = setTimeout(this.pump, wait - SPIN_WINDOW_MS);
    else this.immediate = setImmediate(this.pump);
  }
}

let shared: PreciseTimers | undefined;
/** The process's live-mode timers. */
export const liveTimers = (): PreciseTimers => (shared ??= new PreciseTimers());

/**
 * A cheap timer for the accelerators' waits: setTimeout for whole milliseconds (rounded down, so it
 * fires at most about a millisecond early or late, never spinning); a wait under 1 ms is not waited
 * for at all. The scheduler never handles a block before its due completion (it holds an early
 * reply until then with precise timers), so the accelerators need not spend a core each on
 * sub-millisecond precision (docs/live.md).
 */
export const coarseAfter = (wallMs: number, fn: () => void): TimerHandle => {
  const ms = Math.floor(wallMs);
  if (ms < 1) {
    const im = setImmediate(fn);
    return { cancel: () => clearImmediate(im) };
  }
  const t = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(t) };
};
