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
 *
 * Timing tolerance ε (live.toleranceMs, wall ms × speed; docs/live.md "Timing tolerance"): the
 * emulated system's timeline is kept exact while the emulation keeps within ε of it. An event is
 * handled once the clock has reached its due time, at its due time — or at the clock reading less
 * ε when it comes later than that (the excess is charged to the run). Events are handled one due
 * time after another, as in virtual time, and the kernel does not move past a block's due
 * completion (or an asked release's due time) without its answer until the clock is ε past it;
 * model-task requests hold the step, as in virtual time. So while every report arrives within ε of
 * its due time, a live run makes the virtual run's decisions at the virtual run's times. ε = 0 is
 * the rule before it: every event at the clock reading.
 */
import type { KernelConfig, Target } from "./kernel-types";
import { checkLookaheadValue, checkQueueDepthValue } from "./kernel-queue";
import { type AheadReleases, releaseDueAt } from "./kernel-release";
import { checkChainValue } from "./kernel-chain";
import { MAX_TOLERANCE_MS } from "../contracts/log";

/** What the time source reads to find the next event. */
export interface Timeline {
  readonly now: number;
  /** Live: the latest clock reading. */
  readonly liveNow: number;
  readonly nextTuneAt: number;
  readonly models: ReadonlyArray<{ readonly nextAt: number | null }>;
  readonly running: ReadonlyArray<TimedBlock | undefined>;
  /** Releases asked ahead: what is asked and answered (live mode reads it here; virtual time waits in the kernel: awaited). */
  readonly releases: AheadReleases | undefined;
}

/** A block as the time source sees it: its (estimated, until its answer) completion, and the blocks queued behind it. */
export interface TimedBlock {
  readonly completesAt: number;
  readonly done: boolean;
  readonly queued?: ReadonlyArray<TimedBlock>;
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
  /** Live: the lateness absorbed, ms of run time (0: none; virtual time: 0). */
  readonly toleranceMs: number;
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
  toleranceMs: 0,
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

const live = (speed: number, queueDepth: number, releasesAhead: boolean, toleranceMs: number): TimeSource => ({
  live: true,
  dispatchFields: queueDepth > 1 ? { speed, queueDepth } : { speed },
  toleranceMs,
  checkReply: (corr, at) => {
    if (at === undefined) throw new Error(`live mode: the reply to request ${corr} carries no clock reading`);
  },
  checkClock: () => {},
  // releases asked ahead: no request holds the step (kernel-release.ts), unless the run keeps a
  // tolerance: then task requests hold it as in virtual time; held: task requests do
  holdsStep: releasesAhead && toleranceMs === 0 ? () => false : (to) => to.kind !== "accel",
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
    // an answer due by then and not in yet holds the loop until it comes or ε has passed (ε = 0:
    // only answers due after the clock, which the wait for `next` outlasts anyway)
    const until = awaitedUntil(t, next, toleranceMs);
    if (until > t.liveNow) return { kind: "wait", until: Math.max(until, next) };
    // handled at its due time, or at the clock less ε (ε = 0: the clock, as `next` ≤ it)
    if (next <= t.liveNow) return { kind: "event", at: Math.max(t.now, next, t.liveNow - toleranceMs) };
    return { kind: "wait", until: next };
  },
});

/**
 * The earliest time, ε past its due time, until which an answer due by `next` is still awaited (a block's report, an asked release's answer); −∞ when none is.
 */
const awaitedUntil = (t: Timeline, next: number, toleranceMs: number): number => {
  let until = Number.NEGATIVE_INFINITY;
  const awaits = (due: number) => {
    if (due <= next && due + toleranceMs > t.liveNow && (until === Number.NEGATIVE_INFINITY || due + toleranceMs < until)) until = due + toleranceMs;
  };
  for (const r of t.running) {
    if (r === undefined) continue;
    if (!r.done) awaits(r.completesAt);
    if (r.queued !== undefined) for (const q of r.queued) if (!q.done) awaits(q.completesAt);
  }
  if (t.releases !== undefined) {
    for (const i of t.releases.asked.keys()) {
      const due = t.models[i]!.nextAt;
      if (due !== null) awaits(due);
    }
  }
  return until;
};

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
  const tolerance = cfg.live.toleranceMs ?? 0;
  checkToleranceValue(tolerance);
  return live(cfg.live.speed, cfg.queueDepth ?? 1, (cfg.live.releases ?? "ahead") === "ahead", tolerance * cfg.live.speed);
};

/** Refuses a timing tolerance outside [0, MAX_TOLERANCE_MS] wall ms. */
export const checkToleranceValue = (ms: number): number => {
  if (!(ms >= 0 && ms <= MAX_TOLERANCE_MS)) throw new Error(`live timing tolerance ${ms} ms: expected a number of wall ms in [0, ${MAX_TOLERANCE_MS}]`);
  return ms;
};
