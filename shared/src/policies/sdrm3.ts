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
 * Beyond the paper (scheduling behaviour 2, issue 14; docs/baselines.md "sdrm3 itself"), each a
 * parameter, 0 = the paper: contend — the guards (and the affordable test) add W/n, the demand of
 * every other unfinished job due no later, over the n accelerators (U does not); a job's demand is
 * its ToGo* × n / parallelism (sdrm3-load.ts: what the accelerators are worth to its model, less
 * than n where some are slower for it), so W/n and the overload test see heterogeneous hardware; affordable — relaxed only while the least-EDP fit of the
 * rest still meets the deadline; overload — by the processor-demand test in deadline order, a
 * not-started job with the least value (period / (1 − miss rate)) per ms gives way (2: is not
 * started; 1: ranks last); critical — a job with 0 ≤ laxity < another job's next block ranks first.
 * Behaviour 3 (the blocking terms, sdrm3-blocking.ts): affordableUrgent — an urgent job keeps the
 * energy-efficient fit while its least-EDP rest still meets the deadline behind the longest block
 * another job can hold and the others' least-EDP work on the busiest accelerator; blockGuard — no
 * block longer than the laxity of an earlier-due job that only this idle accelerator serves that fast.
 * Supernet downgrade (policies/supernet.ts, docs/supernets.md): when the view offers a model's
 * variants, a job that has not started takes the variant of the load rule (L = Σ ToGo* of ready
 * jobs / (accelerators × horizonMs); above λ1 ×0.75, above λ2 ×0.5) and is scored — urgency,
 * preference, guards, drop rule — with that variant's costs; the dispatch names the variant, which
 * the kernel fixes at the job's first block.
 */
import { isStarving, shouldDrop } from "./admission";
import { MAX_BLOCK_LAYERS, switchParam } from "./capabilities";
import { byteCompare } from "./common";
import { Scored, type SkippedPair, scorePairs } from "./sdrm3-score";
import { SUPERNET_PARAMS } from "./supernet";
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
  switchParam("contend", 1, "1: the guards and the affordable test count the work queued ahead of the job (the remaining work of every unfinished job with an earlier or equal deadline, spread over the accelerators); 0: the job alone (as the paper)"),
  switchParam("affordable", 1, "1: a job counts as relaxed (energy-efficient fit) only while the rest of it, every layer on its most energy-efficient (least-EDP) accelerator, would still finish by the deadline after the work queued ahead; 0: U < ustar alone (as the paper)"),
  { name: "overload", kind: "integer", default: 2, min: 0, max: 2, description: "overload shedding: when the work queued up to some deadline exceeds what the accelerators can do by then, the not-started jobs whose loss costs the least UXCost per ms of work freed give way: 2 they are not started (the drop rule drops them once they cannot make their deadline; they run if the overload clears first), 1 they rank below every other job, 0 off (as the paper); off with drop=0" },
  switchParam("critical", 1, "1: a job whose laxity (slack − ToGo*) is shorter than the longest next block a competing ready job could start now cannot afford to wait one block: its pairs rank above every non-critical pair (+CRITICAL_RANK); 0: off (as the paper)"),
  switchParam("affordableUrgent", 1, "1: an urgent job (U >= ustar) still takes the energy-efficient fit while the rest of it, every layer on its least-EDP accelerator, would finish by the deadline after the longest block another job can hold and the other jobs' least-EDP work due no later on the accelerator that work loads most (needs contend=1 or overload>0); 0: an urgent job always takes the fast fit (as the paper)"),
  switchParam("blockGuard", 1, "1: a job does not start a block on an accelerator when another unfinished job due earlier has less laxity than the block and only that idle accelerator runs its next layer as fast as any (needs contend=1 or overload>0); 0: off (as the paper)"),
  { name: "cascade", kind: "integer", default: 0, min: 0, max: 2, description: "urgency counts the expected work of the frame's cascade children (they share its deadline): 0 never, 1 always, 2 weighted by each child's recent miss rate" },
  ...SUPERNET_PARAMS,
] as const;

/**
 * The values of the parameters added with scheduling behaviour 3 (issue 14: the blocking terms,
 * policies/sdrm3-blocking.ts) that reproduce behaviour 2: what a replay of a behaviour-2 log, which
 * records none of them, uses.
 */
export const SDRM3_BEHAVIOUR_2: Readonly<Record<string, number>> = { affordableUrgent: 0, blockGuard: 0 };

/**
 * The values of the parameters added with scheduling behaviours 2 and 3 (issue 14) that reproduce
 * behaviour 1 (the paper's sdrm3): what a replay of a behaviour-1 log, which records none of them, uses.
 */
export const SDRM3_BEHAVIOUR_1: Readonly<Record<string, number>> = { contend: 0, affordable: 0, overload: 0, critical: 0, ...SDRM3_BEHAVIOUR_2 };

/** U, F and the critical rank: policies/sdrm3-score.ts (which scores the pairs of a scheduling point). */
export { CRITICAL_RANK, fairness, urgency, type SkipReason, type SkippedPair } from "./sdrm3-score";

/** The drop rule and starvation test are the shared admission rule's (policies/admission.ts). */
export { isStarving, shouldDrop };

/** P and the guards (policies/sdrm3-fit.ts) and the load terms of behaviour 2 (policies/sdrm3-load.ts). */
export { affinitySkips, guardSkips, jobFit, preference } from "./sdrm3-fit";
export { SHED_RANK, cascadeWork, edpRemainingMs, edpRemainingOnMs, edpRestMs, frameValue, parallelism, fitsByDeadline, queuedAhead, queuedAheadFor, queuedAheadOf, shedOverload } from "./sdrm3-load";

/** sdrm3's block size: its `block` parameter, or the run's block size when that is 0. */
export const blockSizeOf = (view: SchedulerView, params: PolicyParams): number =>
  (params.block ?? 0) > 0 ? Math.round(params.block!) : view.blockSize;


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

/**
 * Every scored (ready job, idle accelerator) pair, the pairs the policy skipped with the rule that
 * skipped each, and the drops, at this scheduling point (for explain and tests): the decision's own scoring.
 */
export const scoreSdrm3 = (view: SchedulerView, params: PolicyParams): { candidates: Candidate[]; skipped: SkippedPair[]; drops: Drop[] } => {
  const s = new Scored();
  const skipped: SkippedPair[] = [];
  s.skipped = skipped;
  const drops = scorePairs(view, params, s);
  const candidates: Candidate[] = [];
  for (let k = 0; k < s.pairCount; k++) {
    const i = s.pairJob[k]!;
    const variant = s.variants[i];
    const c = { job: s.jobs[i]!, model: s.models[i]!, acc: s.pairAcc[k]!, score: s.score[k]!, u: s.u[i]!, f: s.f[i]!, p: s.p[k]! };
    candidates.push(variant === undefined ? c : { ...c, variant, load: s.load });
  }
  return { candidates, skipped, drops };
};

/**
 * Greedy matching: the best pair first, then the best pair whose job and accelerator are both
 * still free, and so on — what taking every pair in `byScore` order gives, each unless its job or
 * accelerator is taken already. Each job's pairs are put in that order once; a match compares the
 * jobs' first pairs on a free accelerator. One dispatch per match, in match order.
 */
const matchGreedy = (s: Scored): Dispatch[] => {
  const { pairJob, pairAcc, order, head, accTaken, jobFirst: first, score } = s;
  const jobCount = s.jobCount;
  for (let i = 0; i < jobCount; i++) {
    // insertion sort of job i's pairs (a few, nearly in order) by `byScoreOneJob`: a job's pairs are made in accelerator
    // order, so a later pair goes before an earlier one only on a higher score
    const from = first[i]!;
    for (let k = from; k < first[i + 1]!; k++) {
      const sk = score[k]!;
      let at = k;
      while (at > from && score[order[at - 1]!]! - sk < 0) {
        order[at] = order[at - 1]!;
        at--;
      }
      order[at] = k;
    }
    head[i] = from;
  }
  accTaken.fill(0);
  const out: Dispatch[] = [];
  const most = Math.min(jobCount, s.idleCount);
  while (out.length < most) {
    let best = -1;
    let bestScore = 0;
    for (let i = 0; i < jobCount; i++) {
      let h = head[i]!;
      const end = first[i + 1]!;
      while (h < end && accTaken[pairAcc[order[h]!]!] === 1) h++;
      head[i] = h;
      if (h === end) continue;
      const x = order[h]!;
      // byScore(s, x, best) < 0: its first term decides unless it is 0 (or NaN)
      const d = best < 0 ? -1 : bestScore - score[x]!;
      if (d < 0 || (!(d > 0) && byScore(s, x, best) < 0)) {
        best = x;
        bestScore = score[x]!;
      }
    }
    if (best < 0) break;
    const i = pairJob[best]!;
    const acc = pairAcc[best]!;
    head[i] = first[i + 1]!; // job i is matched
    accTaken[acc] = 1;
    const job = s.jobs[i]!;
    const variant = s.variants[i];
    const common = { S: score[best]!, U: s.u[i]!, F: s.f[i]!, P: s.p[best]! };
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
    earlierBehaviours: { 1: SDRM3_BEHAVIOUR_1, 2: SDRM3_BEHAVIOUR_2 },
    switches: { supernet: "supernet", tune: { on: "tune", every: "tuneEvery", lookahead: "lookahead" } },
  },
  create: (params) => {
    const p = { ...defaults, ...params };
    return { name: "sdrm3", description: sdrm3.description, params: p, granularity: "block", decide: (view) => decideSdrm3(view, p) };
  },
};
