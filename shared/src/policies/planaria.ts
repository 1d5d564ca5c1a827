/**
 * `planaria` — Planaria's score-based multi-tenant scheduling (Ghodrati et al., "Planaria: Dynamic
 * Architecture Fission for Spatial Multi-Tenant Acceleration of Deep Neural Networks", MICRO 2020,
 * §5 task scheduling), adapted to fixed sub-accelerators. docs/baselines.md has the algorithm and
 * every adaptation.
 *
 * When the tasks do not all fit, Planaria scores every task as priority / (slack × resources),
 * slack being the time left to its QoS deadline and resources the fewest subarrays (fission
 * granules) with which it still meets that deadline, and allocates in descending score order.
 * Tasks that cannot meet their deadline even with the whole chip go to the back (they get what
 * is left over). Planaria drops nothing itself.
 *
 * Adaptation (no fission: a job runs one block at a time on one of N fixed accelerators):
 * - slack(j) = deadline − now (Planaria's time to the deadline); ToGo*(j) = optimistic remaining
 *   time (fastest accelerator per layer);
 * - resources(j) = clamp(ceil(N × ToGo*(j) / slack(j)), 1, N): the fewest of N equal shares of the
 *   SoC's accelerator-time until the deadline that cover j's work — the discrete "subarrays it
 *   needs", on the granularity of one accelerator's share. It is 1 for every job that needs at
 *   most 1/N of the SoC until its deadline, so the score is then priority / slack;
 * - score(j) = priority(j) / (slack(j) × resources(j)), priorities from `./priorities`;
 * - a job that cannot make its deadline (slack ≤ 0 or ToGo* > slack: not even the fastest
 *   accelerator for every layer finishes it) scores −1 / priority: behind every job that can, and
 *   among themselves by priority; it still runs when an accelerator is left over;
 * - allocation: ready jobs in descending score (ties: deadline, model name, frame) each take the
 *   idle accelerator where their next block (view.blockSize layers) finishes first;
 * - no drops of its own; `drop=1` applies the shared admission rule (./admission), which drops
 *   exactly the jobs that would otherwise score negative (not in flight, ToGo* > slack).
 */
import { withDropParam } from "./admission";
import { BASELINE_CAPABILITIES } from "./capabilities";
import { NO_DECISION, type Ready, anyIdle, assignInOrder, orderBy, readyJobs, toGoMs, withScores } from "./common";
import { priorityOf } from "./priorities";
import type { Decision, PolicyFactory, SchedulerView } from "./types";

export interface PlanariaTerms {
  /** deadline − now */
  readonly slack: number;
  /** ToGo*: optimistic remaining time */
  readonly toGo: number;
  /** clamp(ceil(N × ToGo* / slack), 1, N); N when it cannot make its deadline */
  readonly resources: number;
  /** priority / (slack × resources), or −1 / priority when it cannot make its deadline */
  readonly score: number;
}

/** Planaria's terms for a ready job at `now` on `accCount` accelerators. */
export const planariaTerms = (r: Ready, now: number, accCount: number): PlanariaTerms => {
  const slack = r.job.deadline - now;
  const toGo = toGoMs(r.model, r.job);
  const priority = priorityOf(r.model);
  if (slack <= 0 || toGo > slack) return { slack, toGo, resources: accCount, score: -1 / priority };
  const resources = Math.min(accCount, Math.max(1, Math.ceil((accCount * toGo) / slack)));
  return { slack, toGo, resources, score: priority / (slack * resources) };
};

export const decidePlanaria = (view: SchedulerView): Decision => {
  if (!anyIdle(view)) return NO_DECISION;
  const n = view.accelerators.length;
  const ready = readyJobs(view);
  const terms = new Map(ready.map((r) => [r.job.id, planariaTerms(r, view.now, n)] as const));
  const ordered = orderBy(ready, (r) => -terms.get(r.job.id)!.score);
  const scores = (r: Ready) => {
    const t = terms.get(r.job.id)!;
    return { score: t.score, slack: t.slack, resources: t.resources };
  };
  return { dispatches: withScores(assignInOrder(view, ordered), ordered, scores), drops: [] };
};

export const planaria: PolicyFactory = withDropParam({
  name: "planaria",
  description: "Planaria: priority / (time to deadline × resources needed), jobs that cannot make it last; fastest idle accelerator",
  source:
    "Planaria (Ghodrati et al., MICRO 2020) task scoring, adapted to fixed sub-accelerators: " +
    "slack = deadline − now, resources = clamp(ceil(N·ToGo*/slack), 1, N), XR priority table (policies/priorities.ts); no drops of its own",
  params: [],
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => ({ name: "planaria", description: planaria.description, params, granularity: "block", decide: decidePlanaria }),
});
