/**
 * `llf` — least laxity first at block granularity: laxity = deadline − now − ToGo*, where ToGo* is
 * the job's optimistic remaining time (each remaining layer on its fastest accelerator). The
 * ready job with the least laxity goes first (ties: deadline, model name, frame), to the idle
 * accelerator where its next block finishes first. Negative laxity does not drop a job (the
 * runtime drops only frames that never started).
 *
 * Reproduces least-laxity-first (Mok, MIT 1983; a.k.a. least slack time) with the optimistic
 * remaining time as the execution-time estimate, re-evaluated at every block boundary.
 */
import { withDropParam } from "./admission";
import { BASELINE_CAPABILITIES } from "./capabilities";
import { listSchedule, toGoMs } from "./common";
import type { PolicyFactory } from "./types";

export const llf: PolicyFactory = withDropParam({
  name: "llf",
  description: "least laxity first (deadline − now − optimistic remaining time), fastest idle accelerator",
  source: "least-laxity-first (Mok 1983), ToGo* as the remaining-time estimate, re-evaluated per block",
  params: [],
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => ({
    name: "llf",
    description: llf.description,
    params,
    granularity: "block",
    decide: (view) => listSchedule(view, (r) => r.job.deadline - view.now - toGoMs(r.model, r.job), "laxity"),
  }),
});
