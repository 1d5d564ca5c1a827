/**
 * `planaria` — Planaria's score-based multi-tenant scheduling (Ghodrati et al., "Planaria: Dynamic
 * Architecture Fission for Spatial Multi-Tenant Acceleration of Deep Neural Networks", MICRO 2020,
 * and the scheduler of its public simulator), adapted to fixed sub-accelerators.
 *
 * When the tasks do not all fit, Planaria scores every task as priority / (slack × resources),
 * where slack is the time left to its QoS deadline and resources the smallest number of subarrays
 * (fission granules) with which it still meets its QoS, and allocates subarrays in descending
 * score order. Tasks that cannot meet their QoS even with the whole chip are pushed to the back
 * (the public scheduler scores them negative: they get leftover subarrays only).
 *
 * Adaptation (no fission: a job runs one block at a time on one of N fixed accelerators):
 * - window(j) = deadline − now; ToGo*(j) = optimistic remaining time (fastest accelerator per layer);
 * - resources(j) = ToGo*(j) / (N × window(j)): the share of the SoC's accelerator-time until the
 *   deadline that j needs to finish in time — the fixed-accelerator analogue of "the subarrays it
 *   needs to meet its QoS";
 * - slack(j) = window(j) − ToGo*(j): the time j can still afford to wait. With Planaria's own
 *   slack (= window) the product slack × resources would collapse to ToGo* / N and the score to
 *   priority-weighted SJF, losing the urgency term that Planaria's discrete subarray counts keep;
 *   with the time to spare both survive: urgent jobs and short jobs score high;
 * - score(j) = priority(j) / (max(slack, ε) × resources(j)), priorities from `./priorities`;
 * - task dropping: a ready job whose deadline has passed or whose ToGo* exceeds its window (it
 *   cannot finish even with every remaining layer on its fastest accelerator) is dropped rather
 *   than pushed to the back: a frame past its deadline is worth nothing here, and running it would
 *   only spend energy and accelerator time that frames which can still make it need;
 * - allocation: ready jobs in descending score (ties: deadline, model name, frame) each take the
 *   idle accelerator where their next block (view.blockSize layers) finishes first.
 */
import { BASELINE_CAPABILITIES } from "./capabilities";
import { NO_DECISION, type Ready, anyIdle, assignInOrder, orderBy, readyJobs, toGoMs, withScores } from "./common";
import { priorityOf } from "./priorities";
import type { Decision, Drop, PolicyFactory, SchedulerView } from "./types";

/** Smallest slack used in the score (ms): a job with no time to spare scores highest, not infinite/NaN. */
const MIN_SLACK_MS = 1e-9;

export const PLANARIA_DROP_REASON = "planaria: cannot finish by its deadline even on the fastest accelerators";

export interface PlanariaTerms {
  /** deadline − now */
  readonly window: number;
  /** ToGo*: optimistic remaining time */
  readonly toGo: number;
  /** window − ToGo* (floored at MIN_SLACK_MS in the score) */
  readonly slack: number;
  /** ToGo* / (N × window): share of the SoC's accelerator-time until the deadline */
  readonly resources: number;
  /** priority / (slack × resources) */
  readonly score: number;
}

/** Planaria's terms for a ready job at `now` on `accCount` accelerators; null: it cannot make its deadline (drop). */
export const planariaTerms = (r: Ready, now: number, accCount: number): PlanariaTerms | null => {
  const window = r.job.deadline - now;
  const toGo = toGoMs(r.model, r.job);
  if (window <= 0 || toGo > window) return null;
  const resources = toGo / (accCount * window);
  const slack = window - toGo;
  return { window, toGo, slack, resources, score: priorityOf(r.model) / (Math.max(slack, MIN_SLACK_MS) * resources) };
};

export const decidePlanaria = (view: SchedulerView): Decision => {
  const n = view.accelerators.length;
  const keep: Ready[] = [];
  let drops: Drop[] | undefined;
  for (const r of readyJobs(view)) {
    if (planariaTerms(r, view.now, n) !== null) keep.push(r);
    else {
      const scores = { window: r.job.deadline - view.now, toGo: toGoMs(r.model, r.job) };
      (drops ??= []).push({ job: r.job.id, reason: PLANARIA_DROP_REASON, scores });
    }
  }
  if (!anyIdle(view)) return drops === undefined ? NO_DECISION : { dispatches: [], drops };
  const terms = (r: Ready) => planariaTerms(r, view.now, n)!;
  const ordered = orderBy(keep, (r) => -terms(r).score);
  const scores = (r: Ready) => {
    const t = terms(r);
    return { score: t.score, slack: t.slack, resources: t.resources };
  };
  return { dispatches: withScores(assignInOrder(view, ordered), ordered, scores), drops: drops ?? [] };
};

export const planaria: PolicyFactory = {
  name: "planaria",
  description: "Planaria: priority / (slack × resources), drops jobs that cannot make their deadline, fastest idle accelerator",
  source:
    "Planaria (Ghodrati et al., MICRO 2020) task scoring and dropping, adapted to fixed sub-accelerators: " +
    "resources = ToGo* / (N·window), slack = window − ToGo*, XR priority table (policies/priorities.ts)",
  params: [],
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => ({ name: "planaria", description: planaria.description, params, granularity: "block", decide: decidePlanaria }),
};
