/**
 * sdrm3's scored pairs of one scheduling point (policies/sdrm3.ts matches them): the MapScore's
 * terms U and F, and per (ready job, idle accelerator) pair the guards and S, with the load terms
 * of scheduling behaviour 2 (policies/sdrm3-load.ts) and the blocking terms of behaviour 3
 * (policies/sdrm3-blocking.ts), into columns reused from call to call.
 */
import { dropOf, isStarving, shouldDrop } from "./admission";
import { doubles, ints } from "./columns";
import { blockLayers, toGoMs } from "./common";
import { Blocking, type LayerFacts, layerFacts } from "./sdrm3-blocking";
import { fillFit, fillFreeAt, fitBuffers } from "./sdrm3-fit";
import { SHED_RANK, cascadeWork, edpRemainingMs, fitsByDeadline, frameValue, parallelism, queuedAheadFor, shedOverload } from "./sdrm3-load";
import { SUPERNET_DEFAULTS, offersVariants, supernetLoad, variantForLoad, variantView } from "./supernet";
import type { SDRM3_PARAMS } from "./sdrm3";
import type { Drop, JobView, ModelView, PolicyParams, SchedulerView } from "./types";

// ─── the scores (exported for tests) ─────────────────────────────────────────────────────────

export const urgency = (toGo: number, slack: number, eps: number): number => Math.min(1, toGo / Math.max(slack, eps));

export const fairness = (now: number, lastRanAt: number, periodMs: number, recentMissRate: number): number =>
  Math.max(Math.min(1, (now - lastRanAt) / periodMs), recentMissRate);

// ─── the scored pairs of one scheduling point ────────────────────────────────────────────────

/**
 * Why the policy gave an (ready job, idle accelerator) pair no score: the feasibility guard, the
 * affinity guard, the block guard (blockGuard), or overload shedding (overload=2: the job is shed, not started).
 */
export type SkipReason = "guard" | "affinity" | "block" | "overload";

/** A skipped pair (job i of the view, accelerator acc), with P as the policy's fit had it (NaN: a shed job, not fitted). */
export interface SkippedPair {
  readonly job: JobView;
  readonly acc: number;
  readonly p: number;
  readonly by: SkipReason;
}

/**
 * Every scored (ready job, idle accelerator) pair of one scheduling point, as columns: job i (in
 * view order) with its terms, pair k (job by job, idle accelerators in index order) with its score.
 * Reused from call to call by the decision (no object per pair).
 */
export class Scored {
  /** Job i (i < jobCount; the arrays keep their room from call to call, `release` clears the references). */
  jobs: Array<JobView | undefined> = [];
  /** The view job i was scored with (a starting supernet job: its load-rule variant's). */
  models: Array<ModelView | undefined> = [];
  /** A starting job of a supernet model: the variant of the load rule (else undefined). */
  variants: Array<number | undefined> = [];
  layers = ints(0);
  u = doubles(0);
  f = doubles(0);
  /** Job i's laxity, slack − ToGo* (ms), and its shortest next block on an idle accelerator (ms). */
  laxity = doubles(0);
  minBlock = doubles(0);
  /** Job i's pairs are [jobFirst[i], jobFirst[i + 1]). */
  jobFirst = ints(1);
  jobCount = 0;
  pairJob = ints(0);
  pairAcc = ints(0);
  score = doubles(0);
  p = doubles(0);
  pairCount = 0;
  /** The supernet load L of this point (0 when no model offers variants). */
  load = 0;
  idleCount = 0;
  fit = fitBuffers(0);
  /** contend=1, per unfinished job (view order, running ones included): deadline, ToGo*, work queued ahead; scratch order. */
  allDeadline = doubles(0);
  allToGo = doubles(0);
  allAhead = doubles(0);
  allOrder = ints(0);
  allValue = doubles(0);
  allSheddable = ints(0);
  allDropped = ints(0);
  allShed = ints(0);
  /** The unfinished jobs the decision scores (view-order indices): the ones it needs the work queued ahead of. */
  allScored = ints(0);
  /** affordableUrgent, blockGuard: the blocking terms of every unfinished job (policies/sdrm3-blocking.ts). */
  blocking = new Blocking();
  /** When set (explain, tests; never by the decision): every pair the policy skipped, and why, is pushed here. */
  skipped: SkippedPair[] | undefined;
  /** Per model (view order): its starting variant (undefined: not a supernet model) and view, starving (1), cascade work. */
  mChosen: Array<number | undefined> = [];
  mStarting: Array<ModelView | undefined> = [];
  /** Per model: the cost table `mParallelism` and `mEdpTail` are for (the full model's), so they are looked up once per table. */
  mCosts: Array<ModelView["costs"] | undefined> = [];
  mParallelism = doubles(0);
  mEdpTail: Array<number[] | undefined> = [];
  mFacts: Array<LayerFacts | undefined> = [];
  modelCount = 0;
  /** Unfinished jobs of the view (the length of the all* columns in use). */
  allCount = 0;
  knobs = new Knobs();
  mStarving = ints(0);
  mChildWork = doubles(0);
  /** Matching: each job's pairs in `byScore` order, the position of its best free pair there, the taken accelerators. */
  order = ints(0);
  head = ints(0);
  accTaken = ints(0);
  /** Accelerator a is idle at this point (1). */
  idle = ints(0);

  /** Room for `jobs` ready jobs of `all` unfinished ones, `pairs` pairs, `accs` accelerators and `models` models; no job, no pair. */
  reserve(jobs: number, all: number, pairs: number, accs: number, models: number): void {
    if (this.mStarving.length < models) {
      const size = Math.max(models, 2 * this.mStarving.length);
      this.mStarving = ints(size);
      this.mChildWork = doubles(size);
      this.mParallelism = doubles(size);
      this.mCosts.length = 0;
    }
    if (this.allToGo.length < all) {
      const size = Math.max(all, 2 * this.allToGo.length);
      this.allDeadline = doubles(size);
      this.allToGo = doubles(size);
      this.allAhead = doubles(size);
      this.allOrder = ints(size);
      this.allValue = doubles(size);
      this.allSheddable = ints(size);
      this.allDropped = ints(size);
      this.allShed = ints(size);
      this.allScored = ints(size);
    }
    if (this.u.length < jobs) {
      const size = Math.max(jobs, 2 * this.u.length);
      this.layers = ints(size);
      this.u = doubles(size);
      this.f = doubles(size);
      this.laxity = doubles(size);
      this.minBlock = doubles(size);

      this.jobFirst = ints(size + 1);
      this.head = ints(size);
    }
    if (this.score.length < pairs) {
      const size = Math.max(pairs, 2 * this.score.length);
      this.pairJob = ints(size);
      this.pairAcc = ints(size);
      this.score = doubles(size);
      this.p = doubles(size);
      this.order = ints(size);
    }
    if (this.fit.latency.length < accs) {
      this.fit = fitBuffers(accs);
      this.accTaken = ints(accs);
      this.idle = ints(accs);
    }
    this.jobCount = 0;
    this.pairCount = 0;
  }

  /** Model m's full cost table `costs`: its parallelism and least-EDP tail, looked up when the table changes. */
  track(m: number, costs: ModelView["costs"]): void {
    if (this.mCosts[m] === costs) return;
    this.mCosts[m] = costs;
    this.mParallelism[m] = parallelism(costs);
    this.mEdpTail[m] = edpRemainingMs(costs);
    this.mFacts[m] = layerFacts(costs);
  }

  /** Drops the references into the view (the buffers stay). */
  release(): void {
    const { jobs, models, mStarting } = this;
    for (let i = 0; i < this.jobCount; i++) {
      jobs[i] = undefined;
      models[i] = undefined;
    }
    for (let m = 0; m < this.modelCount; m++) mStarting[m] = undefined;
  }
}

const NO_MODELS: ReadonlyMap<string, ModelView> = new Map();

/** sdrm3's parameters as numbers, read from the parameter object once per decision. */
class Knobs {
  alpha = 0;
  beta = 0;
  gamma = 0;
  ustar = 0;
  eps = 0;
  starveMs = 0;
  boost = 0;
  drop = 0;
  guard = 0;
  pmin = 0;
  margin = 0;
  cascade = 0;
  contend = 0;
  affordable = 0;
  affordableUrgent = 0;
  blockGuard = 0;
  critical = 0;
  /** Overload shedding is admission control: off with the drop rule (drop=0 runs every frame). */
  overload = 0;
  ownBlock = 0;
  horizonMs = 0;
  lambda1 = 0;
  lambda2 = 0;

  set(params: PolicyParams): void {
    const p = params as Record<(typeof SDRM3_PARAMS)[number]["name"], number>;
    this.alpha = p.alpha;
    this.beta = p.beta;
    this.gamma = p.gamma;
    this.ustar = p.ustar;
    this.eps = p.eps;
    this.starveMs = p.starveMs;
    this.boost = p.boost;
    this.drop = p.drop;
    this.guard = p.guard;
    this.pmin = p.pmin;
    this.margin = p.margin;
    this.cascade = p.cascade;
    this.contend = p.contend;
    this.affordable = p.affordable;
    this.affordableUrgent = p.affordableUrgent;
    this.blockGuard = p.blockGuard;
    this.critical = p.critical;
    this.overload = p.drop === 1 ? p.overload : 0;
    this.ownBlock = params.block ?? 0;
    this.horizonMs = params.horizonMs ?? SUPERNET_DEFAULTS.horizonMs;
    this.lambda1 = params.lambda1 ?? SUPERNET_DEFAULTS.lambda1;
    this.lambda2 = params.lambda2 ?? SUPERNET_DEFAULTS.lambda2;
  }
}

/**
 * Scores every (ready job, idle accelerator) pair into `s` and returns the drops.
 * For each model, for each ready job (oldest first): the drop rule, then U, F, and per idle
 * accelerator the guards and S = U + α·F + β·P (+ boost). What depends on the model only (its
 * starting variant, starvation, cascade work, parallelism, least-EDP tail) is computed once per
 * model; the load terms of behaviour 2 only when some accelerator is idle (they only shape pairs).
 */
export const scorePairs = (view: SchedulerView, params: PolicyParams, s: Scored): Drop[] => {
  const k = s.knobs;
  k.set(params);
  prepare(view, k, s);
  // the load terms shape pairs only: none without an idle accelerator
  const loadTerms = s.idleCount > 0 && (k.contend === 1 || k.overload > 0);
  if (loadTerms) fillDemand(view, k, s);
  const drops: Drop[] = [];
  const { now, models } = view;
  const { drop, gamma } = k;
  const idleCount = s.idleCount;
  let jobIndex = -1;
  for (let m = 0; m < models.length; m++) {
    const full = models[m]!;
    const queue = full.queue;
    const starving = s.mStarving[m] === 1;
    const starting = s.mStarting[m]!;
    for (let q = 0; q < queue.length; q++) {
      const job = queue[q]!;
      jobIndex++;
      if (job.running) continue;
      const model = job.started ? full : starting;
      const slack = job.deadline - now;
      const toGo = toGoMs(model, job);
      if (drop === 1 && shouldDrop(toGo, slack, gamma, starving)) {
        drops.push(dropOf(job.id, toGo, slack, gamma, starving)!);
        continue;
      }
      if (idleCount > 0) scoreJob(view, k, s, m, job, jobIndex, toGo, slack);
    }
  }
  s.jobFirst[s.jobCount] = s.pairCount;
  if (k.critical === 1) rankCritical(s);
  return drops;
};

/**
 * The point's sizes and per-model terms into `s`: room for its jobs, which accelerators are idle
 * and when each is free, the supernet load, and per model its starting variant, starvation,
 * cascade work and (with an idle accelerator) its cost table's parallelism and least-EDP tail.
 */
const prepare = (view: SchedulerView, k: Knobs, s: Scored): void => {
  const { now, accelerators: accs, models } = view;
  const accCount = accs.length;
  const modelCount = models.length;
  let ready = 0;
  let all = 0;
  for (let m = 0; m < modelCount; m++) {
    const queue = models[m]!.queue;
    all += queue.length;
    for (let q = 0; q < queue.length; q++) if (!queue[q]!.running) ready++;
  }
  s.reserve(ready, all, ready * accCount, accCount, modelCount);
  s.modelCount = modelCount;
  s.allCount = all;
  const idle = s.idle;
  let idleCount = 0;
  for (let a = 0; a < accCount; a++) {
    const on = accs[a]!.idle;
    idle[a] = on ? 1 : 0;
    if (on) idleCount++;
  }
  s.idleCount = idleCount;
  if (idleCount > 0) fillFreeAt(view, s.fit);
  const cascade = k.cascade;
  // the full models' views (a supernet model's variant views share its name and statistics); only the weighted cascade mode reads them
  const byName = cascade === 0 || cascade === 1 ? NO_MODELS : new Map(models.filter((m) => m.variant === 0).map((m) => [m.name, m]));
  const load = offersVariants(view) ? supernetLoad(view, k.horizonMs) : 0;
  s.load = load;
  for (let m = 0; m < modelCount; m++) {
    const full = models[m]!;
    // a job of a supernet model that has not started runs, and is scored, as the load rule's variant
    const chosen = full.variants === undefined ? undefined : variantForLoad(load, k.lambda1, k.lambda2, full.variants.length);
    s.mChosen[m] = chosen;
    s.mStarting[m] = chosen === undefined ? full : variantView(full, chosen);
    s.mStarving[m] = isStarving(full, now, k.starveMs) ? 1 : 0;
    // a frame's demand (and urgency) includes the expected work of its cascade children (they share its deadline)
    s.mChildWork[m] = cascadeWork(full, byName, cascade);
    if (idleCount > 0) s.track(m, full.costs);
  }
};

/**
 * Every unfinished job's deadline and demand (view order, running ones included): ToGo* (a
 * starting supernet job: its load-rule variant's; 0 for a job the drop rule drops now) plus the
 * cascade work, in ms of the n accelerators' joint time — ToGo* is at the fastest speed, and the
 * accelerators together are worth parallelism() of the fastest for this model; then the overload
 * shedding. The work queued ahead of a job (contend) is summed from these when the job is scored.
 */
const fillDemand = (view: SchedulerView, k: Knobs, s: Scored): void => {
  const { now, models } = view;
  const accCount = view.accelerators.length;
  const { drop, gamma } = k;
  const blocking = k.affordableUrgent === 1 || k.blockGuard === 1 ? s.blocking : undefined;
  blocking?.reserve(s.allCount, accCount, s.idle);
  let n = 0;
  for (let m = 0; m < models.length; m++) {
    const full = models[m]!;
    const starting = s.mStarting[m]!;
    const starving = s.mStarving[m] === 1;
    const childWork = s.mChildWork[m]!;
    const value = frameValue(full);
    const queue = full.queue;
    const parFull = s.mParallelism[m]!;
    let parStarting = starting === full ? parFull : 0;
    const factsFull = blocking === undefined ? undefined : s.mFacts[m]!;
    const factsStarting = blocking === undefined ? undefined : starting === full ? factsFull : layerFacts(starting.costs);
    for (let q = 0; q < queue.length; q++) {
      const job = queue[q]!;
      const toGo = toGoMs(job.started ? full : starting, job);
      const dropped = drop === 1 && !job.running && shouldDrop(toGo, job.deadline - now, gamma, starving);
      s.allDeadline[n] = job.deadline;
      if (blocking !== undefined) blocking.setJob(view, k.ownBlock, job.started ? full : starting, job.started ? factsFull! : factsStarting!, job, toGo, childWork, dropped);
      s.allDropped[n] = dropped ? 1 : 0;
      if (dropped) s.allToGo[n] = 0;
      else if (job.started) s.allToGo[n] = ((toGo + childWork) * accCount) / parFull;
      else {
        if (parStarting === 0) parStarting = parallelism(starting.costs);
        s.allToGo[n] = ((toGo + childWork) * accCount) / parStarting;
      }
      s.allValue[n] = value;
      s.allSheddable[n++] = job.started || job.running || starving || dropped ? 0 : 1;
    }
  }
  if (k.overload > 0) {
    // the work queued ahead of every job first: when all of it fits by each deadline, nothing is shed (without the walk's sort)
    for (let j = 0; j < n; j++) s.allScored[j] = j;
    queuedAheadFor(s.allDeadline, s.allToGo, n, accCount, s.allScored, n, s.allAhead);
    if (fitsByDeadline(now, s.allDeadline, s.allToGo, s.allAhead, n, accCount)) s.allShed.fill(0, 0, n);
    else shedOverload(now, s.allDeadline, s.allToGo, s.allValue, s.allSheddable, n, accCount, s.allShed, s.allOrder);
    if (blocking !== undefined) blocking.listHeld(undefined);
    return;
  }
  if (blocking !== undefined) blocking.listHeld(undefined);
  if (k.contend !== 1) return;
  // the work queued ahead of each job that will be scored: ready, not dropped, not shed (overload=2)
  let scored = 0;
  let j = 0;
  for (let m = 0; m < models.length; m++) {
    const queue = models[m]!.queue;
    for (let q = 0; q < queue.length; q++, j++) {
      const job = queue[q]!;
      if (job.running || (drop === 1 && s.allDropped[j] === 1) || (k.overload === 2 && s.allShed[j] === 1)) continue;
      s.allScored[scored++] = j;
    }
  }
  queuedAheadFor(s.allDeadline, s.allToGo, n, accCount, s.allScored, scored, s.allAhead);
};

/**
 * Ready job `job` (the `jobIndex`-th unfinished job of the view, of model m; not dropped) with
 * some accelerator idle: its terms, and a pair per idle accelerator the guards leave it.
 */
const scoreJob = (view: SchedulerView, k: Knobs, s: Scored, m: number, job: JobView, jobIndex: number, toGo: number, slack: number): void => {
  // a shed job is not started (overload=2): no pairs, and no competitor in the critical test
  const shed = k.overload > 0 && s.allShed[jobIndex] === 1;
  if (shed && k.overload === 2) {
    if (s.skipped !== undefined) for (let a = 0; a < view.accelerators.length; a++) if (s.idle[a] === 1) s.skipped.push({ job, acc: a, p: Number.NaN, by: "overload" });
    return;
  }
  const full = view.models[m]!;
  const model = job.started ? full : s.mStarting[m]!;
  const childWork = s.mChildWork[m]!;
  // urgency counts the work of the cascade children that must still run in this frame's window; the
  // work queued ahead (contend=1) is for the guards and the affordable test only: it is much the same
  // pressure on every job, and in U it saturated U at 1 for all of them and erased the ranking
  const ahead = k.contend === 1 ? s.allAhead[jobIndex]! : 0;
  const u = urgency(toGo + childWork, slack, k.eps);
  const f = fairness(view.now, job.lastRanAt, model.periodMs, model.recentMissRate);
  const layers = blockLayers(view, model, job, k.ownBlock);
  const i = s.jobCount++;
  s.jobs[i] = job;
  s.models[i] = model;
  s.variants[i] = job.started ? undefined : s.mChosen[m];
  s.layers[i] = layers;
  s.u[i] = u;
  s.f[i] = f;
  s.jobFirst[i] = s.pairCount;
  const bonus = (s.mStarving[m] === 1 && toGo <= slack ? k.boost : 0) - (shed ? SHED_RANK : 0);
  const marginMs = k.margin * model.periodMs;
  // relaxed (energy-efficient fit) only while that fit for the rest of the job, every layer on its least-EDP accelerator, still meets the deadline (affordable=1)
  // the blocking terms are filled with the load terms (contend=1 or overload>0)
  const loadTerms = k.contend === 1 || k.overload > 0;
  let relaxedU = u;
  if (k.affordable === 1 && u < k.ustar) {
    const tail = model === full ? s.mEdpTail[m]! : edpRemainingMs(model.costs);
    if (tail[job.nextLayer]! - tail[Math.min(job.layerCount, model.costs.layerCount)]! + ahead + childWork > slack - marginMs) relaxedU = k.ustar;
  } else if (k.affordableUrgent === 1 && loadTerms && u >= k.ustar) {
    // urgent, but the energy-efficient fit of its rest is affordable even behind the longest block another job can hold (affordableUrgent=1)
    const tail = model === full ? s.mEdpTail[m]! : edpRemainingMs(model.costs);
    const edpRest = tail[job.nextLayer]! - tail[Math.min(job.layerCount, model.costs.layerCount)]!;
    if (s.blocking.efficientFitAffordable(s.allDeadline, jobIndex, edpRest, childWork, slack - marginMs)) relaxedU = -1;
  }
  const fit = s.fit;
  fillFit(view, model, job, layers, relaxedU, k.ustar, k.pmin, marginMs, ahead, fit);
  const { latency, guardSkips, affinitySkips, preference } = fit;
  const { idle, pairJob, pairAcc, score, p: pairP } = s;
  const guard = k.guard === 1;
  const base = u + k.alpha * f;
  const beta = k.beta;
  const blockGuard = k.blockGuard === 1 && loadTerms;
  const skipped = s.skipped;
  // the shortest next block on an idle accelerator (the critical test), guards or not
  let minBlock = Number.POSITIVE_INFINITY;
  let pairs = s.pairCount;
  for (let a = 0; a < view.accelerators.length; a++) {
    if (idle[a] === 0) continue;
    if (latency[a]! < minBlock) minBlock = latency[a]!;
    const p = preference[a]!;
    if (guard && guardSkips[a]) {
      skipped?.push({ job, acc: a, p, by: "guard" });
      continue;
    }
    if (affinitySkips[a]) {
      skipped?.push({ job, acc: a, p, by: "affinity" });
      continue;
    }
    // blockGuard=1: not a block that makes a job due earlier miss, where only this accelerator runs its next layer that fast
    if (blockGuard && s.blocking.holdsUp(s.allDeadline, job.deadline, a, latency[a]!)) {
      skipped?.push({ job, acc: a, p, by: "block" });
      continue;
    }
    pairJob[pairs] = i;
    pairAcc[pairs] = a;
    score[pairs] = base + beta * p + bonus;
    pairP[pairs++] = p;
  }
  s.pairCount = pairs;
  s.laxity[i] = slack - toGo;
  s.minBlock[i] = minBlock;
};

/** How far above every non-critical pair a critical job's pairs rank (added to their score). */
export const CRITICAL_RANK = 100;

/**
 * Critical jobs (critical=1): job i is critical when 0 ≤ laxity(i) < the longest of the other
 * ready jobs' shortest next blocks — if another job took the accelerator first, i could not
 * finish in time even on the fastest accelerators. The MapScore's U = ToGo* / slack cannot see this
 * for a job near its end (a few µs of work and of slack give U about 0.5). Its pairs rank above every
 * non-critical pair; among critical jobs the MapScore decides.
 */
const rankCritical = (s: Scored): void => {
  // the two longest shortest-blocks, so each job compares with the longest among the others
  let first = -1;
  let second = -1;
  for (let i = 0; i < s.jobCount; i++) {
    const b = s.minBlock[i]!;
    if (first < 0 || b > s.minBlock[first]!) {
      second = first;
      first = i;
    } else if (second < 0 || b > s.minBlock[second]!) second = i;
  }
  for (let i = 0; i < s.jobCount; i++) {
    const other = i === first ? second : first;
    if (other < 0) continue;
    const lax = s.laxity[i]!;
    if (!(lax >= 0 && lax < s.minBlock[other]!)) continue;
    for (let k = s.jobFirst[i]!; k < s.jobFirst[i + 1]!; k++) s.score[k] = s.score[k]! + CRITICAL_RANK;
  }
};
