/**
 * `xrbench` — the official XRBench runtime's LatencyGreedy dispatch (XRBench-MAESTRO, MIT;
 * github.com/XRBench/XRBench-MLSys2023 @ 8915666), reproduced quirk for quirk so that sdrm3
 * reproduces the tool's published scores (shared/data/xrbench/PROVENANCE.md, "Known quirks").
 *
 * Whole-model, non-preemptive. In passes over the models in ascending byte order of their names,
 * each model's oldest queued frame starts if its cascade parents have completed at least frame+1
 * frames in total, on the idle accelerator with the smallest whole-model cycle count (lowest index
 * on a tie). A faster busy accelerator is never waited for. Passes repeat until one dispatches
 * nothing. Injection, retirement and the drop rule are the runtime's (actors/scheduler-kernel).
 */
import type { Decision, Dispatch, Policy, PolicyFactory, SchedulerView } from "./types";

export const decideXrbench = (view: SchedulerView): Decision => {
  const idle = view.accelerators.map((a) => a.idle);
  const taken = new Array<number>(view.models.length).fill(0);
  const dispatches: Dispatch[] = [];
  for (let progress = true; progress; ) {
    progress = false;
    for (let m = 0; m < view.models.length; m++) {
      const model = view.models[m]!;
      while (model.queue[taken[m]!]?.running) taken[m]!++;
      const job = model.queue[taken[m]!];
      if (job === undefined) continue;
      const parentsDone = model.dependsOn.every((p) => (view.completedByModel.get(p) ?? 0) >= job.frame + 1);
      if (!parentsDone) continue;
      let best = -1;
      for (let a = 0; a < idle.length; a++) {
        if (idle[a] && (best < 0 || model.wholeCycles[a]! < model.wholeCycles[best]!)) best = a;
      }
      if (best < 0) return { dispatches, drops: [] };
      idle[best] = false;
      taken[m]!++;
      dispatches.push({ job: job.id, acc: best, layerCount: job.layerCount - job.nextLayer });
      progress = true;
    }
  }
  return { dispatches, drops: [] };
};

export const xrbench: PolicyFactory = {
  name: "xrbench",
  description: "official XRBench runtime: whole-model, non-preemptive, LatencyGreedy to an idle accelerator",
  source: "XRBench-MAESTRO runtime (github.com/XRBench/XRBench-MLSys2023 @ 8915666), quirks in PROVENANCE.md",
  params: [],
  capabilities: {
    semantics: "xrbench",
    defaultDurationMs: 700, // the XRBench runtime's default
    live: { can: false, why: "the xrbench policy reproduces the XRBench runtime in virtual time; pick another policy (e.g. sdrm3)" },
    notInAll: true, // it runs whole models in the official tool's semantics
    mapScore: false,
    tunable: [],
    switches: {},
  },
  create: (params) => ({ name: "xrbench", description: xrbench.description, params, granularity: "model", decide: decideXrbench }),
};

/** The xrbench policy with its (empty) default parameters. */
export const xrbenchPolicy: Policy = { ...xrbench.create({}), capabilities: xrbench.capabilities };
