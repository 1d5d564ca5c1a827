/**
 * The policy's view of the kernel's state, built in one place: a policy (or `explain`, or a test)
 * may keep it, and no later step changes it. Its arrays and objects are built for this view; its
 * jobs are the kernel's own job values, frozen (Object.freeze) before a view shows them: a step
 * copies a job before changing it (kernel-step.ts).
 */
import type { AccelView, ModelView, SchedulerView } from "../policies/types";
import { type JobTable, type ModelDyn, type ModelStatic, type Running, jobAt } from "./kernel-state";
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
}

export const buildView = (s: ViewSource): SchedulerView => {
  const completedByModel = new Map<string, number>();
  const models: ModelView[] = [];
  for (let i = 0; i < s.fixed.length; i++) {
    const f = s.fixed[i]!;
    const m = s.models[i]!;
    completedByModel.set(f.cfg.name, m.completed);
    let missed = 0;
    for (let r = m.recent.start; r < m.recent.end; r++) if (m.recent.items[r]!.missed) missed++;
    const count = m.recent.end - m.recent.start;
    const jobs = m.queue.map((j) => jobAt(s.jobs, j));
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
    models.push(full);
    if (m.downgraded === 0 || f.variants === undefined) continue;
    // The view trick: started jobs of variant v > 0 in a view of their own, with v's costs.
    for (let v = 1; v < f.variants.length; v++) {
      const queue = jobs.filter((j) => j.variant === v);
      if (queue.length === 0) continue;
      const { variants: _all, ...shared } = full;
      const vv = f.variants[v]!;
      models.push({ ...shared, variant: v, queue, costs: vv.costs, wholeCycles: vv.wholeCycles, optimisticRemainingMs: vv.optimisticRemainingMs });
    }
  }
  // with dispatch queues, "idle" is "can take a block now" (room, and within the look-ahead) and busyUntil is the end of its queue
  const accelerators: AccelView[] = s.running.map((r, index) => ({
    index,
    id: s.accelerators[index]!.id,
    idle: takesBlock(r, s.now, s.queueDepth, s.lookaheadMs),
    busyUntil: queueEnd(r, s.now),
  }));
  return { now: s.now, models, accelerators, completedByModel, blockSize: s.blockSize, quantumMs: s.quantumMs };
};
