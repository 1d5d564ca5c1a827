/**
 * `edf` — earliest deadline first at block granularity: whenever an accelerator is idle, the ready
 * job with the earliest deadline goes first (ties: model name, frame), to the idle accelerator
 * where its next block finishes first. No drops beyond the runtime's (a frame whose deadline
 * passes before it starts).
 *
 * Reproduces Liu & Layland's EDF (JACM 1973), the classic real-time baseline, applied per block
 * (view.blockSize layers) on heterogeneous accelerators with list scheduling.
 */
import { withDropParam } from "./admission";
import { BASELINE_CAPABILITIES } from "./capabilities";
import { listSchedule } from "./common";
import type { PolicyFactory } from "./types";

export const edf: PolicyFactory = withDropParam({
  name: "edf",
  description: "earliest deadline first, fastest idle accelerator",
  source: "EDF (Liu & Layland, JACM 1973) as block-granular list scheduling",
  params: [],
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => ({
    name: "edf",
    description: edf.description,
    params,
    granularity: "block",
    decide: (view) => listSchedule(view, (r) => r.job.deadline, "deadline"),
  }),
});
