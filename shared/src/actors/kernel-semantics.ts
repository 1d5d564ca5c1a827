/**
 * The kernel's two semantics as strategies, so the event loop (kernel-step.ts) states each rule
 * once:
 *
 * `xrbench` reproduces the official XRBench runtime (shared/data/xrbench/PROVENANCE.md): events at
 * 0, base ticks k·B and completions; a job is finished at t when t + 0.01 ms ≥ its completion;
 * queued frames whose deadline < t are dropped (the oldest first, models in byte order); cascades
 * are gated by parents' completion counts (in the policy); the run ends after the event at which
 * every model has injected its last frame, leaving frames still queued or running `unfinished`.
 *
 * `exact` is the project's semantics (DESIGN.md §5): layer(-block) granularity, a frame whose
 * deadline passes before its first block starts is dropped, a started one runs on unless the
 * policy drops it, cascaded children are released on the parent's end (a seeded draw in the
 * child's task) and dropped with their parent, energy of dropped work counts. Releases stop at the
 * run's duration; the run then drains, so every released frame ends exactly once.
 */
import type { Timing } from "../contracts/messages";
import type { KernelMode } from "./kernel-types";

/** XRBench treats a job as finished at t when t + 0.01 ms ≥ its completion time. */
export const XRBENCH_FINISH_TOLERANCE_MS = 0.01;

export interface Semantics {
  readonly mode: KernelMode;
  /** How accelerators compute times (block.dispatch `timing`). */
  readonly timing: Timing;
  /** A block is over at t when t + this ≥ its completion. */
  readonly finishToleranceMs: number;
  /** Cascade children are released by their parent's end and dropped with it (the view carries cascade figures). */
  readonly cascades: boolean;
  /** The online tuner may run. */
  readonly tunes: boolean;
  /** A queued, unstarted frame with this deadline can no longer be run at `now`. */
  expired(deadline: number, now: number): boolean;
  /** Runtime drops stop at a model's first frame that has not expired (only the oldest go). */
  readonly dropsOldestOnly: boolean;
  /** Whether the run ends, given releases are `exhausted`, no block runs (`idle`), nothing is queued (`drained`). */
  over(exhausted: boolean, idle: boolean, drained: boolean): boolean;
  /** The next event time the semantics itself schedules after `now`: the base tick, or the earliest release. */
  nextTick(now: number, baseTickMs: number, releases: ReadonlyArray<{ readonly nextAt: number | null }>): number;
  /** The next event may be at the current time (a release at the time of the event that scheduled it). */
  readonly sameTimeEvents: boolean;
  /** When nothing runs and nothing will be released, frames left queued are dropped (they can never run). */
  readonly dropsStranded: boolean;
}

const xrbench: Semantics = {
  mode: "xrbench",
  timing: "xrbench-f32",
  finishToleranceMs: XRBENCH_FINISH_TOLERANCE_MS,
  cascades: false,
  tunes: false,
  expired: (deadline, now) => deadline < now,
  dropsOldestOnly: true,
  over: (exhausted) => exhausted,
  nextTick: (now, baseTickMs) => (Math.floor(now / baseTickMs) + 1) * baseTickMs,
  sameTimeEvents: false,
  dropsStranded: false,
};

const exact: Semantics = {
  mode: "exact",
  timing: "exact",
  finishToleranceMs: 0,
  cascades: true,
  tunes: true,
  expired: (deadline, now) => deadline <= now,
  dropsOldestOnly: false,
  over: (exhausted, idle, drained) => exhausted && idle && drained,
  nextTick: (_now, _baseTickMs, releases) => {
    let next = Number.POSITIVE_INFINITY;
    for (const m of releases) if (m.nextAt !== null && m.nextAt < next) next = m.nextAt;
    return next;
  },
  sameTimeEvents: true,
  dropsStranded: true,
};

export const semanticsOf = (mode: KernelMode): Semantics => (mode === "xrbench" ? xrbench : exact);
