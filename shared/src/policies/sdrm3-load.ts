/**
 * sdrm3's load terms (scheduling behaviour 2, issue 14; docs/baselines.md "sdrm3 itself"): the
 * cascade children's work, the work queued ahead of each job (contend), the least-EDP rest of a job
 * (affordable), and overload shedding by the processor-demand test (overload).
 */
import type { ModelCosts } from "../domain/types";
import { type Column, doubles, ints } from "./columns";
import type { JobView, ModelView } from "./types";

/** The children's work a frame of `model` must leave room for, per the `cascade` mode. */
export const cascadeWork = (model: ModelView, byName: ReadonlyMap<string, ModelView>, mode: number): number => {
  if (mode === 0) return 0;
  if (mode === 1) return model.cascadeRemainingMs;
  let work = 0;
  for (const c of model.cascadeChildren) work += c.expectedWorkMs * (byName.get(c.name)?.recentMissRate ?? 0);
  return work;
};

/**
 * The work queued ahead of each job (contend=1): for job i of `count`, the demand (ToGo*, plus the
 * cascade children's expected work) of every other unfinished job (ready or in flight, any model)
 * whose deadline is at or before its own — what must run before it for every deadline up to its
 * own to be met — divided over the `accelerators`: `out[i]`. O(count²); count is the number of
 * unfinished jobs, a few per model.
 */
export const queuedAhead = (deadlines: ArrayLike<number>, demand: ArrayLike<number>, count: number, accelerators: number, out: Column): void => {
  for (let i = 0; i < count; i++) out[i] = queuedAheadOf(deadlines, demand, count, accelerators, i);
};

/**
 * `queuedAhead`'s figures for the `whichCount` jobs listed in `which` only (the decision asks for
 * the jobs it scores), into `out[i]` for each listed i. The same sums, term by term in index
 * order: four jobs share one pass over the others (four independent sums, so the adds overlap),
 * and a job k that is not ahead adds 0 (k's demand times 0, then + 0 leaves a sum unchanged) rather
 * than a branch the processor cannot predict. With a demand that is not finite (where × 0 is not
 * 0) it takes `queuedAheadOf`'s branches.
 */
export const queuedAheadFor = (
  deadlines: ArrayLike<number>,
  demand: ArrayLike<number>,
  count: number,
  accelerators: number,
  which: ArrayLike<number>,
  whichCount: number,
  out: Column,
): void => {
  let finite = true;
  for (let k = 0; k < count; k++) if (!Number.isFinite(demand[k]!)) finite = false;
  let w = 0;
  if (finite) {
    for (; w + 4 <= whichCount; w += 4) {
      const i0 = which[w]!;
      const i1 = which[w + 1]!;
      const i2 = which[w + 2]!;
      const i3 = which[w + 3]!;
      const d0 = deadlines[i0]!;
      const d1 = deadlines[i1]!;
      const d2 = deadlines[i2]!;
      const d3 = deadlines[i3]!;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < count; k++) {
        const dk = deadlines[k]!;
        const x = demand[k]!;
        s0 += x * (+(dk <= d0) & +(k !== i0));
        s1 += x * (+(dk <= d1) & +(k !== i1));
        s2 += x * (+(dk <= d2) & +(k !== i2));
        s3 += x * (+(dk <= d3) & +(k !== i3));
      }
      out[i0] = s0 / accelerators;
      out[i1] = s1 / accelerators;
      out[i2] = s2 / accelerators;
      out[i3] = s3 / accelerators;
    }
  }
  for (; w < whichCount; w++) out[which[w]!] = queuedAheadOf(deadlines, demand, count, accelerators, which[w]!);
};

/** `queuedAhead`'s figure for job i alone. O(count). */
export const queuedAheadOf = (deadlines: ArrayLike<number>, demand: ArrayLike<number>, count: number, accelerators: number, i: number): number => {
  const due = deadlines[i]!;
  let sum = 0;
  // in index order, without i
  for (let k = 0; k < i; k++) if (deadlines[k]! <= due) sum += demand[k]!;
  for (let k = i + 1; k < count; k++) if (deadlines[k]! <= due) sum += demand[k]!;
  return sum / accelerators;
};

const edpTails = new WeakMap<ModelCosts, number[]>();

/**
 * [l] = latency of layers l..end, each on its least-EDP (latency × energy) accelerator (lowest
 * index on ties): the time the rest of a job takes if every layer runs where the relaxed
 * preference sends it. A function of the costs only, computed once per cost table.
 */
export const edpRemainingMs = (costs: ModelCosts): number[] => {
  let tail = edpTails.get(costs);
  if (tail !== undefined) return tail;
  tail = doubles(costs.layerCount + 1);
  for (let l = costs.layerCount - 1; l >= 0; l--) {
    let best = 0;
    for (let a = 1; a < costs.latencyMs.length; a++) {
      if (costs.latencyMs[a]![l]! * costs.energyMJ[a]![l]! < costs.latencyMs[best]![l]! * costs.energyMJ[best]![l]!) best = a;
    }
    tail[l] = tail[l + 1]! + costs.latencyMs[best]![l]!;
  }
  edpTails.set(costs, tail);
  return tail;
};

const edpOnTails = new WeakMap<ModelCosts, number[][]>();

/**
 * [a][l] = latency of those of layers l..end whose least-EDP accelerator (lowest index on ties, as
 * `edpRemainingMs`) is a: the work the energy-efficient fit of a job's rest puts on accelerator a.
 * A function of the costs only, computed once per cost table.
 */
export const edpRemainingOnMs = (costs: ModelCosts): number[][] => {
  let tails = edpOnTails.get(costs);
  if (tails !== undefined) return tails;
  const n = costs.latencyMs.length;
  tails = costs.latencyMs.map(() => doubles(costs.layerCount + 1));
  for (let l = costs.layerCount - 1; l >= 0; l--) {
    let best = 0;
    for (let a = 1; a < n; a++) {
      if (costs.latencyMs[a]![l]! * costs.energyMJ[a]![l]! < costs.latencyMs[best]![l]! * costs.energyMJ[best]![l]!) best = a;
    }
    for (let a = 0; a < n; a++) tails[a]![l] = tails[a]![l + 1]! + (a === best ? costs.latencyMs[a]![l]! : 0);
  }
  edpOnTails.set(costs, tails);
  return tails;
};

/** Latency of the rest of `job` (its next layer to its last), each layer on its least-EDP accelerator. */
export const edpRestMs = (costs: ModelCosts, job: JobView): number => {
  const tail = edpRemainingMs(costs);
  return tail[job.nextLayer]! - tail[Math.min(job.layerCount, costs.layerCount)]!;
};

/**
 * True when `shedOverload` cannot predict any job late, so sheds nothing: for every job k, now +
 * (its demand + the demand of every other job due no later) / accelerators, inflated by 8·count
 * ulps, is by its deadline. `ahead[k]` is `queuedAhead`'s figure for k. The walk's sums cover
 * subsets of these (the jobs before k in deadline order), and the inflation exceeds what rounding
 * in either can add, so true here means the walk finds no late job; a demand that is negative or
 * not finite (or a NaN deadline) gives false, and the walk decides.
 */
export const fitsByDeadline = (now: number, deadlines: ArrayLike<number>, demand: ArrayLike<number>, ahead: ArrayLike<number>, count: number, accelerators: number): boolean => {
  const grow = 1 + 8 * count * Number.EPSILON;
  for (let k = 0; k < count; k++) {
    const d = demand[k]!;
    if (!(d >= 0 && d < Number.POSITIVE_INFINITY)) return false;
    if (!(now + (d / accelerators + ahead[k]!) * grow <= deadlines[k]!)) return false;
  }
  return true;
};

/** How far below every other pair a shed job's pairs rank (subtracted from their score). */
export const SHED_RANK = 1000;

/**
 * Overload shedding (overload > 0). Walks the unfinished jobs in deadline order (ties: view
 * order); job k is predicted late when now + (demand of k and of the jobs before it) /
 * accelerators > its deadline — the processor-demand test: even with every accelerator busy until
 * then, at its fastest, the work due by that deadline does not fit, so no order of the jobs meets
 * them all and some must give way (a job that does not fit alone is the drop rule's). The one that gives way is the sheddable (not started, not starving, not
 * dropped) job among them with the least `value` per ms of demand (`frameValue`), repeated until k
 * is predicted on time or nothing is left to shed. Sets `shed[i] = 1` for the shed jobs. Started
 * jobs are never shed: their work is already spent. `order` is scratch of length ≥ count.
 */
export const shedOverload = (
  now: number,
  deadlines: ArrayLike<number>,
  demand: ArrayLike<number>,
  value: ArrayLike<number>,
  sheddable: ArrayLike<number>,
  count: number,
  accelerators: number,
  shed: Column,
  order: Column = ints(count),
): void => {
  shed.fill(0, 0, count);
  // No job is predicted late when all the work together, over the accelerators, fits before the
  // earliest deadline: the common case, decided without the sort. The total is inflated by
  // 4·count ulps, more than the rounding of any partial sum the walk below computes can exceed it
  // by, so this never skips a walk that would shed (nor is taken with a negative or NaN demand).
  let total = 0;
  let earliest = Number.POSITIVE_INFINITY;
  let plain = true;
  let ordered = true;
  for (let i = 0; i < count; i++) {
    const d = demand[i]!;
    if (!(d >= 0)) plain = false;
    total += d;
    const due = deadlines[i]!;
    if (due < earliest) earliest = due;
    if (Number.isNaN(due)) ordered = false;
  }
  if (plain && now + (total * (1 + 4 * count * Number.EPSILON)) / accelerators <= earliest) return;
  // insertion sort by (deadline, index); job i goes after every earlier job due no later (their indices are smaller): a few
  // jobs per model, nearly in order (a comparator sort cost more); many jobs (and no NaN deadline): the place found by
  // bisection, the same place
  const bisect = ordered && count > 16;
  for (let i = 0; i < count; i++) {
    const due = deadlines[i]!;
    let at = i;
    if (bisect) {
      let lo = 0;
      while (lo < at) {
        const mid = (lo + at) >> 1;
        if (deadlines[order[mid]!]! > due) at = mid;
        else lo = mid + 1;
      }
      order.copyWithin(at + 1, at, i);
    } else {
      while (at > 0 && (deadlines[order[at - 1]!]! > due || (deadlines[order[at - 1]!]! === due && order[at - 1]! > i))) {
        order[at] = order[at - 1]!;
        at--;
      }
    }
    order[at] = i;
  }
  // the demand before position x of the jobs not shed, summed left to right (recomputed so after a shed)
  let ahead = 0;
  for (let x = 0; x < count; x++) {
    const k = order[x]!;
    while (!shed[k] && now + (demand[k]! + ahead) / accelerators > deadlines[k]!) {
      let victim = -1;
      for (let y = 0; y <= x; y++) {
        const v = order[y]!;
        if (shed[v] || !sheddable[v] || !(demand[v]! > 0)) continue;
        // least value per ms of demand; ties: the later in deadline order
        if (victim < 0 || value[v]! / demand[v]! <= value[victim]! / demand[victim]!) victim = v;
      }
      if (victim < 0) break;
      shed[victim] = 1;
      ahead = 0;
      for (let y = 0; y < x; y++) if (!shed[order[y]!]) ahead += demand[order[y]!]!;
    }
    if (!shed[k]) ahead += demand[k]!;
  }
};

/**
 * What one frame of `model` is worth to UXCost: the geomean's log falls by about 1 / S_m when
 * model m gets one more frame on time (S_m its on-time frames), and S_m ∝ (1 − miss rate) / period
 * over a window, so value ∝ period / (1 − recent miss rate), the miss share floored at 0.9 — a model
 * that loses frames becomes dearer to shed, which spreads the shedding over the models.
 */
export const frameValue = (model: ModelView): number => model.periodMs / Math.max(0.1, 1 - model.recentMissRate);

const parallelisms = new WeakMap<ModelCosts, number>();

/**
 * How many of the fastest accelerators the accelerators are worth to `costs`'s model: Σ over
 * accelerators a of T* / T_a, where T_a is the whole model on a and T* every layer on its fastest
 * accelerator — n on identical accelerators, less where some are slower for this model (on
 * Dual_4K/WS_OS DR_RGBd_200: 29.5 / 31.3 + 29.5 / 50.3 = 1.53, not 2). ToGo* is work at the fastest
 * speed; the accelerators together do about this much of it per ms. Computed once per cost table.
 */
export const parallelism = (costs: ModelCosts): number => {
  let p = parallelisms.get(costs);
  if (p !== undefined) return p;
  let fastest = 0;
  for (let l = 0; l < costs.layerCount; l++) {
    let best = Number.POSITIVE_INFINITY;
    for (const row of costs.latencyMs) if (row[l]! < best) best = row[l]!;
    fastest += best;
  }
  p = 0;
  for (const row of costs.latencyMs) {
    let total = 0;
    for (let l = 0; l < costs.layerCount; l++) total += row[l]!;
    p += total > 0 ? fastest / total : 1;
  }
  if (!(p > 0)) p = costs.latencyMs.length;
  parallelisms.set(costs, p);
  return p;
};
