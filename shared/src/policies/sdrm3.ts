/**
 * `sdrm3` — the SDRM3 scheduler (Kim et al., arXiv 2212.03414; later DREAM, ASPLOS '23), as
 * reconstructed in DESIGN.md §8 from the paper's abstract and a published third-party
 * re-implementation of its MapScore. Every parameter is named, defaulted and tunable.
 *
 * At every scheduling point, for every ready job j and idle accelerator a:
 *   slack(j) = deadline − now;  ToGo*(j) = remaining layers, each on its fastest accelerator
 *   U(j)   = min(1, ToGo*(j) / max(slack(j), ε))                                   urgency
 *   F(j)   = max(min(1, (now − lastRan(j)) / period(j)), recentMissRate(model))     fairness
 *   P(j,a) = min_a' EDP(next, a') / EDP(next, a)   when U(j) < u*   (relaxed: energy-efficient fit)
 *            min_a' lat(next, a') / lat(next, a)   otherwise        (urgent: fast fit)
 *   S(j,a) = U + α·F + β·P  (+ a large boost for the feasible jobs of a starving model)
 * Feasibility guard: skip (j, a) when finishing the next block on a makes j miss its deadline
 * while another accelerator — idle, or busy until some time — would keep it feasible.
 * Affinity guard: a relaxed job does not take an accelerator where P < pmin when a better-suited
 * one (idle or busy) still finishes it in time. Urgency counts the expected work of the frame's
 * cascade children (they share its deadline); the drop rule counts the job's own work only.
 * Greedy matching: best pair first, remove both, repeat; ties by deadline, model name, frame, accelerator.
 * Frame drop (admission control): drop j when ToGo*(j) > γ·slack(j); for a model with no frame on
 * time for `starveMs` the threshold is max(γ, 1) and its feasible jobs get the boost — no frame
 * is exempt from the drop rule, so a drop never silently switches a model off.
 * Supernet downgrade (policies/supernet.ts, docs/supernets.md): when the view offers a model's
 * variants, a job that has not started takes the variant of the load rule (L = Σ ToGo* of ready
 * jobs / (accelerators × horizonMs); above λ1 ×0.75, above λ2 ×0.5) and is scored — urgency,
 * preference, guards, drop rule — with that variant's costs; the dispatch names the variant, which
 * the kernel fixes at the job's first block.
 */
import { dropOf, isStarving, shouldDrop } from "./admission";
import { MAX_BLOCK_LAYERS, switchParam } from "./capabilities";
import { blockLayers, byteCompare, layerSum, tailSum, toGoMs } from "./common";
import { SUPERNET_DEFAULTS, SUPERNET_PARAMS, offersVariants, supernetLoad, variantForLoad, variantView } from "./supernet";
import type { Decision, Dispatch, Drop, JobView, ModelView, PolicyFactory, PolicyParams, SchedulerView } from "./types";

export const SDRM3_PARAMS = [
  { name: "alpha", default: 1, min: 0, max: 100, description: "weight of fairness F in the MapScore" },
  { name: "beta", default: 1, min: 0, max: 100, description: "weight of preference P in the MapScore" },
  { name: "gamma", default: 1, min: 0, max: 1e9, description: "drop threshold: drop a job when ToGo* > gamma * slack" },
  { name: "ustar", default: 0.8, min: 0, max: 1, description: "urgency above which preference favours the fast fit over the energy-efficient one" },
  { name: "eps", default: 0.01, min: 1e-6, max: 1000, description: "floor of slack in the urgency, ms" },
  { name: "starveMs", default: 1000, min: 0, max: 1e9, description: "a model with no frame on time for this long is starving (guard, boost)" },
  { name: "boost", default: 10, min: 0, max: 1e6, description: "MapScore boost for the feasible jobs of a starving model" },
  switchParam("drop", 1, "1: frame drop (admission control) on; 0: off (ablation)"),
  switchParam("guard", 1, "1: feasibility guard on; 0: off (ablation)"),
  { name: "pmin", default: 0.5, min: 0, max: 1, description: "affinity guard: a relaxed job waits rather than run where P < pmin, if a better-suited accelerator keeps it feasible (0: off)" },
  { name: "margin", default: 0, min: 0, max: 1, description: "safety margin of the guards, as a share of the period: a placement counts as feasible only if it finishes this much before the deadline" },
  { name: "block", kind: "integer", default: 0, min: 0, max: MAX_BLOCK_LAYERS, description: "layers per dispatch for sdrm3 (0: the run's --block); the online tuner adjusts it when tuneBlock = 1" },
  switchParam("tuneBlock", 0, "online tuning: also tune the block size (and, with supernets, lambda1/lambda2)"),
  switchParam("tune", 0, "1: tune alpha, beta, gamma online (look-ahead coordinate search; see runtime/tuner; --tune)"),
  { name: "tuneEvery", default: 1000, min: 50, max: 1e9, description: "online tuning: virtual ms between tuning steps (phase starts are tuning points too)" },
  { name: "tuneObjective", kind: "integer", default: 0, min: 0, max: 1, description: "online tuning: what the look-ahead optimises, 0 = UXCost (uxcost), 1 = XRBench score (xrbench)" },
  { name: "lookahead", default: 1500, min: 50, max: 1e6, description: "online tuning: simulated ms of each look-ahead evaluation (the first 30% are a warm-up)" },
  { name: "cascade", kind: "integer", default: 0, min: 0, max: 2, description: "urgency counts the expected work of the frame's cascade children (they share its deadline): 0 never, 1 always, 2 weighted by each child's recent miss rate" },
  ...SUPERNET_PARAMS,
] as const;

// ─── the scores (exported for tests) ─────────────────────────────────────────────────────────

export const urgency = (toGo: number, slack: number, eps: number): number => Math.min(1, toGo / Math.max(slack, eps));

export const fairness = (now: number, lastRanAt: number, periodMs: number, recentMissRate: number): number =>
  Math.max(Math.min(1, (now - lastRanAt) / periodMs), recentMissRate);

/** The drop rule and starvation test are the shared admission rule's (policies/admission.ts). */
export { isStarving, shouldDrop };

// ─── one job's next block on every accelerator: P and the two guards (one implementation) ────
//
// Accelerator a is view.accelerators[a] (the kernel lists them by index). Everything is computed
// once per job, in O(accelerators), into buffers; `preference`, `guardSkips`, `affinitySkips` and
// `jobFit` read these buffers, and the decision reads them job by job.

/** Per-accelerator figures of one job's next block. */
interface FitBuffers {
  /** Latency of the next block (ms). */
  readonly latency: Float64Array;
  /** P(j, a). */
  readonly preference: Float64Array;
  /** 1: the feasibility guard skips a. */
  readonly guardSkips: Uint8Array;
  /** 1: the affinity guard skips a. */
  readonly affinitySkips: Uint8Array;
}

const fitBuffers = (n: number): FitBuffers => ({
  latency: new Float64Array(n),
  preference: new Float64Array(n),
  guardSkips: new Uint8Array(n),
  affinitySkips: new Uint8Array(n),
});

/**
 * P(j, a) = min over a' of metric(a') / metric(a), for a < n, where metric is the next block's
 * EDP (latency × energy) for a relaxed job and its latency for an urgent one; 1 where metric is 0.
 */
const fillPreference = (model: ModelView, job: JobView, blockLayers: number, relaxed: boolean, n: number, out: FitBuffers): void => {
  const { latency, preference: pref } = out;
  const { latencyMs, energyMJ } = model.costs;
  let best = Number.POSITIVE_INFINITY;
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
const fillGuard = (view: SchedulerView, model: ModelView, job: JobView, blockLayers: number, due: number, out: FitBuffers): void => {
  const { latency, guardSkips: guard } = out;
  const accs = view.accelerators;
  const rest = model.optimisticRemainingMs[job.nextLayer + blockLayers]!;
  let feasible = false;
  for (let a = 0; a < accs.length; a++) {
    const finish = Math.max(view.now, accs[a]!.busyUntil) + latency[a]! + rest;
    guard[a] = finish > due ? 1 : 0;
    if (finish <= due) feasible = true;
  }
  if (!feasible) for (let a = 0; a < accs.length; a++) guard[a] = 0;
};

/**
 * Affinity guard (the energy side of placement): a relaxed job skips a where its next block suits
 * poorly (P < pmin) when a better-suited accelerator (P ≥ pmin) — idle, or free later — still
 * finishes the whole rest of the job by `due`. Herald's "at most 2× the best EDP" rule, applied only
 * where waiting is safe. Off (no skip) for an urgent job and for pmin ≤ 0. Reads `out.preference`.
 */
const fillAffinity = (view: SchedulerView, model: ModelView, job: JobView, relaxed: boolean, pmin: number, due: number, out: FitBuffers): void => {
  const { preference: pref, affinitySkips: affinity } = out;
  const n = view.accelerators.length;
  let poor = false;
  if (pmin > 0 && relaxed) for (let a = 0; a < n; a++) if (pref[a]! < pmin) poor = true;
  const on = poor && betterFitInTime(view, model, job, pmin, due, pref);
  for (let a = 0; a < n; a++) affinity[a] = on && pref[a]! < pmin ? 1 : 0;
};

/** Some accelerator with P ≥ pmin runs the whole rest of the job by `due` (waiting for it is safe). */
const betterFitInTime = (view: SchedulerView, model: ModelView, job: JobView, pmin: number, due: number, pref: Float64Array): boolean => {
  const accs = view.accelerators;
  for (let a = 0; a < accs.length; a++) {
    if (pref[a]! >= pmin && Math.max(view.now, accs[a]!.busyUntil) + restLatencyMs(model.costs.latencyMs[a]!, job) <= due) return true;
  }
  return false;
};

/** Latency of the rest of `job` (its next layer to its last) on the accelerator of cost row `latencyMs`. */
const restLatencyMs = (latencyMs: Float64Array, job: JobView): number =>
  job.layerCount === latencyMs.length ? tailSum(latencyMs, job.nextLayer) : layerSum(latencyMs, job.nextLayer, job.layerCount - job.nextLayer);

type FitParams = { readonly ustar: number; readonly pmin: number; readonly marginMs: number };

/** P and both guards of the job's next block on every accelerator, into `out`. */
const fillFit = (view: SchedulerView, model: ModelView, job: JobView, blockLayers: number, u: number, ustar: number, pmin: number, marginMs: number, out: FitBuffers): void => {
  const relaxed = u < ustar;
  const due = job.deadline - marginMs;
  fillPreference(model, job, blockLayers, relaxed, view.accelerators.length, out);
  fillGuard(view, model, job, blockLayers, due, out);
  fillAffinity(view, model, job, relaxed, pmin, due, out);
};

/** Everything sdrm3 needs about one job's next block on every accelerator: P, and whether each guard skips it. */
export const jobFit = (
  view: SchedulerView,
  model: ModelView,
  job: JobView,
  blockLayers: number,
  u: number,
  params: FitParams,
): { preference: Float64Array; guardSkips: Uint8Array; affinitySkips: Uint8Array } => {
  const out = fitBuffers(view.accelerators.length);
  fillFit(view, model, job, blockLayers, u, params.ustar, params.pmin, params.marginMs, out);
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
export const guardSkips = (view: SchedulerView, model: ModelView, job: JobView, acc: number, blockLayers: number, marginMs = 0): boolean => {
  const out = fitBuffers(view.accelerators.length);
  fillPreference(model, job, blockLayers, false, view.accelerators.length, out);
  fillGuard(view, model, job, blockLayers, job.deadline - marginMs, out);
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
  params: { readonly ustar: number; readonly pmin: number; readonly marginMs?: number },
): boolean => jobFit(view, model, job, blockLayers, u, { ustar: params.ustar, pmin: params.pmin, marginMs: params.marginMs ?? 0 }).affinitySkips[acc] === 1;

/** The children's work a frame of `model` must leave room for, per the `cascade` mode. */
export const cascadeWork = (model: ModelView, byName: ReadonlyMap<string, ModelView>, mode: number): number => {
  if (mode === 0) return 0;
  if (mode === 1) return model.cascadeRemainingMs;
  let work = 0;
  for (const c of model.cascadeChildren) work += c.expectedWorkMs * (byName.get(c.name)?.recentMissRate ?? 0);
  return work;
};

/** sdrm3's block size: its `block` parameter, or the run's block size when that is 0. */
export const blockSizeOf = (view: SchedulerView, params: PolicyParams): number =>
  (params.block ?? 0) > 0 ? Math.round(params.block!) : view.blockSize;

// ─── the scored pairs of one scheduling point ────────────────────────────────────────────────

/**
 * Every scored (ready job, idle accelerator) pair of one scheduling point, as columns: job i (in
 * view order) with its terms, pair k (job by job, idle accelerators in index order) with its score.
 * Reused from call to call by the decision (no object per pair).
 */
class Scored {
  jobs: JobView[] = [];
  /** The view job i was scored with (a starting supernet job: its load-rule variant's). */
  models: ModelView[] = [];
  /** A starting job of a supernet model: the variant of the load rule (else undefined). */
  variants: Array<number | undefined> = [];
  layers = new Int32Array(0);
  u = new Float64Array(0);
  f = new Float64Array(0);
  /** Job i's pairs are [jobFirst[i], jobFirst[i + 1]). */
  jobFirst = new Int32Array(1);
  jobCount = 0;
  pairJob = new Int32Array(0);
  pairAcc = new Int32Array(0);
  score = new Float64Array(0);
  p = new Float64Array(0);
  pairCount = 0;
  /** The supernet load L of this point (0 when no model offers variants). */
  load = 0;
  idleCount = 0;
  fit = fitBuffers(0);
  /** Matching: each job's pairs in `byScore` order, the position of its best free pair there, the taken accelerators. */
  order = new Int32Array(0);
  head = new Int32Array(0);
  accTaken = new Uint8Array(0);

  /** Room for `jobs` jobs, `pairs` pairs and `accs` accelerators; no job, no pair. */
  reserve(jobs: number, pairs: number, accs: number): void {
    if (this.u.length < jobs) {
      const size = Math.max(jobs, 2 * this.u.length);
      this.layers = new Int32Array(size);
      this.u = new Float64Array(size);
      this.f = new Float64Array(size);
      this.jobFirst = new Int32Array(size + 1);
      this.head = new Int32Array(size);
    }
    if (this.score.length < pairs) {
      const size = Math.max(pairs, 2 * this.score.length);
      this.pairJob = new Int32Array(size);
      this.pairAcc = new Int32Array(size);
      this.score = new Float64Array(size);
      this.p = new Float64Array(size);
      this.order = new Int32Array(size);
    }
    if (this.fit.latency.length < accs) {
      this.fit = fitBuffers(accs);
      this.accTaken = new Uint8Array(accs);
    }
    this.jobCount = 0;
    this.pairCount = 0;
  }

  /** Drops the references into the view (the buffers stay). */
  release(): void {
    this.jobs.length = 0;
    this.models.length = 0;
    this.variants.length = 0;
  }
}

const NO_MODELS: ReadonlyMap<string, ModelView> = new Map();

/**
 * Scores every (ready job, idle accelerator) pair into `s` and returns the drops.
 * For each model, for each ready job (oldest first): the drop rule, then U, F, and per idle
 * accelerator the guards and S = U + α·F + β·P (+ boost).
 */
const scorePairs = (view: SchedulerView, params: PolicyParams, s: Scored): Drop[] => {
  const { alpha, beta, gamma, ustar, eps, starveMs, boost, drop, guard, pmin, margin, cascade } = params as Record<(typeof SDRM3_PARAMS)[number]["name"], number>;
  const accs = view.accelerators;
  let idleCount = 0;
  for (const a of accs) if (a.idle) idleCount++;
  let ready = 0;
  for (const m of view.models) for (const j of m.queue) if (!j.running) ready++;
  s.reserve(ready, ready * idleCount, accs.length);
  s.idleCount = idleCount;
  const fit = s.fit;
  const drops: Drop[] = [];
  // the full models' views (a supernet model's variant views share its name and statistics); only the weighted cascade mode reads them
  const byName = cascade === 0 || cascade === 1 ? NO_MODELS : new Map(view.models.filter((m) => m.variant === 0).map((m) => [m.name, m]));
  const load = offersVariants(view) ? supernetLoad(view, params.horizonMs ?? SUPERNET_DEFAULTS.horizonMs) : 0;
  s.load = load;
  for (const full of view.models) {
    const starving = isStarving(full, view.now, starveMs);
    const childWork = cascadeWork(full, byName, cascade);
    // a job of a supernet model that has not started runs, and is scored, as the load rule's variant
    const chosen = full.variants === undefined ? undefined : variantForLoad(load, params.lambda1 ?? SUPERNET_DEFAULTS.lambda1, params.lambda2 ?? SUPERNET_DEFAULTS.lambda2, full.variants.length);
    const starting = chosen === undefined ? full : variantView(full, chosen);
    for (const job of full.queue) {
      if (job.running) continue;
      const model = job.started ? full : starting;
      const slack = job.deadline - view.now;
      const toGo = toGoMs(model, job);
      const dropped = drop === 1 ? dropOf(job.id, toGo, slack, gamma, starving) : undefined;
      if (dropped !== undefined) {
        drops.push(dropped);
        continue;
      }
      if (idleCount === 0) continue;
      // urgency counts the work of the cascade children that must still run in this frame's window
      const u = urgency(toGo + childWork, slack, eps);
      const f = fairness(view.now, job.lastRanAt, model.periodMs, model.recentMissRate);
      const layers = blockLayers(view, model, job, params.block ?? 0);
      const i = s.jobCount++;
      s.jobs.push(job);
      s.models.push(model);
      s.variants.push(job.started ? undefined : chosen);
      s.layers[i] = layers;
      s.u[i] = u;
      s.f[i] = f;
      s.jobFirst[i] = s.pairCount;
      const bonus = starving && toGo <= slack ? boost : 0;
      fillFit(view, model, job, layers, u, ustar, pmin, margin * model.periodMs, fit);
      for (let a = 0; a < accs.length; a++) {
        if (!accs[a]!.idle) continue;
        if (guard === 1 && fit.guardSkips[a]) continue;
        if (fit.affinitySkips[a]) continue;
        const p = fit.preference[a]!;
        const k = s.pairCount++;
        s.pairJob[k] = i;
        s.pairAcc[k] = a;
        s.score[k] = u + alpha * f + beta * p + bonus;
        s.p[k] = p;
      }
    }
  }
  s.jobFirst[s.jobCount] = s.pairCount;
  return drops;
};

/**
 * The order of the greedy matching between pairs x and y of `s` (negative: x first): score
 * descending, then deadline, model name (bytes), frame, accelerator.
 */
const byScore = (s: Scored, x: number, y: number): number => {
  const jx = s.pairJob[x]!;
  const jy = s.pairJob[y]!;
  // the same job: deadline, name and frame are equal
  if (jx === jy) return byScoreOneJob(s, x, y);
  const a = s.jobs[jx]!;
  const b = s.jobs[jy]!;
  return s.score[y]! - s.score[x]! || a.deadline - b.deadline || byteCompare(s.models[jx]!.name, s.models[jy]!.name) || a.frame - b.frame || s.pairAcc[x]! - s.pairAcc[y]!;
};

/** `byScore` of two pairs of the same job. */
const byScoreOneJob = (s: Scored, x: number, y: number): number => s.score[y]! - s.score[x]! || s.pairAcc[x]! - s.pairAcc[y]!;

export interface Candidate {
  readonly job: JobView;
  /** The view the job was scored with (a starting supernet job: its load-rule variant's). */
  readonly model: ModelView;
  readonly acc: number;
  readonly score: number;
  readonly u: number;
  readonly f: number;
  readonly p: number;
  /** A starting job of a supernet model: the variant of the load rule, and the load L. */
  readonly variant?: number;
  readonly load?: number;
}

/** Every scored (ready job, idle accelerator) pair, and the drops, at this scheduling point (for explain and tests). */
export const scoreSdrm3 = (view: SchedulerView, params: PolicyParams): { candidates: Candidate[]; drops: Drop[] } => {
  const s = new Scored();
  const drops = scorePairs(view, params, s);
  const candidates: Candidate[] = [];
  for (let k = 0; k < s.pairCount; k++) {
    const i = s.pairJob[k]!;
    const variant = s.variants[i];
    const c = { job: s.jobs[i]!, model: s.models[i]!, acc: s.pairAcc[k]!, score: s.score[k]!, u: s.u[i]!, f: s.f[i]!, p: s.p[k]! };
    candidates.push(variant === undefined ? c : { ...c, variant, load: s.load });
  }
  return { candidates, drops };
};

/**
 * Greedy matching: the best pair first, then the best pair whose job and accelerator are both
 * still free, and so on — what taking every pair in `byScore` order gives, each unless its job or
 * accelerator is taken already. Each job's pairs are put in that order once; a match compares the
 * jobs' first pairs on a free accelerator. One dispatch per match, in match order.
 */
const matchGreedy = (s: Scored): Dispatch[] => {
  const { pairJob, pairAcc, order, head, accTaken, jobFirst: first } = s;
  for (let i = 0; i < s.jobCount; i++) {
    // insertion sort of job i's pairs (a few, nearly in order)
    for (let k = first[i]!; k < first[i + 1]!; k++) {
      let at = k;
      while (at > first[i]! && byScoreOneJob(s, k, order[at - 1]!) < 0) {
        order[at] = order[at - 1]!;
        at--;
      }
      order[at] = k;
    }
    head[i] = first[i]!;
  }
  accTaken.fill(0);
  const out: Dispatch[] = [];
  const most = Math.min(s.jobCount, s.idleCount);
  while (out.length < most) {
    let best = -1;
    for (let i = 0; i < s.jobCount; i++) {
      let h = head[i]!;
      while (h < first[i + 1]! && accTaken[pairAcc[order[h]!]!] === 1) h++;
      head[i] = h;
      if (h === first[i + 1]!) continue;
      if (best < 0 || byScore(s, order[h]!, best) < 0) best = order[h]!;
    }
    if (best < 0) break;
    const i = pairJob[best]!;
    const acc = pairAcc[best]!;
    head[i] = first[i + 1]!; // job i is matched
    accTaken[acc] = 1;
    const job = s.jobs[i]!;
    const variant = s.variants[i];
    const common = { S: s.score[best]!, U: s.u[i]!, F: s.f[i]!, P: s.p[best]! };
    out.push(
      variant === undefined
        ? { job: job.id, acc, layerCount: s.layers[i]!, scores: common }
        : { job: job.id, acc, layerCount: s.layers[i]!, variant, scores: { ...common, L: s.load } },
    );
  }
  return out;
};

/** One Scored reused by every decision (decide is synchronous and never re-entered). */
const scratch = new Scored();

export const decideSdrm3 = (view: SchedulerView, params: PolicyParams): Decision => {
  const drops = scorePairs(view, params, scratch);
  const dispatches = matchGreedy(scratch);
  scratch.release();
  return { dispatches, drops };
};

const defaults = Object.fromEntries(SDRM3_PARAMS.map((p) => [p.name, p.default]));

export const sdrm3: PolicyFactory = {
  name: "sdrm3",
  description: "SDRM3: MapScore = urgency + alpha*fairness + beta*preference, greedy matching, frame drop",
  source: "SDRM3 (arXiv 2212.03414) / DREAM (ASPLOS '23), reconstructed per DESIGN.md §8",
  params: SDRM3_PARAMS,
  capabilities: {
    semantics: "exact",
    defaultDurationMs: 10_000,
    live: { can: true },
    notInAll: false,
    mapScore: true,
    tunable: ["alpha", "beta", "gamma", "block", "lambda1", "lambda2"],
    switches: { supernet: "supernet", tune: { on: "tune", every: "tuneEvery", lookahead: "lookahead" } },
  },
  create: (params) => {
    const p = { ...defaults, ...params };
    return { name: "sdrm3", description: sdrm3.description, params: p, granularity: "block", decide: (view) => decideSdrm3(view, p) };
  },
};
