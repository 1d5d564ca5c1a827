/**
 * `veltair` — VELTAIR's layer-block scheduling (Liu et al., "VELTAIR: Towards High-Performance
 * Multi-tenant Deep Learning Services via Adaptive Compilation and Scheduling", ASPLOS 2022: its
 * layer-block scheduler), adapted to this runtime.
 *
 * VELTAIR schedules multi-tenant DNNs in layer blocks rather than whole models or single layers:
 * each block inherits a share of its job's deadline proportional to its share of the job's work,
 * blocks run earliest-sub-deadline first, and the block granularity adapts to the load — coarse
 * blocks (few scheduling points, little overhead) when the system is lightly loaded, fine blocks
 * (quick reaction to contention) when it is busy.
 *
 * Adaptation:
 * - block size (replaces the run's view.blockSize): B = clamp(round(Bmax × (1 − load)), 1, Bmax),
 *   load = Σ ToGo* of every released, unfinished job (in flight or waiting: both compete for the
 *   accelerators) / (accelerators × horizon). ToGo* is the optimistic remaining time (each layer on
 *   its fastest accelerator); `maxBlock` (Bmax) and `horizonMs` are parameters;
 * - sub-deadline of a job's next block [l, e), e = min(l + B, layers):
 *   injectAt + (deadline − injectAt) × (ToGo*(0) − ToGo*(e)) / ToGo*(0), i.e. the job's window
 *   split in proportion to optimistic work up to the block's end;
 * - ready jobs by ascending sub-deadline (ties: deadline, model name, frame), each to the idle
 *   accelerator where its B-layer block finishes first (VELTAIR's compiler-side code-version
 *   selection has no counterpart here). No drops beyond the runtime's.
 */
import { withDropParam } from "./admission";
import { BASELINE_CAPABILITIES, MAX_BLOCK_LAYERS } from "./capabilities";
import { NO_DECISION, type Ready, anyIdle, assignInOrder, orderBy, readParam, readyJobs, withScores } from "./common";
import type { Decision, JobView, ModelView, ParamSpec, PolicyFactory, SchedulerView } from "./types";

export interface VeltairParams {
  readonly maxBlock: number;
  readonly horizonMs: number;
}

/** Outstanding optimistic work over the SoC's capacity within the horizon (0 = idle, ≥ 1 = saturated). */
export const veltairLoad = (view: SchedulerView, horizonMs: number): number => {
  let work = 0;
  for (const m of view.models) for (const j of m.queue) work += m.optimisticRemainingMs[j.nextLayer]!;
  return work / (Math.max(1, view.accelerators.length) * horizonMs);
};

/** Adaptive block size: Bmax when idle, shrinking linearly with the load, at least 1 layer. */
export const veltairBlockSize = (load: number, maxBlock: number): number =>
  Math.min(maxBlock, Math.max(1, Math.round(maxBlock * (1 - load))));

/** Proportional sub-deadline of `job`'s next block of (at most) `blockSize` layers. */
export const veltairSubDeadline = (model: ModelView, job: JobView, blockSize: number): number => {
  const opt = model.optimisticRemainingMs;
  const whole = opt[0]!;
  if (!(whole > 0)) return job.deadline;
  const end = Math.min(job.nextLayer + blockSize, job.layerCount);
  return job.injectAt + ((job.deadline - job.injectAt) * (whole - opt[end]!)) / whole;
};

export const decideVeltair = (view: SchedulerView, p: VeltairParams): Decision => {
  if (!anyIdle(view)) return NO_DECISION;
  const load = veltairLoad(view, p.horizonMs);
  const blockSize = veltairBlockSize(load, p.maxBlock);
  const subDeadline = (r: Ready) => veltairSubDeadline(r.model, r.job, blockSize);
  const ordered = orderBy(readyJobs(view), subDeadline);
  const dispatches = assignInOrder({ ...view, blockSize }, ordered);
  return { dispatches: withScores(dispatches, ordered, (r) => ({ subDeadline: subDeadline(r), blockSize, load })), drops: [] };
};

const VELTAIR_PARAMS: ReadonlyArray<ParamSpec> = [
  { name: "maxBlock", kind: "integer", default: 8, min: 1, max: MAX_BLOCK_LAYERS, description: "Bmax: block length (layers) when the SoC is idle" },
  {
    name: "horizonMs",
    default: 20,
    min: 0.1,
    max: 10_000,
    description: "load horizon (ms): load = Σ ToGo* of unfinished jobs / (accelerators × horizon)",
  },
];

export const veltair: PolicyFactory = withDropParam({
  name: "veltair",
  description: "VELTAIR: layer blocks with proportional sub-deadlines, earliest first; block size shrinks with load",
  source:
    "VELTAIR (Liu et al., ASPLOS 2022) layer-block scheduling: proportional per-block deadlines, " +
    "load-adaptive block size B = clamp(round(Bmax·(1 − load)), 1, Bmax); no code-version selection",
  params: VELTAIR_PARAMS,
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => {
    const p: VeltairParams = {
      maxBlock: Math.max(1, Math.round(readParam(params, VELTAIR_PARAMS, "maxBlock"))),
      horizonMs: readParam(params, VELTAIR_PARAMS, "horizonMs"),
    };
    return { name: "veltair", description: veltair.description, params, granularity: "block", decide: (view) => decideVeltair(view, p) };
  },
});
