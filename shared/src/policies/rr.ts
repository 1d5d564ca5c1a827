/**
 * `rr` — round-robin over the model tasks at block granularity: whenever an accelerator is idle,
 * the least recently served ready job goes first (oldest `lastRanAt`: when its last block
 * finished, or its injection if it has not run yet), to the idle accelerator where its next block
 * finishes first. Ties: deadline, model name, frame. No drops beyond the runtime's.
 *
 * Reproduces the textbook round-robin time-slicing baseline of multi-tenant NPU schedulers (e.g.
 * the round-robin baseline of PREMA, HPCA 2020), with one block (view.blockSize layers) as the
 * quantum. Stateless:
 * the rotation pointer is derived from `lastRanAt`, so a job that just ran goes to the back.
 */
import { withDropParam } from "./admission";
import { BASELINE_CAPABILITIES } from "./capabilities";
import { listSchedule } from "./common";
import type { PolicyFactory } from "./types";

export const rr: PolicyFactory = withDropParam({
  name: "rr",
  description: "round-robin: least recently served job first (one block per turn), fastest idle accelerator",
  source: "textbook round-robin time slicing (quantum = one block), as in the PREMA (HPCA 2020) baselines",
  params: [],
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => ({
    name: "rr",
    description: rr.description,
    params,
    granularity: "block",
    decide: (view) => listSchedule(view, (r) => r.job.lastRanAt, "lastRanAt"),
  }),
});
