/**
 * `fcfs` — first come, first served at block granularity: the ready job released earliest goes
 * first (ties: model name, frame), to the idle accelerator where its next block finishes first.
 * No drops beyond the runtime's (a frame whose deadline passes before it starts).
 */
import { withDropParam } from "./admission";
import { BASELINE_CAPABILITIES } from "./capabilities";
import { assignInOrder, byteCompare, readyJobs } from "./common";
import type { PolicyFactory } from "./types";

export const fcfs: PolicyFactory = withDropParam({
  name: "fcfs",
  description: "first come, first served (earliest release first), fastest idle accelerator",
  source: "textbook FCFS list scheduling; baseline of the SDRM3/DREAM paper",
  params: [],
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => ({
    name: "fcfs",
    description: fcfs.description,
    params,
    granularity: "block",
    decide: (view) => {
      const ordered = readyJobs(view).sort(
        (a, b) => a.job.injectAt - b.job.injectAt || byteCompare(a.model.name, b.model.name) || a.job.frame - b.job.frame,
      );
      return { dispatches: assignInOrder(view, ordered), drops: [] };
    },
  }),
});
