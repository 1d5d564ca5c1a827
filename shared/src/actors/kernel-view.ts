/**
 * The policy's view of the kernel's state, built in one place: a policy (or `explain`, or a test)
 * may keep it, and no later step changes it. Its arrays and objects are built for this view; its
 * jobs are the kernel's own job values, frozen (Object.freeze) before a view shows them: a step
 * copies a job before changing it (kernel-step.ts).
 *
 * Persistent steps (`reuse`: a model's state and its jobs are values, replaced, never changed, once
 * a view has shown them) reuse the views of the models that did not change since the last view of
 * the run: a model's view is a function of its static part, its state and its queued jobs, so the
 * same objects give the same view (most steps change one or two of the models).
 */
import type { AccelView, ModelView, SchedulerView } from "../policies/types";
import { type Job, type JobTable, type ModelDyn, type ModelStatic, type Running, jobAt } from "./kernel-state";
import { queueEnd, takesBlock } from "./kernel-queue";

export interface ViewSource {
  readonly now: number;
  readonly blockSize: number;
  readonly quantumMs: number;
  /** Blocks an accelerator may hold committed (kernel-queue.ts); 1: no queue. */
  readonly queueDepth: number;
  /** Look-ahead of a busy accelerator's queue (kernel-queue.ts `takesBlock`); undefined: any room. */
  readonly lookaheadMs: number | undefined;
  readonly accelerators: ReadonlyArray<{ readonly id: string }>;
  readonly fixed: ReadonlyArray<ModelStatic>;
  /** Per model; `recent` already trimmed to the miss window. */
  readonly models: ReadonlyArray<ModelDyn>;
  readonly running: ReadonlyArray<Running | undefined>;
  readonly jobs: JobTable;
  /** Models and jobs are persistent values: reuse the views of unchanged models (see above). */
  readonly reuse?: boolean;
}

/** The views of one model: its full view, then (supernet) a view per downgraded variant with started jobs. */
const modelViews = (f: ModelStatic, m: ModelDyn, jobs: ReadonlyArray<Job>): ModelView[] => {
  let missed = 0;
  for (let r = m.recent.start; r < m.recent.end; r++) if (m.recent.items[r]!.missed) missed++;
  const count = m.recent.end - m.recent.start;
  const full: ModelView = {
    name: f.cfg.name,
    variant: 0,
    ...(f.variants === undefined ? {} : { variants: f.variants }),
    periodMs: f.cfg.periodMs,
    dependsOn: f.cfg.dependsOn,
    completed: m.completed,
    queue: m.downgraded === 0 ? jobs : jobs.filter((j) => j.variant === 0),
    costs: f.cfg.costs,
    wholeCycles: f.wholeCycles,
    optimisticRemainingMs: f.optimisticRemainingMs,
    cascadeRemainingMs: f.cascadeRemainingMs,
    cascadeChildren: f.cascadeChildren,
    recentMissRate: count === 0 ? 0 : missed / count,
    lastOnTimeAt: m.lastOnTimeAt,
  };
  if (m.downgraded === 0 || f.variants === undefined) return [full];
  const views = [full];
  // The view trick: started jobs of variant v > 0 in a view of their own, with v's costs.
  for (let v = 1; v < f.variants.length; v++) {
    const queue = jobs.filter((j) => j.variant === v);
    if (queue.length === 0) continue;
    const { variants: _all, ...shared } = full;
    const vv = f.variants[v]!;
    views.push({ ...shared, variant: v, queue, costs: vv.costs, wholeCycles: vv.wholeCycles, optimisticRemainingMs: vv.optimisticRemainingMs });
  }
  return views;
};

/** A run's last views (by its static models): per model, the state and queued jobs its views were built from. */
interface ViewCache {
  readonly byModel: Array<{ readonly m: ModelDyn; readonly jobs: ReadonlyArray<Job>; readonly views: ReadonlyArray<ModelView> } | undefined>;
  /** The model list of the last view that built a model's views (reused while no model changes). */
  models: ReadonlyArray<ModelView>;
  /** The last completed counts (by model index) and their map (reused while no count changes: a frame's end). */
  completed: number[];
  completedByModel: ReadonlyMap<string, number>;
}
const caches = new WeakMap<ReadonlyArray<ModelStatic>, ViewCache>();

/** The cached views of model `i`, if its state and queued jobs are the ones they were built from. */
const cachedViews = (cache: ViewCache, i: number, m: ModelDyn, jobs: JobTable): ReadonlyArray<ModelView> | undefined => {
  const c = cache.byModel[i];
  if (c === undefined || c.m !== m) return undefined;
  for (let k = 0; k < m.queue.length; k++) if (jobAt(jobs, m.queue[k]!) !== c.jobs[k]) return undefined;
  return c.views;
};

export const buildView = (s: ViewSource): SchedulerView => {
  let cache: ViewCache | undefined;
  if (s.reuse === true) {
    cache = caches.get(s.fixed);
    if (cache === undefined) caches.set(s.fixed, (cache = { byModel: [], models: [], completed: [], completedByModel: new Map() }));
  }
  let changed = cache === undefined;
  const models: ModelView[] = [];
  for (let i = 0; i < s.fixed.length; i++) {
    const m = s.models[i]!;
    let views = cache === undefined ? undefined : cachedViews(cache, i, m, s.jobs);
    if (views === undefined) {
      changed = true;
      const jobs = m.queue.map((j) => jobAt(s.jobs, j));
      views = modelViews(s.fixed[i]!, m, jobs);
      if (cache !== undefined) cache.byModel[i] = { m, jobs, views };
    }
    for (const v of views) models.push(v);
  }
  if (cache !== undefined && changed) cache.models = models;
  let completedByModel: ReadonlyMap<string, number> | undefined;
  if (cache !== undefined) {
    completedByModel = cache.completedByModel;
    for (let i = 0; i < s.fixed.length; i++) {
      if (s.models[i]!.completed === cache.completed[i]) continue;
      completedByModel = undefined;
      break;
    }
  }
  if (completedByModel === undefined) {
    completedByModel = new Map(s.fixed.map((f, i) => [f.cfg.name, s.models[i]!.completed]));
    if (cache !== undefined) {
      cache.completed = s.models.map((m) => m.completed);
      cache.completedByModel = completedByModel;
    }
  }
  // with dispatch queues, "idle" is "can take a block now" (room, and within the look-ahead) and busyUntil is the end of its queue
  const accelerators: AccelView[] = s.running.map((r, index) => ({
    index,
    id: s.accelerators[index]!.id,
    idle: takesBlock(r, s.now, s.queueDepth, s.lookaheadMs),
    busyUntil: queueEnd(r, s.now),
  }));
  return { now: s.now, models: cache !== undefined && !changed ? cache.models : models, accelerators, completedByModel, blockSize: s.blockSize, quantumMs: s.quantumMs };
};
