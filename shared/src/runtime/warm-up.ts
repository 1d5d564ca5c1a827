/**
 * The warm-up of a live run (docs/live.md "Warm-up"): before a live run's clock starts, the same
 * run in virtual time, in this process, on a private in-memory bus, for a short simulated time,
 * its result thrown away.
 *
 * Why: a live run starts in a fresh process, where the scheduler kernel, the policy and the XState
 * machines run as interpreted byte code until V8 has seen them often enough to compile them; in the
 * run's first second its blocks retired late three to five times as often as later on (in one
 * process, AR_Assistant on Quad_8K: the first second's summed lag 140–190 ms, the third's 35–40 ms),
 * and those late retirements are frames missed that virtual time does not miss. The warm-up runs
 * that code before the clock starts, so the run is measured warm. It changes no decision of the
 * live run: the warm-up has its own bus, its own actors and kernel and no hooks (no events, no
 * recording, no observer), and a kernel is a function of its inputs, not of how hot its code is.
 */
import { type RunOptions, isolatedRun } from "./setup";

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
  if (!(ms >= 0 && ms <= MAX_WARM_UP_MS)) throw new Error(`warm-up ${ms} ms: expected a duration from 0 to ${MAX_WARM_UP_MS} ms`);
  return ms;
};

/**
 * Runs `opts` in virtual time for `simulatedMs` (its hooks, bus and live setting stripped) with
 * `runInVirtualTime`, and reports how long it took. No warm-up for a virtual-time run or 0 ms.
 */
export const warmUpLive = async (
  opts: RunOptions,
  runInVirtualTime: (opts: RunOptions) => Promise<unknown>,
  simulatedMs: number = opts.warmUpMs ?? LIVE_WARM_UP_MS,
): Promise<WarmUpReport | undefined> => {
  if (opts.live === undefined) return undefined;
  checkWarmUpMs(simulatedMs);
  if (simulatedMs === 0) return { simulatedMs: 0, wallMs: 0 };
  const started = performance.now();
  await runInVirtualTime({ ...isolatedRun(opts), durationMs: simulatedMs, run: "warm-up" });
  return { simulatedMs, wallMs: performance.now() - started };
};
