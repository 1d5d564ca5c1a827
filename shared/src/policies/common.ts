/**
 * Helpers shared by the block-granular policies: which jobs are ready, which accelerators are
 * idle, and what a job's next block costs where. Pure.
 */
import type { ModelCosts } from "../domain/types";
import { MAX_BLOCK_LAYERS } from "./capabilities";
import type { AccelView, Decision, Dispatch, JobView, ModelView, ParamSpec, PolicyParams, SchedulerView } from "./types";

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
export const nextBlockLayers = (job: Pick<JobView, "nextLayer" | "layerCount">, blockSize: number): number =>
  Math.max(1, Math.min(blockSize, job.layerCount - job.nextLayer));

// ─── quantum blocks (docs/live.md "Quantum blocks") ──────────────────────────────────────────

/**
 * A block's latency "reaches" the quantum when it is at most this far below it (ms): latencies
 * are cycles / 10⁶, so a sum meant to equal the quantum may fall short of it by a rounding error.
 */
const QUANTUM_TOLERANCE_MS = 1e-9;

const fastestLayers = new WeakMap<ModelCosts, Float64Array>();

/**
 * Per layer, its latency on its fastest accelerator (ms), remembered per cost table (cost tables
 * are never written after they are built).
 */
export const fastestLayerMs = (costs: ModelCosts): Float64Array => {
  let out = fastestLayers.get(costs);
  if (out === undefined) {
    out = new Float64Array(costs.layerCount).fill(Number.POSITIVE_INFINITY);
    for (const row of costs.latencyMs) for (let l = 0; l < costs.layerCount; l++) if (row[l]! < out[l]!) out[l] = row[l]!;
    fastestLayers.set(costs, out);
  }
  return out;
};

/**
 * Layers of a quantum block: consecutive layers from `from`, in layer order, until their summed
 * `perLayerMs` reaches `quantumMs` — at least one layer, never past layer `end − 1`, at most
 * MAX_BLOCK_LAYERS. Pure and deterministic (the sum is taken in layer order).
 */
export const quantumLayers = (perLayerMs: Float64Array, from: number, end: number, quantumMs: number): number => {
  const most = Math.min(end - from, MAX_BLOCK_LAYERS);
  let sum = 0;
  let n = 0;
  while (n < most) {
    sum += perLayerMs[from + n]!;
    n++;
    if (sum + QUANTUM_TOLERANCE_MS >= quantumMs) break;
  }
  return Math.max(1, n);
};

/**
 * The run's block rule (one function for every engine and policy): the layers of the next block
 * of `job` (costs: `model`'s, its variant's for a supernet job).
 *
 * - `view.quantumMs` > 0 (`--quantum d`, `--block auto`): consecutive layers until their latency
 *   reaches the quantum, each layer counted at its fastest accelerator (`fastestLayerMs`). The
 *   length does not depend on the accelerator the block goes to, so a policy compares
 *   accelerators on the same layers (as with B layers), and on any accelerator the block lasts at
 *   least the quantum (longer where the accelerator is slower than the fastest);
 * - otherwise `view.blockSize` layers (`--block B`), as `nextBlockLayers`.
 *
 * `own` > 0: the policy's own block size (sdrm3's `block` parameter) replaces the run's rule.
 * Never past the job's last layer, at least one layer, at most MAX_BLOCK_LAYERS.
 */
export const blockLayers = (view: Pick<SchedulerView, "blockSize" | "quantumMs">, model: Pick<ModelView, "costs">, job: Pick<JobView, "nextLayer" | "layerCount">, own = 0): number => {
  if (own > 0) return nextBlockLayers(job, Math.round(own));
  const q = view.quantumMs ?? 0;
  if (q > 0) return quantumLayers(fastestLayerMs(model.costs), job.nextLayer, job.layerCount, q);
  return nextBlockLayers(job, view.blockSize);
};

/** Sum of `perLayer` over layers [from, from+count), in layer order (the cost of a block). */
export const layerSum = (perLayer: Float64Array, from: number, count: number): number => {
  let s = 0;
  for (let l = from; l < from + count; l++) s += perLayer[l]!;
  return s;
};

const tails = new WeakMap<Float64Array, Float64Array>();

/**
 * `layerSum(perLayer, from, perLayer.length − from)`: the cost of every layer from `from` on, the
 * same sum, remembered per array and start (cost tables are never written after they are built).
 */
export const tailSum = (perLayer: Float64Array, from: number): number => (from >= perLayer.length ? 0 : tailSumIn(perLayer, tailMemo(perLayer), from));

/** The memo `tailSum` keeps for `perLayer` ([from]: its tail sum once asked, NaN before), made on first use. */
export const tailMemo = (perLayer: Float64Array): Float64Array => {
  let memo = tails.get(perLayer);
  if (memo === undefined) {
    memo = new Float64Array(perLayer.length).fill(Number.NaN);
    tails.set(perLayer, memo);
  }
  return memo;
};

/** `tailSum(perLayer, from)` for `from` < perLayer.length, with perLayer's memo already at hand (`tailMemo`). */
export const tailSumIn = (perLayer: Float64Array, memo: Float64Array, from: number): number => {
  let s = memo[from]!;
  if (Number.isNaN(s)) {
    s = layerSum(perLayer, from, perLayer.length - from);
    memo[from] = s;
  }
  return s;
};

/** Latency (ms) of layers [from, from+count) of `model` on accelerator `acc`. */
export const blockLatencyMs = (model: ModelView, acc: number, from: number, count: number): number =>
  layerSum(model.costs.latencyMs[acc]!, from, count);

/** Energy (mJ) of layers [from, from+count) of `model` on accelerator `acc`. */
export const blockEnergyMJ = (model: ModelView, acc: number, from: number, count: number): number =>
  layerSum(model.costs.energyMJ[acc]!, from, count);

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
    out.push({ job: r.job.id, acc: a.index, layerCount: blockLayers(view, r.model, r.job) });
  }
  return out;
};

/**
 * The idle accelerator on which the job's next block finishes first (lowest index on ties). With
 * dispatch queues an "idle" accelerator may still be busy: the block then starts at its busyUntil.
 */
export const fastestIdle =
  (view: SchedulerView) =>
  (r: Ready, idle: ReadonlyArray<AccelView>): AccelView | undefined => {
    const n = blockLayers(view, r.model, r.job);
    let best: AccelView | undefined;
    let bestLat = Number.POSITIVE_INFINITY;
    for (const a of idle) {
      // + 0 exactly when the accelerator is free now (no queue): the comparison is the latency's
      const lat = blockLatencyMs(r.model, a.index, r.job.nextLayer, n) + Math.max(0, a.busyUntil - view.now);
      if (lat < bestLat) {
        best = a;
        bestLat = lat;
      }
    }
    return best;
  };

// ─── ordering helpers (generic; used by the list-scheduling baselines) ───────────────────────

/** The empty decision (shared, frozen): nothing to dispatch, nothing to drop. */
export const NO_DECISION: Decision = Object.freeze({ dispatches: Object.freeze([]), drops: Object.freeze([]) });

/** At least one accelerator can take a block now. */
export const anyIdle = (view: SchedulerView): boolean => {
  for (const a of view.accelerators) if (a.idle) return true;
  return false;
};

/** The project's deterministic tie-break between jobs: deadline, then model name (byte order), then frame. */
export const compareReady = (a: Ready, b: Ready): number =>
  a.job.deadline - b.job.deadline || byteCompare(a.model.name, b.model.name) || a.job.frame - b.job.frame;

/**
 * `ready` sorted by ascending `key` (then ascending `key2` when given), then by `compareReady`.
 * Each key is computed once per job. NaN-free keys are expected; equal infinities fall through to
 * the next criterion.
 */
export const orderBy = (
  ready: ReadonlyArray<Ready>,
  key: (r: Ready) => number,
  key2?: (r: Ready) => number,
): Ready[] => {
  const n = ready.length;
  const k1 = new Float64Array(n);
  const k2 = new Float64Array(n);
  const idx = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const r = ready[i]!;
    k1[i] = key(r);
    k2[i] = key2 === undefined ? 0 : key2(r);
    idx[i] = i;
  }
  const cmp = (x: number, y: number): number => {
    const a = k1[x]!;
    const b = k1[y]!;
    if (a !== b) return a < b ? -1 : 1;
    const c = k2[x]!;
    const d = k2[y]!;
    if (c !== d) return c < d ? -1 : 1;
    return compareReady(ready[x]!, ready[y]!);
  };
  idx.sort(cmp);
  const out = new Array<Ready>(n);
  for (let i = 0; i < n; i++) out[i] = ready[idx[i]!]!;
  return out;
};

/**
 * `dispatches` with the scores that drove each one (recorded in the event log): `scoresOf` of the
 * ready job each dispatch names, looked up among `ordered`. Runs once per dispatch, not per job.
 */
export const withScores = (
  dispatches: ReadonlyArray<Dispatch>,
  ordered: ReadonlyArray<Ready>,
  scoresOf: (r: Ready) => Readonly<Record<string, number>>,
): Dispatch[] =>
  dispatches.map((d) => {
    const r = ordered.find((x) => x.job.id === d.job);
    return r === undefined ? d : { ...d, scores: scoresOf(r) };
  });

/**
 * Priority list scheduling with no drops: when an accelerator is idle, ready jobs in ascending
 * `key` order (ties: `compareReady`) each take the idle accelerator where their next block
 * (`view.blockSize` layers) finishes first. Each dispatch records its key as score `scoreName`.
 */
export const listSchedule = (view: SchedulerView, key: (r: Ready) => number, scoreName: string): Decision => {
  if (!anyIdle(view)) return NO_DECISION;
  const ordered = orderBy(readyJobs(view), key);
  return { dispatches: withScores(assignInOrder(view, ordered), ordered, (r) => ({ [scoreName]: key(r) })), drops: [] };
};

/** Value of parameter `name`: the resolved value in `params`, else the default of its spec (create() may be called directly). */
export const readParam = (params: PolicyParams, specs: ReadonlyArray<ParamSpec>, name: string): number => {
  const spec = specs.find((s) => s.name === name);
  if (spec === undefined) throw new Error(`no parameter spec named '${name}'`);
  return params[name] ?? spec.default;
};
