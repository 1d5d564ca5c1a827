/**
 * Helpers shared by the block-granular policies: which jobs are ready, which accelerators are
 * idle, and what a job's next block costs where. Pure.
 */
import type { AccelView, JobView, ModelView, SchedulerView } from "./types";

export interface Ready {
  readonly job: JobView;
  readonly model: ModelView;
}

/** Jobs that can take a block now (released, unfinished, no block in flight), in model byte order then frame order. */
export const readyJobs = (view: SchedulerView): Ready[] => {
  const out: Ready[] = [];
  for (const model of view.models) for (const job of model.queue) if (!job.running) out.push({ job, model });
  return out;
};

export const idleAccelerators = (view: SchedulerView): AccelView[] => view.accelerators.filter((a) => a.idle);

/** Layers of the next block of `job` when blocks are `blockSize` layers long. */
export const nextBlockLayers = (job: JobView, blockSize: number): number =>
  Math.max(1, Math.min(blockSize, job.layerCount - job.nextLayer));

/** Latency (ms) of layers [from, from+count) of `model` on accelerator `acc`. */
export const blockLatencyMs = (model: ModelView, acc: number, from: number, count: number): number => {
  const lat = model.costs.latencyMs[acc]!;
  let s = 0;
  for (let l = from; l < from + count; l++) s += lat[l]!;
  return s;
};

/** Energy (mJ) of layers [from, from+count) of `model` on accelerator `acc`. */
export const blockEnergyMJ = (model: ModelView, acc: number, from: number, count: number): number => {
  const e = model.costs.energyMJ[acc]!;
  let s = 0;
  for (let l = from; l < from + count; l++) s += e[l]!;
  return s;
};

/** Optimistic remaining time of `job` (each remaining layer on its fastest accelerator). */
export const toGoMs = (model: ModelView, job: JobView): number => model.optimisticRemainingMs[job.nextLayer]!;

/** Byte-order string comparison (locale-independent, as everywhere in the runtime). */
export const byteCompare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Greedy list scheduling: takes ready jobs in the given priority order and gives each the idle
 * accelerator `pick` chooses (default: where its next block finishes first; ties → lower index).
 */
export const assignInOrder = (
  view: SchedulerView,
  ordered: ReadonlyArray<Ready>,
  pick: (r: Ready, idle: ReadonlyArray<AccelView>) => AccelView | undefined = fastestIdle(view),
): Array<{ job: string; acc: number; layerCount: number }> => {
  const idle = idleAccelerators(view);
  const out: Array<{ job: string; acc: number; layerCount: number }> = [];
  for (const r of ordered) {
    if (idle.length === 0) break;
    const a = pick(r, idle);
    if (a === undefined) continue;
    idle.splice(idle.indexOf(a), 1);
    out.push({ job: r.job.id, acc: a.index, layerCount: nextBlockLayers(r.job, view.blockSize) });
  }
  return out;
};

/** The idle accelerator on which the job's next block finishes first (lowest index on ties). */
export const fastestIdle =
  (view: SchedulerView) =>
  (r: Ready, idle: ReadonlyArray<AccelView>): AccelView | undefined => {
    const n = nextBlockLayers(r.job, view.blockSize);
    let best: AccelView | undefined;
    let bestLat = Number.POSITIVE_INFINITY;
    for (const a of idle) {
      const lat = blockLatencyMs(r.model, a.index, r.job.nextLayer, n);
      if (lat < bestLat) {
        best = a;
        bestLat = lat;
      }
    }
    return best;
  };
