/**
 * The live run clock (DESIGN.md §4, docs/live.md): wall-clock time since the run started, scaled by
 * the run's speed (0.1 = ten times slower than real), in ms of run time. Lives at the edge (the
 * scheduler host); the kernel only sees its readings, carried by its inputs, so a recorded live run
 * replays exactly.
 */
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";

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

/** How close to its due time a timer is polled on the event loop (setImmediate) instead of waiting on the timer thread (ms). */
export const SPIN_WINDOW_MS = 0.25;

/**
 * The timer thread's code (a worker evaluated from this string, so it runs the same from the
 * bundle and from the sources). It sleeps on a shared generation word until the earliest due time
 * the main thread set (absolute ms since the epoch origin of `performance`; +∞: none) or until the
 * main thread stores a new one, then wakes the event loop with a message. `Atomics.wait` sleeps on
 * a futex with a timeout precise to tens of microseconds, where setTimeout's is a millisecond, and
 * costs no CPU while it waits. The thread lives as long as the process (unreferenced when idle).
 */
const TIMER_THREAD = `
const { parentPort, workerData } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
const generation = new Int32Array(workerData, 0, 1);
const due = new Float64Array(workerData, 8, 1);
for (;;) {
  const gen = Atomics.load(generation, 0);
  const left = due[0] - (performance.timeOrigin + performance.now());
  if (!(left > 0)) {
    parentPort.postMessage(null);
    Atomics.wait(generation, 0, gen); // until the main thread sets the next due time
  } else Atomics.wait(generation, 0, gen, left); // an infinite timeout waits until told
}
`;

/**
 * Timers precise to tens of microseconds for live mode, without spinning. setTimeout has a 1 ms
 * granularity, far coarser than a block's latency; polling the event loop for the last millisecond
 * (what this did before) kept a core busy and allocated enough to make the young-generation
 * collector pause the run every ~100 ms (docs/live.md "How it works"). Here one timer thread per process
 * sleeps until the earliest due time and wakes the event loop with a message; the callbacks run on
 * the main thread, in due order. While a timer is pending the thread keeps the process alive.
 */
export class PreciseTimers {
  private readonly due: Array<{ readonly at: number; readonly fn: () => void }> = [];
  private thread: { readonly worker: Worker; readonly generation: Int32Array; readonly at: Float64Array } | undefined;
  private generation = 0;
  private immediate: ReturnType<typeof setImmediate> | undefined;
  private holding = false;
  /** The latest due time the thread may be sleeping towards (stored since it was last woken; +∞: it sleeps until told). */
  private sleepsTowards = Number.POSITIVE_INFINITY;
  /** Until the thread runs (it takes tens of ms to start), a coarse setTimeout stands in for it. */
  private online = false;
  private onlineWaiters: Array<() => void> = [];
  private fallback: ReturnType<typeof setTimeout> | undefined;

  /**
   * Starts the timer thread, if it is not running, and resolves once it runs. A live run calls this
   * before its clock starts: the thread's start-up (30–90 ms of a worker's Node environment on the
   * 2-core machine) would otherwise fall on the run's first wake-up (docs/live.md).
   */
  ready(): Promise<void> {
    this.thread ??= this.start();
    if (this.online) return Promise.resolve();
    this.thread.worker.ref(); // someone waits for it: the process stays up until it runs
    return new Promise((resolve) => this.onlineWaiters.push(resolve));
  }

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
    if (lo === 0) this.rearm();
    return {
      cancel: () => {
        const i = this.due.indexOf(entry);
        if (i < 0) return;
        this.due.splice(i, 1);
        if (i === 0) this.rearm();
      },
    };
  }

  /** Whether the timer thread runs (`ready()` has resolved or would at once). */
  get running(): boolean {
    return this.online;
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.due.length;
  }

  // a wake-up for a due time since changed finds nothing due and only arms again
  private readonly pump = () => {
    this.immediate = undefined;
    clearTimeout(this.fallback);
    this.fallback = undefined;
    const now = performance.now();
    while (this.due.length > 0 && this.due[0]!.at <= now) this.due.shift()!.fn();
    this.arm();
  };

  private armQueued = false;

  /** Arms at the end of the current task: a cancel and a new timer in one step (the scheduler's next wake-up) tell the thread once. */
  private rearm() {
    if (this.armQueued) return;
    this.armQueued = true;
    queueMicrotask(this.armNow);
  }

  private readonly armNow = () => {
    this.armQueued = false;
    this.arm();
  };

  private arm() {
    const t = (this.thread ??= this.start());
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    const first = this.due[0]?.at;
    // the last stretch is polled on the event loop (the thread sleeps): waking the thread and then
    // the loop costs ~0.1 ms
    const polled = first !== undefined && first - performance.now() <= SPIN_WINDOW_MS;
    if (polled) this.immediate = setImmediate(this.pump);
    // The thread re-reads the due time whenever it wakes, so a later one is only stored: the thread
    // wakes at the earlier one it may be sleeping towards and sleeps on. It is woken (a futex wake,
    // a system call costing tens of µs on this VM) only for a due time earlier than any it may be
    // sleeping towards.
    const at = first === undefined || polled ? Number.POSITIVE_INFINITY : performance.timeOrigin + first - SPIN_WINDOW_MS;
    if (at !== t.at[0]) {
      t.at[0] = at;
      this.generation = (this.generation + 1) | 0;
      Atomics.store(t.generation, 0, this.generation);
    }
    if (at < this.sleepsTowards) {
      Atomics.notify(t.generation, 0);
      this.sleepsTowards = at;
    } else this.sleepsTowards = Math.max(this.sleepsTowards, at);
    if (!this.online) {
      clearTimeout(this.fallback);
      this.fallback = at === Number.POSITIVE_INFINITY ? undefined : setTimeout(this.pump, Math.max(0, at - performance.timeOrigin - performance.now()));
    }
    const holds = at !== Number.POSITIVE_INFINITY; // a sleeping thread with a due time keeps the process alive
    if (holds !== this.holding) {
      this.holding = holds;
      if (holds) t.worker.ref();
      else t.worker.unref();
    }
  }

  private start() {
    const shared = new SharedArrayBuffer(16);
    new Float64Array(shared, 8, 1)[0] = Number.POSITIVE_INFINITY; // no due time yet
    const worker = new Worker(TIMER_THREAD, { eval: true, workerData: shared, stdout: false, stderr: false });
    worker.on("message", () => {
      this.sleepsTowards = Number.POSITIVE_INFINITY; // having posted, the thread sleeps until told
      this.pump();
    });
    worker.once("online", () => {
      this.online = true;
      if (!this.holding) worker.unref();
      for (const resolve of this.onlineWaiters.splice(0)) resolve();
      this.pump(); // hands the pending due time (if any) from the stand-in timer to the thread
    });
    worker.unref();
    return { worker, generation: new Int32Array(shared, 0, 1), at: new Float64Array(shared, 8, 1) };
  }
}

let shared: PreciseTimers | undefined;
/** The process's live-mode timers. */
export const liveTimers = (): PreciseTimers => (shared ??= new PreciseTimers());

/** The timer port: calls `fn` once `wallMs` of wall time have passed. */
export interface Timers {
  after(wallMs: number, fn: () => void): TimerHandle;
}

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

/**
 * How long before a live block's end its accelerator reports its completion, by default (wall ms):
 * the message path's budget. Measured over NATS on the 2-core machine with 7 processes: a dispatch
 * reaches its accelerator in 0.3 ms (p50) to 4 ms (p99) and a reply comes back as fast, so an
 * answer sent at the block's end reached the scheduler after its due time for almost every block
 * (docs/live.md "How it works").
 */
export const DEFAULT_COMPLETION_LEAD_MS = 4;

/** A live block as its accelerator's clock plans it. */
export interface PlannedBlock {
  /** Wall ms it runs for (its latency at the run's speed). */
  readonly wallMs: number;
  /** Its due completion, ms of run time (the dispatch's start + its latency), and the run's speed: with them it ends when the run's timeline says. */
  readonly endsAt?: number;
  readonly speed?: number;
}

export interface BlockClock {
  /** A live dispatch sent at run time `at` (ms; its `sentAt`, else its `at`) arrived now: it bounds where this clock's run time is. */
  arrived(at: number, speed: number): void;
  /** Calls `fn` `leadMs` before `block` ends (at once if that is past). */
  arm(block: PlannedBlock, fn: () => void): TimerHandle;
}

/**
 * A live accelerator's block clock. A block ends when the run's timeline says — its due completion
 * (`endsAt`, the dispatch's time plus its latency, as the scheduler computes it) mapped onto this
 * process's wall clock — and its completion is reported `leadMs` before that end, so that the
 * report reaches the scheduler by its due time; the scheduler holds an early report until then.
 * The map is learnt from the dispatches: a dispatch stamped `at` cannot have been sent before run
 * time `at`, so `arrival − at / speed` bounds the run's wall origin from above and the least of
 * them is the estimate (off by the quickest dispatch's path, tens of µs). Planning from the run's
 * timeline, not from arrivals, keeps a late dispatch from pushing every later block of a busy
 * accelerator later (its ends stay where the scheduler expects them: docs/live.md "Timing
 * tolerance"). Before any dispatch has arrived, or for a block without `endsAt`, blocks run back
 * to back from their arrival for their latency.
 */
export const blockClock = (leadMs: number, timers: Timers = { after: coarseAfter }, wallNow: () => number = () => performance.now()): BlockClock => {
  if (!(leadMs >= 0 && Number.isFinite(leadMs))) throw new Error(`completion lead ${leadMs} ms: expected a finite number >= 0`);
  let lastEnd = Number.NEGATIVE_INFINITY;
  let origin = Number.POSITIVE_INFINITY; // the run's time 0 on this wall clock (an upper bound)
  return {
    arrived: (at, speed) => {
      const o = wallNow() - at / speed;
      if (o < origin) origin = o;
    },
    arm: (block, fn) => {
      const now = wallNow();
      lastEnd =
        block.endsAt !== undefined && block.speed !== undefined && origin !== Number.POSITIVE_INFINITY
          ? origin + block.endsAt / block.speed
          : Math.max(now, lastEnd) + block.wallMs;
      return timers.after(Math.max(0, lastEnd - leadMs - now), fn);
    },
  };
};
