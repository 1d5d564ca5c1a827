/**
 * sdrm3's view of one job's next block on every accelerator: the preference P and the two guards
 * (feasibility, affinity), computed once per job into buffers (policies/sdrm3.ts uses them).
 */
import { doubles, ints } from "./columns";
import { layerSum, tailMemo, tailSumIn } from "./common";
import type { JobView, ModelView, SchedulerView } from "./types";

// ─── one job's next block on every accelerator: P and the two guards (one implementation) ────
//
// Accelerator a is view.accelerators[a] (the kernel lists them by index). Everything is computed
// once per job, in O(accelerators), into buffers; `preference`, `guardSkips`, `affinitySkips` and
// `jobFit` read these buffers, and the decision reads them job by job.

/** Per-accelerator figures of one job's next block. */
export interface FitBuffers {
  /** Latency of the next block (ms). */
  readonly latency: number[];
  /** P(j, a). */
  readonly preference: number[];
  /** 1: the feasibility guard skips a. */
  readonly guardSkips: number[];
  /** 1: the affinity guard skips a. */
  readonly affinitySkips: number[];
  /** When a is free: max(now, busyUntil) — a property of the scheduling point, filled once by `fillFreeAt`. */
  readonly freeAt: number[];
}

export const fitBuffers = (n: number): FitBuffers => ({
  latency: doubles(n),
  preference: doubles(n),
  guardSkips: ints(n),
  affinitySkips: ints(n),
  freeAt: doubles(n),
});

/** `out.freeAt` for the scheduling point `view` (before any `fillFit` of that point). */
export const fillFreeAt = (view: SchedulerView, out: FitBuffers): void => {
  const accs = view.accelerators;
  for (let a = 0; a < accs.length; a++) out.freeAt[a] = Math.max(view.now, accs[a]!.busyUntil);
};

/**
 * P(j, a) = min over a' of metric(a') / metric(a), for a < n, where metric is the next block's
 * EDP (latency × energy) for a relaxed job and its latency for an urgent one; 1 where metric is 0.
 */
const fillPreference = (model: ModelView, job: JobView, blockLayers: number, relaxed: boolean, n: number, out: FitBuffers): void => {
  const { latency, preference: pref } = out;
  const { latencyMs, energyMJ } = model.costs;
  let best = Number.POSITIVE_INFINITY;
  const from = job.nextLayer;
  if (blockLayers === 1) {
    // one layer: the sum of one term is the term (what layerSum gives, without the loop)
    for (let a = 0; a < n; a++) {
      const lat = latencyMs[a]![from]!;
      latency[a] = lat;
      const metric = relaxed ? lat * energyMJ[a]![from]! : lat;
      pref[a] = metric;
      if (metric < best) best = metric;
    }
    for (let a = 0; a < n; a++) pref[a] = pref[a] === 0 ? 1 : best / pref[a]!;
    return;
  }
  for (let a = 0; a < n; a++) {
    const lat = layerSum(latencyMs[a]!, job.nextLayer, blockLayers);
    latency[a] = lat;
    const metric = relaxed ? lat * layerSum(energyMJ[a]!, job.nextLayer, blockLayers) : lat;
    pref[a] = metric;
    if (metric < best) best = metric;
  }
  for (let a = 0; a < n; a++) pref[a] = pref[a] === 0 ? 1 : best / pref[a]!;
};

/**
 * Feasibility guard: skip a when the job, its next block on a (after a's current block) and the
 * rest on the fastest accelerators, finishes after `due`, while on some other accelerator — idle
 * now, or free at its busyUntil — it would not. Reads `out.latency`.
 */
const fillGuard = (view: SchedulerView, model: ModelView, job: JobView, blockLayers: number, due: number, aheadMs: number, out: FitBuffers): void => {
  const { latency, guardSkips: guard, freeAt } = out;
  const n = view.accelerators.length;
  const rest = model.optimisticRemainingMs[job.nextLayer + blockLayers]! + aheadMs;
  let feasible = false;
  for (let a = 0; a < n; a++) {
    const finish = freeAt[a]! + latency[a]! + rest;
    guard[a] = finish > due ? 1 : 0;
    if (finish <= due) feasible = true;
  }
  if (!feasible) guard.fill(0, 0, n);
};

/**
 * Affinity guard (the energy side of placement): a relaxed job skips a where its next block suits
 * poorly (P < pmin) when a better-suited accelerator (P ≥ pmin) — idle, or free later — still
 * finishes the whole rest of the job by `due`. Herald's "at most 2× the best EDP" rule, applied only
 * where waiting is safe. Off (no skip) for an urgent job and for pmin ≤ 0. Reads `out.preference`.
 */
const fillAffinity = (view: SchedulerView, model: ModelView, job: JobView, relaxed: boolean, pmin: number, due: number, aheadMs: number, out: FitBuffers): void => {
  const { preference: pref, affinitySkips: affinity } = out;
  const n = view.accelerators.length;
  let poor = false;
  if (pmin > 0 && relaxed) for (let a = 0; a < n; a++) if (pref[a]! < pmin) poor = true;
  const on = poor && betterFitInTime(view, model, job, pmin, due - aheadMs, pref, out.freeAt);
  for (let a = 0; a < n; a++) affinity[a] = on && pref[a]! < pmin ? 1 : 0;
};

/** Some accelerator with P ≥ pmin runs the whole rest of the job by `due` (waiting for it is safe). */
const betterFitInTime = (view: SchedulerView, model: ModelView, job: JobView, pmin: number, due: number, pref: number[], freeAt: number[]): boolean => {
  const n = view.accelerators.length;
  const rows = model.costs.latencyMs;
  let memos: Float64Array[] | undefined;
  for (let a = 0; a < n; a++) {
    // the rest's latency is ≥ 0, so an accelerator free only after `due` cannot finish it by then (asked first: it is cheaper)
    if (!(pref[a]! >= pmin && freeAt[a]! <= due)) continue;
    const row = rows[a]!;
    let rest: number;
    if (job.layerCount !== row.length) rest = layerSum(row, job.nextLayer, job.layerCount - job.nextLayer);
    else if (job.nextLayer >= row.length) rest = 0;
    else rest = tailSumIn(row, (memos ??= rowMemos(rows))[a]!, job.nextLayer);
    if (freeAt[a]! + rest <= due) return true;
  }
  return false;
};

const tailMemos = new WeakMap<ReadonlyArray<Float64Array>, Float64Array[]>();

/** `tailMemo` of every row of a cost table (looked up once per table rather than once per row). */
const rowMemos = (rows: ReadonlyArray<Float64Array>): Float64Array[] => {
  let memos = tailMemos.get(rows);
  if (memos === undefined) {
    memos = rows.map(tailMemo);
    tailMemos.set(rows, memos);
  }
  return memos;
};

/** `aheadMs`: the work queued ahead of the job, per accelerator (`queuedAhead`; 0 with contend=0). */
type FitParams = { readonly ustar: number; readonly pmin: number; readonly marginMs: number; readonly aheadMs?: number };

/** P and both guards of the job's next block on every accelerator, into `out` (its `freeAt` filled for `view`). */
export const fillFit = (
  view: SchedulerView,
  model: ModelView,
  job: JobView,
  blockLayers: number,
  u: number,
  ustar: number,
  pmin: number,
  marginMs: number,
  aheadMs: number,
  out: FitBuffers,
): void => {
  const relaxed = u < ustar;
  const due = job.deadline - marginMs;
  fillPreference(model, job, blockLayers, relaxed, view.accelerators.length, out);
  fillGuard(view, model, job, blockLayers, due, aheadMs, out);
  fillAffinity(view, model, job, relaxed, pmin, due, aheadMs, out);
};

/** Everything sdrm3 needs about one job's next block on every accelerator: P, and whether each guard skips it. */
export const jobFit = (
  view: SchedulerView,
  model: ModelView,
  job: JobView,
  blockLayers: number,
  u: number,
  params: FitParams,
): { preference: number[]; guardSkips: number[]; affinitySkips: number[] } => {
  const out = fitBuffers(view.accelerators.length);
  fillFreeAt(view, out);
  fillFit(view, model, job, blockLayers, u, params.ustar, params.pmin, params.marginMs, params.aheadMs ?? 0, out);
  return { preference: out.preference, guardSkips: out.guardSkips, affinitySkips: out.affinitySkips };
};

/** P(j, a): how well accelerator `acc` suits the next block, relative to the best accelerator. */
export const preference = (model: ModelView, job: JobView, acc: number, blockLayers: number, u: number, ustar: number): number => {
  const n = model.costs.latencyMs.length;
  const out = fitBuffers(n);
  fillPreference(model, job, blockLayers, u < ustar, n, out);
  return out.preference[acc] ?? Number.NaN;
};

/**
 * Feasibility guard: true when (j, a) should be skipped — running the next block on `acc` makes j
 * miss its deadline, while some other accelerator (idle now, or free at busyUntil) would not.
 */
export const guardSkips = (view: SchedulerView, model: ModelView, job: JobView, acc: number, blockLayers: number, marginMs = 0, aheadMs = 0): boolean => {
  const out = fitBuffers(view.accelerators.length);
  fillFreeAt(view, out);
  fillPreference(model, job, blockLayers, false, view.accelerators.length, out);
  fillGuard(view, model, job, blockLayers, job.deadline - marginMs, aheadMs, out);
  return out.guardSkips[acc] === 1;
};

/**
 * Affinity guard: true when a relaxed job (U < u*) should not take accelerator `acc`, where its
 * next block suits poorly (P < pmin), because a better-suited accelerator (P ≥ pmin) — idle, or
 * free later — still finishes it in time.
 */
export const affinitySkips = (
  view: SchedulerView,
  model: ModelView,
  job: JobView,
  acc: number,
  blockLayers: number,
  u: number,
  params: { readonly ustar: number; readonly pmin: number; readonly marginMs?: number; readonly aheadMs?: number },
): boolean =>
  jobFit(view, model, job, blockLayers, u, { ustar: params.ustar, pmin: params.pmin, marginMs: params.marginMs ?? 0, aheadMs: params.aheadMs ?? 0 }).affinitySkips[acc] === 1;
