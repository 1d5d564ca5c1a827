/**
 * `herald` — Herald's static layer-to-accelerator affinity with load balancing (Kwon et al.,
 * "Heterogeneous Dataflow Accelerators for Multi-DNN Workloads", HPCA 2021: its layer
 * scheduler), adapted to this runtime.
 *
 * Herald maps every layer of every model to the sub-accelerator whose dataflow suits it best (by
 * EDP, from its cost model) and then balances load: a layer whose preferred sub-accelerator is
 * congested moves to a less loaded one when the EDP penalty is acceptable. The plan is static —
 * computed from the cost model, not from the running workload.
 *
 * Adaptation:
 * - static plan: layer l's preferred accelerator = argmin over accelerators of latency × energy
 *   (lowest index on ties). It depends on the cost table only: a cascade child that did not
 *   trigger, or any other job, changes nothing in a job's plan;
 * - a block is the run of consecutive layers from the job's next layer that share one preferred
 *   accelerator, at most the run's block (common blockLayers: view.blockSize layers, one at the default
 *   block size 1, or a quantum block);
 * - ready jobs in deadline order (ties: model name, frame); each goes to its block's preferred
 *   accelerator when idle. Load balancing: when that accelerator is busy, the block moves to the
 *   least-loaded idle accelerator if its EDP there is < `balanceFactor` × the preferred EDP;
 *   otherwise the job waits for its preferred accelerator. An idle accelerator carries no load, so
 *   "least-loaded idle" is any idle one: the one with the lowest EDP for the block (lowest index
 *   on ties). balanceFactor = 1 disables balancing (a purely static mapping);
 * - no drops beyond the runtime's.
 */
import { withDropParam } from "./admission";
import { BASELINE_CAPABILITIES } from "./capabilities";
import { NO_DECISION, anyIdle, blockEnergyMJ, blockLayers, blockLatencyMs, compareReady, readParam, readyJobs } from "./common";
import type { ModelCosts } from "../domain/types";
import type { Decision, Dispatch, ModelView, ParamSpec, PolicyFactory, SchedulerView } from "./types";

/** Herald's affinity: the accelerator with the least EDP (latency × energy) for `layer` (lowest index on ties). */
export const heraldPreferred = (costs: ModelCosts, layer: number): number => {
  let best = 0;
  let bestEdp = Number.POSITIVE_INFINITY;
  for (let a = 0; a < costs.latencyMs.length; a++) {
    const edp = costs.latencyMs[a]![layer]! * costs.energyMJ[a]![layer]!;
    if (edp < bestEdp) {
      best = a;
      bestEdp = edp;
    }
  }
  return best;
};

/** Herald's static plan of a model: the preferred accelerator of every layer. A function of the costs only. */
export const heraldPlan = (costs: ModelCosts): Int32Array => {
  const plan = new Int32Array(costs.layerCount);
  for (let l = 0; l < costs.layerCount; l++) plan[l] = heraldPreferred(costs, l);
  return plan;
};

/** Length of the run of layers from `from` preferring accelerator `pref`, at most `cap` (≥ 1). */
const affinityRun = (costs: ModelCosts, from: number, pref: number, cap: number): number => {
  let n = 1;
  while (n < cap && heraldPreferred(costs, from + n) === pref) n++;
  return n;
};

const blockEdp = (model: ModelView, acc: number, from: number, count: number): number =>
  blockLatencyMs(model, acc, from, count) * blockEnergyMJ(model, acc, from, count);

/** Load balancing: the idle accelerator with the lowest EDP for the block if within `factor` × the preferred EDP, else -1. */
const balanceTarget = (model: ModelView, from: number, count: number, pref: number, idle: boolean[], factor: number): number => {
  let best = -1;
  let bestEdp = Number.POSITIVE_INFINITY;
  for (let a = 0; a < idle.length; a++) {
    if (!idle[a]) continue;
    const edp = blockEdp(model, a, from, count);
    if (edp < bestEdp) {
      best = a;
      bestEdp = edp;
    }
  }
  return best >= 0 && bestEdp < factor * blockEdp(model, pref, from, count) ? best : -1;
};

export const decideHerald = (view: SchedulerView, balanceFactor: number): Decision => {
  if (!anyIdle(view)) return NO_DECISION;
  const idle = view.accelerators.map((a) => a.idle);
  let free = idle.reduce((s, i) => s + (i ? 1 : 0), 0);
  const dispatches: Dispatch[] = [];
  for (const { job, model } of readyJobs(view).sort(compareReady)) {
    if (free === 0) break;
    const from = job.nextLayer;
    const pref = heraldPreferred(model.costs, from);
    const count = affinityRun(model.costs, from, pref, blockLayers(view, model, job));
    const acc = idle[pref] ? pref : balanceTarget(model, from, count, pref, idle, balanceFactor);
    if (acc < 0) continue;
    idle[acc] = false;
    free--;
    const scores = { edp: blockEdp(model, acc, from, count), preferredEdp: blockEdp(model, pref, from, count), preferred: pref };
    dispatches.push({ job: job.id, acc, layerCount: count, scores });
  }
  return { dispatches, drops: [] };
};

const HERALD_PARAMS: ReadonlyArray<ParamSpec> = [
  {
    name: "balanceFactor",
    default: 2,
    min: 1,
    max: 1000,
    description:
      "load balancing: a block leaves its busy preferred accelerator for an idle one whose EDP is < factor × the best (1 = never)",
  },
];

export const herald: PolicyFactory = withDropParam({
  name: "herald",
  description: "Herald: static per-layer EDP affinity, moved to an idle accelerator when within a factor of the best EDP; deadline order",
  source:
    "Herald (Kwon et al., HPCA 2021) layer scheduler: static argmin-EDP layer-to-accelerator affinity from the cost table, " +
    "load balancing within balanceFactor × best EDP, jobs in deadline order",
  params: HERALD_PARAMS,
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => {
    const factor = readParam(params, HERALD_PARAMS, "balanceFactor");
    return { name: "herald", description: herald.description, params, granularity: "block", decide: (view) => decideHerald(view, factor) };
  },
});
