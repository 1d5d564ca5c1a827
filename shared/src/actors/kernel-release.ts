/**
 * Frame releases asked ahead (docs/live.md "Releases asked ahead", docs/architecture.md "Virtual time").
 *
 * Held (xrbench mode, and logs recorded before releases were asked ahead: `releases: "held"` or
 * absent): the kernel asks a model task for its frame when the release is due (task.tick) and holds
 * the step until the task answers. Over NATS that is a round trip during which the scheduler
 * handles no completion and dispatches nothing.
 *
 * Ahead: the kernel asks for a model's next release as soon as it has injected the current one (the
 * tick names the release's due time, which the task reported as `nextAt`), keeps the answer until
 * the release is due, and injects it then (stamped with the time it is injected). The task's
 * answer depends only on the tick (its due time and number: every draw is counter-based per
 * frame), so it is the same whenever it is asked, and a recorded run replays exactly from its inputs.
 *
 * - Live mode (every live run since 2026-12-07): task requests never hold the step; a tick's answer,
 *   or a cascade child's release (task.parentEnded), is an input like a block's completion, applied
 *   at the next event.
 * - Virtual time, exact mode (since 2026-12-07): a tick asked ahead does not hold its step; the clock
 *   does not pass a release's due time before its answer is in (`awaited`), so nothing before that
 *   time could have read it and the run's results do not depend on when it arrives. A tick due now
 *   (each model's first) and a cascade child's release still hold the step, as before. Over NATS
 *   the answer comes back while the scheduler waits for the block dispatches of the steps in
 *   between, instead of costing a round trip of its own at the release.
 */
import type { TaskReleased } from "../contracts/messages";
import type { KernelConfig } from "./kernel-types";

/** How a run asks for releases (recorded in the log header: `live.releases`, or `releases` in virtual time). */
export type ReleaseMode = "ahead" | "held";

/** Releases asked ahead: what is asked and answered. */
export interface AheadReleases {
  /** Models whose next release has been asked and not answered yet (model index → the tick's corr). */
  readonly asked: ReadonlyMap<number, number>;
  /** Answers kept until their release is due (model index → the answer and its corr). */
  readonly answered: ReadonlyMap<number, { readonly corr: number; readonly reply: TaskReleased }>;
  /** Cascade children's answers (task.parentEnded) in arrival order, applied at the next event. */
  readonly cascades: ReadonlyArray<{ readonly corr: number; readonly reply: TaskReleased }>;
}

export const noReleases: AheadReleases = { asked: new Map(), answered: new Map(), cascades: [] };

/** A task's answer arrived: kept (a tick's, by model) or queued (a cascade child's). */
export const releaseArrived = (r: AheadReleases, corr: number, reply: TaskReleased, model: number, cascade: boolean): AheadReleases => {
  if (cascade) return { ...r, cascades: [...r.cascades, { corr, reply }] };
  if (r.asked.get(model) !== corr) throw new Error(`live releases: task ${reply.model} answered tick request ${corr}, which was not asked`);
  const asked = new Map(r.asked);
  asked.delete(model);
  return { ...r, asked, answered: new Map(r.answered).set(model, { corr, reply }) };
};

/** The model's next release was asked (request `corr`). */
export const releaseAsked = (r: AheadReleases, model: number, corr: number): AheadReleases => ({ ...r, asked: new Map(r.asked).set(model, corr) });

/** The model's kept answer is taken (its release is due). */
export const releaseTaken = (r: AheadReleases, model: number): AheadReleases => {
  const answered = new Map(r.answered);
  answered.delete(model);
  return { ...r, answered };
};

/**
 * When model `model`'s next release can be injected: its due time once its answer is in or before
 * it was asked (the kernel then asks); null while the answer is awaited (its arrival wakes the kernel).
 */
export const releaseDueAt = (r: AheadReleases, model: number, nextAt: number | null): number | null =>
  nextAt !== null && r.asked.has(model) ? null : nextAt;

/** Whether a task request is unanswered or an answer unapplied (the run is not over). */
export const releasesOpen = (r: AheadReleases): boolean => r.asked.size > 0 || r.answered.size > 0 || r.cascades.length > 0;

/** Whether a kernel of this configuration asks releases ahead (live: unless "held"; virtual time: when "ahead", exact mode only: kernel-time.ts refuses it otherwise). */
export const releasesAhead = (cfg: Pick<KernelConfig, "live" | "releases">): boolean =>
  cfg.live !== undefined ? (cfg.live.releases ?? "ahead") === "ahead" : cfg.releases === "ahead";

/** Virtual time: a release due by `at` whose answer is not in yet (the clock must not reach `at` before it is). */
export const awaited = (r: AheadReleases, models: ReadonlyArray<{ readonly nextAt: number | null }>, at: number): boolean => {
  for (const i of r.asked.keys()) {
    const due = models[i]!.nextAt;
    if (due !== null && due <= at) return true;
  }
  return false;
};
