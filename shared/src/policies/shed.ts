/**
 * `shed` — crude frame-rate halving (DESIGN.md §7): every odd frame is dropped at the first
 * scheduling point after its release, before it starts (reason "shed: odd frame"); the even
 * frames run earliest deadline first, each to the idle accelerator where its next block finishes
 * first (as `edf`). A cascaded child inherits its parent's shedding: a dropped parent drops its
 * child (runtime rule), and odd child frames are dropped by the same rule.
 *
 * Not from a paper: the project's reference for "trade frames for deadlines by halving the load",
 * which an adaptive scheduler should beat wherever the hardware is overloaded.
 */
import { BASELINE_CAPABILITIES } from "./capabilities";
import { NO_DECISION, type Ready, anyIdle, assignInOrder, orderBy, readyJobs } from "./common";
import type { Decision, Drop, PolicyFactory, SchedulerView } from "./types";

export const SHED_DROP_REASON = "shed: odd frame";

export const decideShed = (view: SchedulerView): Decision => {
  const keep: Ready[] = [];
  let drops: Drop[] | undefined;
  for (const r of readyJobs(view)) {
    if (!r.job.started && r.job.frame % 2 === 1) (drops ??= []).push({ job: r.job.id, reason: SHED_DROP_REASON });
    else keep.push(r);
  }
  if (!anyIdle(view)) return drops === undefined ? NO_DECISION : { dispatches: [], drops };
  return { dispatches: assignInOrder(view, orderBy(keep, (r) => r.job.deadline)), drops: drops ?? [] };
};

export const shed: PolicyFactory = {
  name: "shed",
  description: "reference: drops every odd frame at release (frame-rate halving), EDF for the rest",
  source: "the project's reference policy (DESIGN.md §7): frame-rate halving + EDF",
  params: [],
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => ({ name: "shed", description: shed.description, params, granularity: "block", decide: decideShed }),
};
