/**
 * The warm-up of a live run (docs/live.md "Warm-up"): before a live run's clock starts, the same
 * run in virtual time, in this process, on a private in-memory bus, for a short simulated time,
 * its result thrown away.
 *
 * Why: a live run starts in a fresh process, where the scheduler kernel, the policy and the XState
 * machines run as interpreted byte code until V8 has seen them often enough to compile them. In one
 * process (AR_Assistant on Quad_8K, 3 s, speed 1) the blocks of the run's first second retired late
 * by 160–300 ms in sum, those of its third second by 34–41 ms; late retirements are accelerator time
 * lost and frames missed that virtual time does not miss. The warm-up runs that code before the
 * clock starts, so the run is measured warm. It changes no decision of the live run: the warm-up
 * has its own bus, its own actors and kernel and no hooks (no events, no recording, no observer),
 * and a kernel is a function of its inputs, not of how hot its code is.
 *
 * A warm-up runs on the in-memory bus, whose deliveries are microtasks: it does not yield to the
 * event loop's timers until it ends (0.1–0.7 s at the default), so `serve scheduler` warms up
 * before it connects to NATS and takes the run lease, whose heartbeat must not wait for it.
 *
 * Only the process that runs the scheduler warms up (`run`, `serve scheduler`): warming the
 * accelerator and workload processes too (a run of the spec in each, or 400 dispatches to a private
 * accelerator actor) made no difference over NATS that the runs' spread did not hide
 * (docs/performance.md §4, "Session 11").
 */
import { type RunOptions, isolatedRun } from "./setup";
import { RunConfigError } from "../contracts/errors";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * A full garbage collection, now: the set-up and the warm-up leave the old generation grown, and
 * V8 would collect it during the run — an incremental marking whose steps (measured up to 6.7 ms
 * with --trace-gc) stall the scheduler's event loop while blocks are due. Collected here, before the
 * clock starts, it costs the run nothing. (V8's `gc` is exposed for the call and hidden again.)
 */
const fullGc = () => {
  setFlagsFromString("--expose-gc");
  const gc = runInNewContext("gc") as () => void;
  setFlagsFromString("--no-expose-gc");
  gc();
};

/** The run id of every warm-up (a private bus: it meets no other run). */
const WARM_UP_RUN = "warm-up";

/** Simulated time of a live run's warm-up by default, ms (`--warm-up`; 0: none). */
export const LIVE_WARM_UP_MS = 1000;

/** The longest warm-up `--warm-up` accepts, ms of simulated time. */
export const MAX_WARM_UP_MS = 60_000;

/** What a live run's warm-up did (the run's `live.warmUp`). */
export interface WarmUpReport {
  /** Simulated time of the warm-up run, ms (0: no warm-up). */
  readonly simulatedMs: number;
  /** Wall time it took, ms. */
  readonly wallMs: number;
}

/** Throws on a warm-up that is not a finite number of ms in [0, MAX_WARM_UP_MS]. */
export const checkWarmUpMs = (ms: number): number => {
  if (!(ms >= 0 && ms <= MAX_WARM_UP_MS)) throw new RunConfigError(`warm-up ${ms} ms: expected a duration from 0 to ${MAX_WARM_UP_MS} ms`);
  return ms;
};

/**
 * A live run's warm-up: `opts` in virtual time for `opts.warmUpMs` (default LIVE_WARM_UP_MS) with
 * `runInVirtualTime`, its hooks, bus and live setting stripped (run id "warm-up"), and how long it
 * took; nothing for 0 ms, and none for a virtual-time run.
 */
export const warmUpLive = async (opts: RunOptions, runInVirtualTime: (opts: RunOptions) => Promise<unknown>): Promise<WarmUpReport | undefined> => {
  if (opts.live === undefined) return undefined;
  const simulatedMs = checkWarmUpMs(opts.warmUpMs ?? LIVE_WARM_UP_MS);
  if (simulatedMs === 0) return { simulatedMs: 0, wallMs: 0 };
  const started = performance.now();
  // without speculation: a live run has none, and the warm-up is to compile the paths it takes (an
  // event of the scheduler actor and one of the accelerator's per block)
  await runInVirtualTime({ ...isolatedRun(opts), durationMs: simulatedMs, run: WARM_UP_RUN, speculate: 0 });
  fullGc();
  return { simulatedMs, wallMs: performance.now() - started };
};
