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
 * Greedy matching: best pair first, remove both, repeat; ties by deadline, model name, accelerator.
 * Frame drop (admission control): drop j when ToGo*(j) > γ·slack(j); for a model with no frame on
 * time for `starveMs` the threshold is max(γ, 1) and its feasible jobs get the boost — no frame
 * is exempt from the drop rule, so a drop never silently switches a model off.
 * Supernet downgrade (policies/supernet.ts, docs/supernets.md): when the view offers a model's
 * variants, a job that has not started takes the variant of the load rule (L = Σ ToGo* of ready
 * jobs / (accelerators × horizonMs); above λ1 ×0.75, above λ2 ×0.5) and is scored — urgency,
 * preference, guards, drop rule — with that variant's costs; the dispatch names the variant, which
 * the kernel fixes at the job's first block.
 */
import { admissionDrop, isStarving, shouldDrop } from "./admission";
import { MAX_BLOCK_LAYERS, switchParam } from "./capabilities";
import { blockEnergyMJ, blockLatencyMs, byteCompare, nextBlockLayers, toGoMs } from "./common";
import { SUPERNET_DEFAULTS, SUPERNET_PARAMS, offersVariants, supernetLoad, variantForLoad, variantView } from "./supernet";
import type { AccelView, Decision, Dispatch, Drop, JobView, ModelView, PolicyFactory, PolicyParams, SchedulerView } from "./types";

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

/** P(j, a): how well accelerator `acc` suits the next block, relative to the best accelerator. */
export const preference = (model: ModelView, job: JobView, acc: number, blockLayers: number, u: number, ustar: number): number => {
  const accCount = model.costs.latencyMs.length;
  let best = Number.POSITIVE_INFINITY;
  let mine = Number.NaN;
  for (let a = 0; a < accCount; a++) {
    const lat = blockLatencyMs(model, a, job.nextLayer, blockLayers);
    const metric = u < ustar ? lat * blockEnergyMJ(model, a, job.nextLayer, blockLayers) : lat;
    if (metric < best) best = metric;
    if (a === acc) mine = metric;
  }
  if (mine === 0) return 1;
  return best / mine;
};

/** The drop rule and starvation test are the shared admission rule's (policies/admission.ts). */
export { isStarving, shouldDrop };

/** When j would finish if its next block ran on `a` (after a's current block) and the rest on the fastest accelerators. */
const finishOn = (view: SchedulerView, model: ModelView, job: JobView, blockLayers: number, a: AccelView): number =>
  Math.max(view.now, a.busyUntil) +
  blockLatencyMs(model, a.index, job.nextLayer, blockLayers) +
  model.optimisticRemainingMs[job.nextLayer + blockLayers]!;

/**
 * Feasibility guard: true when (j, a) should be skipped — running the next block on `acc` makes j
 * miss its deadline, while some other accelerator (idle now, or free at busyUntil) would not.
 */
export const guardSkips = (
  view: SchedulerView,
  model: ModelView,
  job: JobView,
  acc: number,
  blockLayers: number,
  marginMs = 0,
): boolean => {
  const due = job.deadline - marginMs;
  if (finishOn(view, model, job, blockLayers, view.accelerators[acc]!) <= due) return false;
  return view.accelerators.some((a) => a.index !== acc && finishOn(view, model, job, blockLayers, a) <= due);
};

/**
 * Affinity guard (the energy side of placement): true when a relaxed job (U < u*) should not take
 * accelerator `acc`, where its next block suits poorly (P < pmin), because a better-suited
 * accelerator (P ≥ pmin) — idle, or free later — still finishes it in time. Herald's "at most 2×
 * the best EDP" rule, applied only where waiting is safe.
 */
export const affinitySkips = (
  view: SchedulerView,
  model: ModelView,
  job: JobView,
  acc: number,
  blockLayers: number,
  u: number,
  params: { readonly ustar: number; readonly pmin: number; readonly marginMs?: number },
): boolean => {
  if (params.pmin <= 0 || u >= params.ustar) return false;
  if (preference(model, job, acc, blockLayers, u, params.ustar) >= params.pmin) return false;
  // waiting is safe only if the better-suited accelerator finishes the whole rest of the job in time
  const rest = job.layerCount - job.nextLayer;
  return view.accelerators.some(
    (a) =>
      a.index !== acc &&
      preference(model, job, a.index, blockLayers, u, params.ustar) >= params.pmin &&
      Math.max(view.now, a.busyUntil) + blockLatencyMs(model, a.index, job.nextLayer, rest) <= job.deadline - (params.marginMs ?? 0),
  );
};

export interface Candidate {
  readonly job: JobView;
  /** The view the job was scored with (a starting supernet job: its load-rule variant's). */
  readonly model: ModelView;
  /** A starting job of a supernet model: the variant of the load rule, and the load L. */
  readonly variant?: number;
  readonly load?: number;
  readonly acc: number;
  readonly score: number;
  readonly u: number;
  readonly f: number;
  readonly p: number;
}

/** Every scored (ready job, idle accelerator) pair, and the drops, at this scheduling point. */
/** The children's work a frame of `model` must leave room for, per the `cascade` mode. */
export const cascadeWork = (model: ModelView, byName: ReadonlyMap<string, ModelView>, mode: number): number => {
  if (mode === 0) return 0;
  if (mode === 1) return model.cascadeRemainingMs;
  let work = 0;
  for (const c of model.cascadeChildren) work += c.expectedWorkMs * (byName.get(c.name)?.recentMissRate ?? 0);
  return work;
};

/**
 * Everything sdrm3 needs about one job's next block on every accelerator, computed once per job
 * (O(accelerators) instead of O(accelerators²) per pair): the preference P, and whether the
 * feasibility and affinity guards skip each accelerator. Same arithmetic as `preference`,
 * `guardSkips` and `affinitySkips`, which stay the readable definitions (and the tests hold the
 * two equal).
 */
export const jobFit = (
  view: SchedulerView,
  model: ModelView,
  job: JobView,
  blockLayers: number,
  u: number,
  params: { readonly ustar: number; readonly pmin: number; readonly marginMs: number },
): { preference: Float64Array; guardSkips: Uint8Array; affinitySkips: Uint8Array } => {
  const n = view.accelerators.length;
  const lat = new Float64Array(n);
  const metric = new Float64Array(n);
  let best = Number.POSITIVE_INFINITY;
  for (let a = 0; a < n; a++) {
    lat[a] = blockLatencyMs(model, a, job.nextLayer, blockLayers);
    metric[a] = u < params.ustar ? lat[a]! * blockEnergyMJ(model, a, job.nextLayer, blockLayers) : lat[a]!;
    if (metric[a]! < best) best = metric[a]!;
  }
  const pref = new Float64Array(n);
  for (let a = 0; a < n; a++) pref[a] = metric[a] === 0 ? 1 : best / metric[a]!;
  // feasibility guard: skip a when it misses (deadline − margin) while another accelerator meets it
  const rest = model.optimisticRemainingMs[job.nextLayer + blockLayers]!;
  const due = job.deadline - params.marginMs;
  const guard = new Uint8Array(n);
  let feasible = 0;
  const finishes = new Float64Array(n);
  for (const acc of view.accelerators) {
    finishes[acc.index] = Math.max(view.now, acc.busyUntil) + lat[acc.index]! + rest;
    if (finishes[acc.index]! <= due) feasible++;
  }
  for (let a = 0; a < n; a++) guard[a] = finishes[a]! > due && feasible >= 1 ? 1 : 0;
  // affinity guard: a relaxed job skips a poorly suited accelerator when a well-suited one finishes it in time
  const affinity = new Uint8Array(n);
  if (params.pmin > 0 && u < params.ustar) {
    const all = job.layerCount - job.nextLayer;
    let safe = 0;
    for (const acc of view.accelerators) {
      if (pref[acc.index]! >= params.pmin && Math.max(view.now, acc.busyUntil) + blockLatencyMs(model, acc.index, job.nextLayer, all) <= due) safe++;
    }
    for (let a = 0; a < n; a++) affinity[a] = pref[a]! < params.pmin && safe >= 1 ? 1 : 0;
  }
  return { preference: pref, guardSkips: guard, affinitySkips: affinity };
};

export const scoreSdrm3 = (view: SchedulerView, params: PolicyParams): { candidates: Candidate[]; drops: Drop[] } => {
  const { alpha, beta, gamma, ustar, eps, starveMs, boost, drop, guard, pmin, margin, cascade } = params as Record<(typeof SDRM3_PARAMS)[number]["name"], number>;
  const idle = view.accelerators.filter((a) => a.idle);
  // the full models' views (a supernet model's variant views share its name and statistics)
  const byName = new Map(view.models.filter((m) => m.variant === 0).map((m) => [m.name, m]));
  const candidates: Candidate[] = [];
  const drops: Drop[] = [];
  const load = offersVariants(view) ? supernetLoad(view, params.horizonMs ?? SUPERNET_DEFAULTS.horizonMs) : 0;
  for (const full of view.models) {
    const starving = isStarving(full, view.now, starveMs);
    const childWork = cascadeWork(full, byName, cascade);
    // a job of a supernet model that has not started runs, and is scored, as the load rule's variant
    const chosen = full.variants === undefined ? undefined : variantForLoad(load, params.lambda1 ?? SUPERNET_DEFAULTS.lambda1, params.lambda2 ?? SUPERNET_DEFAULTS.lambda2, full.variants.length);
    const starting = chosen === undefined ? full : variantView(full, chosen);
    for (const job of full.queue) {
      if (job.running) continue;
      const model = job.started ? full : starting;
      const variant = job.started ? undefined : chosen;
      const slack = job.deadline - view.now;
      const toGo = toGoMs(model, job);
      const dropped = drop === 1 ? admissionDrop(model, job, view.now, gamma, starving) : undefined;
      if (dropped !== undefined) {
        drops.push(dropped);
        continue;
      }
      if (idle.length === 0) continue;
      // urgency counts the work of the cascade children that must still run in this frame's window
      const u = urgency(toGo + childWork, slack, eps);
      const f = fairness(view.now, job.lastRanAt, model.periodMs, model.recentMissRate);
      const feasible = toGo <= slack;
      const layers = nextBlockLayers(job, blockSizeOf(view, params));
      const fit = jobFit(view, model, job, layers, u, { ustar, pmin, marginMs: margin * model.periodMs });
      for (const a of idle) {
        if (guard === 1 && fit.guardSkips[a.index]) continue;
        if (fit.affinitySkips[a.index]) continue;
        const p = fit.preference[a.index]!;
        const score = u + alpha * f + beta * p + (starving && feasible ? boost : 0);
        candidates.push({ job, model, acc: a.index, score, u, f, p, ...(variant === undefined ? {} : { variant, load }) });
      }
    }
  }
  return { candidates, drops };
};

const byScore = (x: Candidate, y: Candidate): number =>
  y.score - x.score ||
  x.job.deadline - y.job.deadline ||
  byteCompare(x.model.name, y.model.name) ||
  x.job.frame - y.job.frame ||
  x.acc - y.acc;

/** Greedy matching: best pair first, remove its job and accelerator, repeat. */
/** sdrm3's block size: its `block` parameter, or the run's block size when that is 0. */
export const blockSizeOf = (view: SchedulerView, params: PolicyParams): number =>
  (params.block ?? 0) > 0 ? Math.round(params.block!) : view.blockSize;

export const matchGreedy = (candidates: ReadonlyArray<Candidate>, blockSize: number): Dispatch[] => {
  const sorted = [...candidates].sort(byScore);
  const usedJobs = new Set<string>();
  const usedAccs = new Set<number>();
  const out: Dispatch[] = [];
  for (const c of sorted) {
    if (usedJobs.has(c.job.id) || usedAccs.has(c.acc)) continue;
    usedJobs.add(c.job.id);
    usedAccs.add(c.acc);
    const scores = { S: c.score, U: c.u, F: c.f, P: c.p, ...(c.load === undefined ? {} : { L: c.load }) };
    out.push({ job: c.job.id, acc: c.acc, layerCount: nextBlockLayers(c.job, blockSize), ...(c.variant === undefined ? {} : { variant: c.variant }), scores });
  }
  return out;
};

export const decideSdrm3 = (view: SchedulerView, params: PolicyParams): Decision => {
  const { candidates, drops } = scoreSdrm3(view, params);
  return { dispatches: matchGreedy(candidates, blockSizeOf(view, params)), drops };
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
