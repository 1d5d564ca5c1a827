/**
 * The kernel's two time sources as strategies (DESIGN.md §4, docs/live.md):
 *
 * Virtual time: the clock advances only when every request of a step has been answered, to the
 * next event the kernel computes (a release, a block's completion the accelerator reported, a
 * tuning point); inputs carry no clock reading.
 *
 * Live time (exact semantics only): the host's wall clock, scaled, drives time. Inputs carry the
 * clock reading (`at`); block dispatches do not hold the step: a block ends when its
 * accelerator's reply arrives (the accelerator really waits), at the time the scheduler handles it,
 * never before its due completion; the kernel asks the host to wake it (`wait` effect) at the next
 * release or tuning point and reacts to replies as they come. Scheduler lag — handling time minus
 * the block's due completion — is sampled per block. Replaying the recorded inputs (with their
 * clock readings) reproduces every decision.
 */
import type { KernelConfig, Target } from "./kernel-types";
import { checkLookaheadValue, checkQueueDepthValue } from "./kernel-queue";
import { type AheadReleases, releaseDueAt } from "./kernel-release";
import { checkChainValue } from "./kernel-chain";

/** What the time source reads to find the next event. */
export interface Timeline {
  readonly now: number;
  /** Live: the latest clock reading. */
  readonly liveNow: number;
  readonly nextTuneAt: number;
  readonly models: ReadonlyArray<{ readonly nextAt: number | null }>;
  readonly running: ReadonlyArray<{ readonly completesAt: number; readonly done: boolean } | undefined>;
  /** Releases asked ahead: what is asked and answered (live mode reads it here; virtual time waits in the kernel: awaited). */
  readonly releases: AheadReleases | undefined;
}

/** Where the loop goes next: an event at `at`, or a wait for the clock to read `until`. */
export type Next = { readonly kind: "event"; readonly at: number } | { readonly kind: "wait"; readonly until: number };

export interface TimeSource {
  readonly live: boolean;
  /** Fields every block dispatch carries (live: the run's speed, and its queue depth when above 1). */
  readonly dispatchFields: { readonly speed?: number; readonly queueDepth?: number };
  /** Refuses a reply whose clock reading does not fit this time. */
  checkReply(corr: number, at: number | undefined): void;
  /** Refuses a clock input in virtual time. */
  checkClock(): void;
  /** A request to `to` holds the step until its reply (live block dispatches do not). */
  holdsStep(to: Target): boolean;
  /** When a block dispatched at `now` is taken to complete before its reply (`latencyMs`: its latency at the costs it runs). */
  estimate(now: number, latencyMs: () => number): number;
  /** The block is over at `now` (`toleranceMs`: the semantics' finish tolerance). */
  blockOver(block: { readonly completesAt: number; readonly done: boolean }, now: number, toleranceMs: number): boolean;
  /** The next event after `t` (`tick`: the semantics' own next event time). */
  next(t: Timeline, tick: number, sameTimeEvents: boolean): Next;
}

const virtual: TimeSource = {
  live: false,
  dispatchFields: {},
  checkReply: (corr, at) => {
    if (at !== undefined) throw new Error(`virtual time: the reply to request ${corr} carries a clock reading`);
  },
  checkClock: () => {
    throw new Error("a clock input in virtual time");
  },
  holdsStep: () => true,
  estimate: () => Number.NaN,
  blockOver: (r, now, toleranceMs) => now + toleranceMs >= r.completesAt,
  next: (t, tick, sameTimeEvents) => {
    let next = tick;
    for (const r of t.running) if (r !== undefined && r.completesAt < next) next = r.completesAt;
    if (t.nextTuneAt < next) next = t.nextTuneAt;
    if (!(next > t.now) && !(sameTimeEvents && next === t.now)) throw new Error(`virtual clock cannot advance from ${t.now} ms`);
    return { kind: "event", at: Math.max(next, t.now) };
  },
};

const live = (speed: number, queueDepth: number, releasesAhead: boolean): TimeSource => ({
  live: true,
  dispatchFields: queueDepth > 1 ? { speed, queueDepth } : { speed },
  checkReply: (corr, at) => {
    if (at === undefined) throw new Error(`live mode: the reply to request ${corr} carries no clock reading`);
  },
  checkClock: () => {},
  // releases asked ahead: no request holds the step (kernel-release.ts); held: task requests do
  holdsStep: releasesAhead ? () => false : (to) => to.kind !== "accel",
  // the policy sees the block's estimated completion until its accelerator replies
  estimate: (now, latencyMs) => now + latencyMs(),
  blockOver: (r, now) => r.done && r.completesAt <= now,
  // `tick`: the kernel's own wake-ups (live: only the look-ahead's commit points, kernel-queue.ts)
  next: (t, tick) => {
    let next = t.releases !== undefined && t.releases.cascades.length > 0 ? t.liveNow : Math.min(t.nextTuneAt, tick);
    for (let i = 0; i < t.models.length; i++) {
      const due = t.releases === undefined ? t.models[i]!.nextAt : releaseDueAt(t.releases, i, t.models[i]!.nextAt);
      if (due !== null && due < next) next = due;
    }
    // a block is over once its reply is handled, never before its due completion
    for (const r of t.running) if (r !== undefined && r.done && r.completesAt < next) next = r.completesAt;
    if (next <= t.liveNow) return { kind: "event", at: Math.max(t.now, t.liveNow) };
    return { kind: "wait", until: next };
  },
});

export const timeSourceOf = (cfg: KernelConfig): TimeSource => {
  if (cfg.queueDepth !== undefined) checkQueueDepthValue(cfg.queueDepth);
  if (cfg.chainMs !== undefined) checkChainValue(cfg.chainMs, cfg.queueDepth ?? 1);
  if (cfg.lookaheadMs !== undefined) checkLookaheadValue(cfg.lookaheadMs, cfg.queueDepth ?? 1);
  if (cfg.releases !== undefined && (cfg.live !== undefined || cfg.mode !== "exact")) {
    throw new Error(`releases ${cfg.releases}: a setting of virtual-time runs in exact mode (live runs set live.releases; xrbench mode asks when due)`);
  }
  if (cfg.live === undefined) return virtual;
  if (cfg.mode !== "exact") throw new Error("live mode needs the exact kernel mode (the xrbench policy reproduces a virtual-time tool)");
  if (!(cfg.live.speed > 0 && cfg.live.speed <= 1000)) throw new Error(`live speed ${cfg.live.speed}: expected a number in (0, 1000]`);
  return live(cfg.live.speed, cfg.queueDepth ?? 1, (cfg.live.releases ?? "ahead") === "ahead");
};
