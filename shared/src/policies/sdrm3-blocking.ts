/**
 * sdrm3's blocking terms (scheduling behaviour 3, issue 14; docs/baselines.md "sdrm3 itself"): a
 * block, once started, holds its accelerator until it ends — no test of behaviour 2 saw a job held
 * up by a block another job starts. Two rules use these terms, each a parameter (0 = behaviour 2):
 *
 * - `affordableUrgent` — an urgent job (U ≥ u*) still takes the energy-efficient fit when that is
 *   affordable: its rest, every layer on its least-EDP accelerator, finishes by the deadline after
 *   the longest block another job can hold, plus the least-EDP work of the other jobs due no later
 *   on the accelerator that work loads most. The mirror of `affordable` (relaxed only while
 *   affordable): there a relaxed job gives up the efficient fit when it cannot afford it, here an
 *   urgent job keeps it while it can. U ≥ u* alone took the fast fit even where the efficient one
 *   met the deadline (social_interactionA/Quad_8K: energy, not misses, lost it to Herald).
 * - `blockGuard` — a job does not start a block on accelerator a when another unfinished job due
 *   earlier has a laxity (slack − ToGo*) shorter than that block, a is a fastest accelerator for
 *   that job's next layer, and no other equally fast accelerator is idle: starting it would make
 *   the earlier job miss (VR_gaming/Dual_4K: a GE_FBNet_C layer of 0.55 ms started on the WS while
 *   hand tracking, due first, had 0.1 ms of laxity left).
 *
 * The figures are per unfinished job of the view (view order, in flight included), filled once per
 * decision by `setJob` (with per-layer facts of each cost table computed once: `layerFacts`); the
 * tests then cost O(unfinished jobs × accelerators) per urgent job whose efficient fit is not
 * already too slow (affordableUrgent), and O(jobs that only one idle accelerator serves that fast)
 * per pair (blockGuard).
 */
import { doubles, ints } from "./columns";
import { blockLayers, layerSum } from "./common";
import { edpRemainingOnMs } from "./sdrm3-load";
import type { ModelCosts } from "../domain/types";
import type { JobView, ModelView, SchedulerView } from "./types";

/** Accelerators a bit mask of them can hold (bit 31 is the sign). */
const MASK_ACCS = 30;

/** Per layer of a cost table, what the blocking terms read (computed once per table). */
export interface LayerFacts {
  /** [a][l]: latency of those of layers l..end whose least-EDP accelerator is a (`edpRemainingOnMs`). */
  readonly edpOn: number[][];
  /** [l]: layer l's latency on its fastest accelerator, and on its slowest. */
  readonly fastest: number[];
  readonly slowest: number[];
  /** [l]: bit a set when accelerator a runs layer l as fast as any (undefined: more than 30 accelerators). */
  readonly fastestMask: number[] | undefined;
}

const layerFactsOf = new WeakMap<ModelCosts, LayerFacts>();

/** `LayerFacts` of a cost table, computed on first use. */
export const layerFacts = (costs: ModelCosts): LayerFacts => {
  let f = layerFactsOf.get(costs);
  if (f !== undefined) return f;
  const lat = costs.latencyMs;
  const n = lat.length;
  const fastest = doubles(costs.layerCount);
  const slowest = doubles(costs.layerCount);
  const fastestMask = n <= MASK_ACCS ? ints(costs.layerCount) : undefined;
  for (let l = 0; l < costs.layerCount; l++) {
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (let a = 0; a < n; a++) {
      lo = Math.min(lo, lat[a]![l]!);
      hi = Math.max(hi, lat[a]![l]!);
    }
    fastest[l] = lo;
    slowest[l] = hi;
    if (fastestMask !== undefined) for (let a = 0; a < n; a++) if (lat[a]![l]! <= lo) fastestMask[l] = fastestMask[l]! | (1 << a);
  }
  f = { edpOn: edpRemainingOnMs(costs), fastest, slowest, fastestMask };
  layerFactsOf.set(costs, f);
  return f;
};

export class Blocking {
  /** Accelerators of the point and unfinished jobs filled. */
  accs = 0;
  count = 0;
  /** Job n's least-EDP rest (+ its cascade work spread evenly) on accelerator a: [n * accs + a] (0 for a dropped job); filled at the decision's first `busiestAhead`. */
  edpOn = doubles(0);
  /** How long job n's next block can hold an accelerator: its longest latency over them (0: dropped, or no layer left). */
  hold = doubles(0);
  /** Job n's laxity, deadline − now − ToGo* (NaN: dropped, never held up). */
  laxity = doubles(0);
  /**
   * The only idle accelerator among the fastest for job n's next layer (-1: none idle, or several
   * — then a block on one of them leaves n another as fast).
   */
  soleAcc = ints(0);
  /** The two jobs with the longest `hold` (-1: none), so each job finds the longest among the others. */
  longest = -1;
  second = -1;
  /** Scratch: per accelerator, the work ahead of one job. */
  sums = doubles(0);
  /**
   * The jobs a block on accelerator a can hold up (soleAcc a, laxity ≥ 0 and shorter than the longest
   * block of any job): a list per accelerator, from `heldHead[a]` along `heldNext` (-1 ends it).
   */
  heldHead = ints(0);
  heldNext = ints(0);
  /** The point's idle accelerators (1), as a bit mask (-1: more accelerators than a mask holds). */
  idle: number[] = ints(0);
  idleMask = 0;
  /** Per job: its cost table's least-EDP tails per accelerator (undefined: dropped), next layer, end layer, cascade work; `edpOn` is filled from them. */
  edpTails: Array<number[][] | undefined> = [];
  edpFrom = ints(0);
  edpEnd = ints(0);
  edpChild = doubles(0);
  edpFilled = false;

  /**
   * Room for `all` unfinished jobs on `accs` accelerators, `idle` the idle ones (1); no job filled.
   */
  reserve(all: number, accs: number, idle: number[]): void {
    if (this.hold.length < all) {
      const size = Math.max(all, 2 * this.hold.length);
      this.hold = doubles(size);
      this.laxity = doubles(size);
      this.soleAcc = ints(size);
      this.heldNext = ints(size);
      this.edpFrom = ints(size);
      this.edpEnd = ints(size);
      this.edpChild = doubles(size);
    }
    if (this.heldHead.length < accs) this.heldHead = ints(accs);
    if (this.edpOn.length < all * accs) {
      const size = Math.max(all * accs, 2 * this.edpOn.length);
      this.edpOn = doubles(size);
    }
    if (this.sums.length < accs) this.sums = doubles(accs);
    this.accs = accs;
    this.idle = idle;
    this.edpFilled = false;
    let mask = 0;
    for (let a = 0; a < accs; a++) if (idle[a] === 1) mask |= 1 << a;
    this.idleMask = accs <= MASK_ACCS ? mask : -1;
    this.count = 0;
    this.longest = -1;
    this.second = -1;
  }

  /**
   * Unfinished job n (the next in view order) of `model` (the view it runs or will start as; `facts`
   * its cost table's `layerFacts`), with its ToGo*, its frame's cascade work, and whether the drop
   * rule drops it now.
   */
  setJob(view: SchedulerView, ownBlock: number, model: ModelView, facts: LayerFacts, job: JobView, toGo: number, childWork: number, dropped: boolean): void {
    const n = this.count++;
    const accs = this.accs;
    const next = job.nextLayer;
    const left = next < job.layerCount;
    this.laxity[n] = dropped ? Number.NaN : job.deadline - view.now - toGo;
    // what the work of its least-EDP rest on each accelerator needs (filled when first asked: `fillEdpOn`)
    this.edpTails[n] = dropped ? undefined : facts.edpOn;
    this.edpFrom[n] = next;
    this.edpEnd[n] = Math.min(job.layerCount, model.costs.layerCount);
    this.edpChild[n] = childWork;
    // how long its next block can hold an accelerator: the slowest accelerator's time for it
    let hold = 0;
    if (!dropped && left) {
      const layers = blockLayers(view, model, job, ownBlock);
      if (layers === 1) hold = facts.slowest[next]!;
      else for (let a = 0; a < accs; a++) hold = Math.max(hold, layerSum(model.costs.latencyMs[a]!, next, layers));
    }
    this.hold[n] = hold;
    if (this.longest < 0 || hold > this.hold[this.longest]!) {
      this.second = this.longest;
      this.longest = n;
    } else if (this.second < 0 || hold > this.hold[this.second]!) this.second = n;
    // the only idle accelerator as fast as any for its next layer (no layer left: every accelerator counts)
    this.soleAcc[n] = left ? this.soleIdle(facts, model, next) : this.soleOf(this.idleMask);
  }

  /** The only idle accelerator among the fastest for layer `layer` of `model` (-1: none, or several). */
  private soleIdle(facts: LayerFacts, model: ModelView, layer: number): number {
    if (facts.fastestMask !== undefined && this.idleMask >= 0) return this.soleOf(facts.fastestMask[layer]! & this.idleMask);
    const lat = model.costs.latencyMs;
    const fastest = facts.fastest[layer]!;
    let sole = -1;
    for (let a = 0; a < this.accs; a++) {
      if (this.idle[a] === 1 && lat[a]![layer]! <= fastest) {
        if (sole >= 0) return -1;
        sole = a;
      }
    }
    return sole;
  }

  /** The accelerator of a one-bit mask (-1: no bit, or several); with no mask (more than 30 accelerators), scans `idle`. */
  private soleOf(mask: number): number {
    if (this.idleMask < 0) {
      let sole = -1;
      for (let a = 0; a < this.accs; a++) {
        if (this.idle[a] !== 1) continue;
        if (sole >= 0) return -1;
        sole = a;
      }
      return sole;
    }
    return mask !== 0 && (mask & (mask - 1)) === 0 ? 31 - Math.clz32(mask) : -1;
  }

  /** After the last `setJob`: the lists of the jobs a block can hold up, per accelerator (in view order). */
  listHeld(shed: number[] | undefined): void {
    const { count, accs, soleAcc, laxity, heldHead, heldNext } = this;
    // a pair's block is at most its job's `hold`: a job with at least the longest hold of laxity is never held up
    const longestHold = this.longest < 0 ? 0 : this.hold[this.longest]!;
    heldHead.fill(-1, 0, accs);
    for (let n = count - 1; n >= 0; n--) {
      const a = soleAcc[n]!;
      const lax = laxity[n]!;
      if (a < 0 || !(lax >= 0 && lax < longestHold) || (shed !== undefined && shed[n] === 1)) continue;
      heldNext[n] = heldHead[a]!;
      heldHead[a] = n;
    }
  }

  /**
   * affordableUrgent: the least-EDP rest `edpRestMs` of unfinished job i (due at deadlines[i], with
   * `childWork` of its cascade) still finishes within `slackMs` after the longest block another job
   * can hold and the other jobs' least-EDP work due no later on the accelerator it loads most.
   */
  efficientFitAffordable(deadlines: number[], i: number, edpRestMs: number, childWork: number, slackMs: number): boolean {
    const other = i === this.longest ? this.second : this.longest;
    const blocking = other < 0 ? 0 : this.hold[other]!;
    // the work ahead is ≥ 0 (and rounding is monotonic): when the test fails without it, it fails with it, and the sum is not needed
    if (!(edpRestMs + blocking + childWork <= slackMs)) return false;
    return edpRestMs + (blocking + this.busiestAhead(deadlines, i)) + childWork <= slackMs;
  }

  /**
   * The least-EDP work of the unfinished jobs other than i due no later than it, on the accelerator
   * where that work is largest (0 when none). Summed in view order, every job added (× 0 when it is
   * not ahead: no branch the processor cannot predict; the work is finite, so × 0 adds 0).
   */
  busiestAhead(deadlines: number[], i: number): number {
    if (!this.edpFilled) this.fillEdpOn();
    const { accs, count, edpOn, sums } = this;
    const due = deadlines[i]!;
    sums.fill(0, 0, accs);
    for (let k = 0; k < count; k++) {
      const w = +(deadlines[k]! <= due) & +(k !== i);
      const base = k * accs;
      for (let a = 0; a < accs; a++) sums[a] = sums[a]! + edpOn[base + a]! * w;
    }
    let worst = 0;
    for (let a = 0; a < accs; a++) if (sums[a]! > worst) worst = sums[a]!;
    return worst;
  }

  /** `edpOn` of every job filled so far (once per decision, at the first `busiestAhead`). */
  private fillEdpOn(): void {
    const { accs, count, edpOn } = this;
    for (let n = 0; n < count; n++) {
      const base = n * accs;
      const on = this.edpTails[n];
      if (on === undefined) {
        edpOn.fill(0, base, base + accs);
        continue;
      }
      const next = this.edpFrom[n]!;
      const end = this.edpEnd[n]!;
      const spread = this.edpChild[n]! / accs;
      for (let a = 0; a < accs; a++) edpOn[base + a] = on[a]![next]! - on[a]![end]! + spread;
    }
    this.edpFilled = true;
  }

  /**
   * blockGuard: a block of `blockMs` on idle accelerator a, for a job due at `due`, holds up an
   * unfinished job due earlier whose laxity is shorter than the block and whose next layer only a
   * (of the idle accelerators as fast as any for it) can run that fast.
   */
  holdsUp(deadlines: number[], due: number, a: number, blockMs: number): boolean {
    const { heldNext, laxity } = this;
    for (let x = this.heldHead[a]!; x >= 0; x = heldNext[x]!) if (deadlines[x]! < due && laxity[x]! < blockMs) return true;
    return false;
  }
}
