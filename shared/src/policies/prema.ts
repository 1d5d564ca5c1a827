/**
 * `prema` — PREMA's token-based scheduling (Choi & Rhu, "PREMA: A Predictive Multi-task Scheduling
 * Algorithm For Preemptible Neural Processing Units", HPCA 2020, Algorithm 2), adapted to this
 * runtime.
 *
 * PREMA gives every task a priority class (high 9, medium 3, low 1 tokens) and accumulates tokens
 * as priority × normalised waiting time (waiting time over the task's estimated isolated
 * latency). At each scheduling point the threshold is the highest class value (9, then 3, then 1)
 * that at least one task's token reaches; the candidates are the tasks whose token reaches it, and
 * the candidate with the shortest estimated job runs (preemptively).
 *
 * Adaptation:
 * - priorities: the XR table of `./priorities` (eye/gaze/hand high, scene understanding medium,
 *   audio/context low; unknown models medium);
 * - stateless tokens: token(j) = priority × (now − injectAt) / ToGo*(j at layer 0), derived from the
 *   view at each call (policies keep no state). PREMA accumulates priority × idle time / isolated
 *   time per scheduling period, which sums to the same form except that PREMA counts only the time
 *   a task waits, where this counts the time since injection (running time included). PREMA also
 *   seeds tokens with the priority; here a fresh job starts at 0, so a fresh high-priority job does
 *   not outrank long-waiting low-priority ones by its class alone;
 * - no job reaching threshold 1 (e.g. everything just released): every ready job is a candidate;
 * - job length: the optimistic remaining time ToGo* (PREMA's predicted remaining latency);
 * - several accelerators: the selection is repeated with the chosen jobs removed, i.e. ready jobs
 *   are ordered by the highest threshold their token reaches (descending), then ToGo* ascending
 *   (ties: deadline, model name, frame); each takes the idle accelerator where its next block
 *   finishes first. Preemption is at block boundaries (view.blockSize layers). No drops beyond the
 *   runtime's.
 */
import { BASELINE_CAPABILITIES } from "./capabilities";
import { NO_DECISION, type Ready, anyIdle, assignInOrder, orderBy, readyJobs, toGoMs, withScores } from "./common";
import { PRIORITY_HIGH, PRIORITY_LOW, PRIORITY_MEDIUM, priorityOf } from "./priorities";
import type { Decision, PolicyFactory, SchedulerView } from "./types";

/** Floor of the isolated latency in the token (ms), so a zero-cost model cannot make it infinite. */
const MIN_ISOLATED_MS = 1e-9;

/** Token thresholds, highest first (PREMA: the priority class values). */
export const PREMA_THRESHOLDS: ReadonlyArray<number> = [PRIORITY_HIGH, PRIORITY_MEDIUM, PRIORITY_LOW];

/** PREMA token of a job at `now`: priority × time since injection / isolated (optimistic) latency. */
export const premaToken = (r: Ready, now: number): number => {
  const isolated = r.model.optimisticRemainingMs[0]!;
  const waited = Math.max(0, now - r.job.injectAt);
  return (priorityOf(r.model) * waited) / Math.max(isolated, MIN_ISOLATED_MS);
};

/** The highest threshold `token` reaches (0 when it reaches none). */
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

export const prema: PolicyFactory = {
  name: "prema",
  description: "PREMA: tokens = XR priority × normalised wait; candidates above the highest reached threshold (9/3/1), shortest first",
  source:
    "PREMA (Choi & Rhu, HPCA 2020, Alg. 2): token-based candidates, shortest estimated job first; stateless tokens, " +
    "XR priority table (policies/priorities.ts), block-granular preemption on several accelerators",
  params: [],
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => ({ name: "prema", description: prema.description, params, granularity: "block", decide: decidePrema }),
};
