/**
 * `sjf` — shortest (remaining) job first at block granularity: the ready job with the smallest
 * optimistic remaining time ToGo* (each remaining layer on its fastest accelerator) goes first
 * (ties: deadline, model name, frame), to the idle accelerator where its next block finishes
 * first. Preemptive at block boundaries (shortest remaining processing time). No drops beyond the
 * runtime's.
 *
 * Reproduces the SJF baseline of multi-tenant NPU scheduling (as in PREMA, HPCA 2020), with the
 * cost table's optimistic latency as the job-length estimate.
 */
import { withDropParam } from "./admission";
import { BASELINE_CAPABILITIES } from "./capabilities";
import { listSchedule, toGoMs } from "./common";
import type { PolicyFactory } from "./types";

export const sjf: PolicyFactory = withDropParam({
  name: "sjf",
  description: "shortest remaining job first (optimistic remaining time), fastest idle accelerator",
  source: "shortest-job-first / SRPT as in the PREMA (HPCA 2020) baselines, ToGo* as the length estimate",
  params: [],
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => ({
    name: "sjf",
    description: sjf.description,
    params,
    granularity: "block",
    decide: (view) => listSchedule(view, (r) => toGoMs(r.model, r.job), "toGo"),
  }),
});
