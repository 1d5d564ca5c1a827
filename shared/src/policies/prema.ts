/**
 * `prema` — PREMA's token-based scheduling (Choi & Rhu, "PREMA: A Predictive Multi-task Scheduling
 * Algorithm For Preemptible Neural Processing Units", HPCA 2020, Algorithm 2), adapted to this
 * runtime. docs/baselines.md has the algorithm and every adaptation.
 *
 * Algorithm 2: every task starts with as many tokens as its priority (high 9, medium 3, low 1);
 * at each scheduling point every *waiting* task gains priority × (time waited / its estimated
 * isolated latency) — a running task gains nothing. The threshold is the highest priority value
 * (9, then 3, then 1) that at least one task's token reaches; the candidates are the tasks whose
 * token reaches it, and the candidate with the shortest estimated job runs (preemptively).
 *
 * Adaptation:
 * - priorities: the XR table of `./priorities` (eye/gaze/hand high, scene understanding medium,
 *   audio/context low; unknown models medium);
 * - stateless tokens (policies keep no state): token(j) = priority × (1 + waited(j) / isolated(j)),
 *   isolated(j) = ToGo*(j at layer 0), waited(j) = time since injection minus the time j has run.
 *   The view does not record run time, so it is estimated as the optimistic time of the layers
 *   done, ToGo*(0) − ToGo*(next layer) (exact when every block ran on its fastest accelerator;
 *   otherwise waited is overestimated by the difference); a job that has not started waited
 *   exactly now − injectAt. waited is floored at 0;
 * - job length: the optimistic remaining time ToGo* (PREMA's predicted remaining latency);
 * - several accelerators: the selection is repeated with the chosen jobs removed, i.e. ready jobs
 *   are ordered by the highest threshold their token reaches (descending), then ToGo* ascending
 *   (ties: deadline, model name, frame); each takes the idle accelerator where its next block
 *   finishes first. Preemption is at block boundaries (view.blockSize layers);
 * - no drops of its own; `drop=1` applies the shared admission rule (./admission).
 */
import { withDropParam } from "./admission";
import { BASELINE_CAPABILITIES } from "./capabilities";
import { NO_DECISION, type Ready, anyIdle, assignInOrder, orderBy, readyJobs, toGoMs, withScores } from "./common";
import { PRIORITY_HIGH, PRIORITY_LOW, PRIORITY_MEDIUM, priorityOf } from "./priorities";
import type { Decision, PolicyFactory, SchedulerView } from "./types";

/** Floor of the isolated latency in the token (ms), so a zero-cost model cannot make it infinite. */
const MIN_ISOLATED_MS = 1e-9;

/** Token thresholds, highest first (PREMA: the priority class values). */
export const PREMA_THRESHOLDS: ReadonlyArray<number> = [PRIORITY_HIGH, PRIORITY_MEDIUM, PRIORITY_LOW];

/** Estimated time `r`'s job has waited (not run) since injection, ms (≥ 0). */
export const premaWaited = (r: Ready, now: number): number => {
  const opt = r.model.optimisticRemainingMs;
  const ran = opt[0]! - opt[r.job.nextLayer]!;
  return Math.max(0, now - r.job.injectAt - ran);
};

/** PREMA token of a job at `now`: priority × (1 + waited / isolated (optimistic) latency). */
export const premaToken = (r: Ready, now: number): number => {
  const isolated = r.model.optimisticRemainingMs[0]!;
  return priorityOf(r.model) * (1 + premaWaited(r, now) / Math.max(isolated, MIN_ISOLATED_MS));
};

/** The highest threshold `token` reaches (0 when it reaches none; a token never starts below 1). */
export const premaTier = (token: number): number => {
  for (const t of PREMA_THRESHOLDS) if (token >= t) return t;
  return 0;
};

export const decidePrema = (view: SchedulerView): Decision => {
  if (!anyIdle(view)) return NO_DECISION;
  const ordered = orderBy(
    readyJobs(view),
    (r) => -premaTier(premaToken(r, view.now)),
    (r) => toGoMs(r.model, r.job),
  );
  const scores = (r: Ready) => {
    const token = premaToken(r, view.now);
    return { token, threshold: premaTier(token), toGo: toGoMs(r.model, r.job) };
  };
  return { dispatches: withScores(assignInOrder(view, ordered), ordered, scores), drops: [] };
};

export const prema: PolicyFactory = withDropParam({
  name: "prema",
  description: "PREMA: tokens start at the XR priority and grow with normalised waiting; candidates at the highest reached threshold (9/3/1), shortest first",
  source:
    "PREMA (Choi & Rhu, HPCA 2020, Alg. 2): tokens = priority × (1 + waited / isolated), token-threshold candidates, shortest estimated job first; stateless tokens, " +
    "XR priority table (policies/priorities.ts), block-granular preemption on several accelerators",
  params: [],
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => ({ name: "prema", description: prema.description, params, granularity: "block", decide: decidePrema }),
});
