/**
 * Supernet downgrade (DESIGN.md §8, docs/supernets.md): the load rule by which sdrm3 picks the
 * variant of a supernet model's job when the job starts. Pure.
 *
 *   load L = Σ over ready jobs of ToGo* / (accelerators × horizonMs)
 *   L ≤ λ1: the full model (variant 0);  λ1 < L ≤ λ2: ×0.75 (variant 1);  L > λ2: ×0.5 (variant 2)
 *
 * "Ready jobs" are the released, unfinished jobs with no block in flight (the jobs the policy can
 * dispatch now, the starting one included), each counted with the costs of its view — a started
 * job at its own variant, one that has not started at the full model. L is dimensionless: L = 1
 * means the ready work would keep every accelerator busy for the horizon, each layer at its best
 * speed. The baselines never downgrade: they always run the full model.
 */
import { switchParam } from "./capabilities";
import { toGoMs } from "./common";
import type { ModelView, SchedulerView } from "./types";

/** sdrm3's supernet parameters (part of SDRM3_PARAMS). */
export const SUPERNET_PARAMS = [
  switchParam(
    "supernet",
    0,
    "1: the run gives every model the supernet variants x1.0/x0.75/x0.5 (read by the run setup, like tune; --supernet on); jobs then start at the variant of the load rule",
  ),
  { name: "lambda1", default: 0.8, min: 0, max: 1e6, description: "supernet load rule: a job starts at the second variant (x0.75) when the load L exceeds lambda1" },
  { name: "lambda2", default: 1.2, min: 0, max: 1e6, description: "supernet load rule: a job starts at the third variant (x0.5) when the load L exceeds lambda2" },
  {
    name: "horizonMs",
    default: 50,
    min: 0.001,
    max: 1e9,
    description: "supernet load rule: horizon of the load L = sum of ToGo* over ready jobs / (accelerators * horizonMs), ms",
  },
] as const;

/** Defaults of the load rule (docs/supernets.md gives the measurements behind horizonMs = 50). */
export const SUPERNET_DEFAULTS = { lambda1: 0.8, lambda2: 1.2, horizonMs: 50 } as const;

/** The load L of the load rule at this scheduling point (see the module doc). */
export const supernetLoad = (view: SchedulerView, horizonMs: number): number => {
  let work = 0;
  for (const model of view.models) for (const job of model.queue) if (!job.running) work += toGoMs(model, job);
  return work / (Math.max(1, view.accelerators.length) * horizonMs);
};

/**
 * The variant a starting job takes at load L: the largest whose load fits — 0 (full) when L ≤ λ1,
 * 1 (×0.75) when λ1 < L ≤ λ2, 2 (×0.5) when L > λ2 — never beyond the model's last variant.
 */
export const variantForLoad = (load: number, lambda1: number, lambda2: number, variantCount: number): number =>
  Math.max(0, Math.min(variantCount - 1, load > lambda2 ? 2 : load > lambda1 ? 1 : 0));

/** A full model's view seen with variant v's costs (what the kernel shows for started jobs of v). */
export const variantView = (model: ModelView, v: number): ModelView => {
  if (v === 0) return model;
  const vv = model.variants?.[v];
  if (vv === undefined) throw new Error(`model ${model.name} has no variant ${v}`);
  const { variants: _all, ...rest } = model;
  return { ...rest, variant: v, costs: vv.costs, wholeCycles: vv.wholeCycles, optimisticRemainingMs: vv.optimisticRemainingMs };
};

/** True when some model of the view offers variants (a supernet run). */
export const offersVariants = (view: SchedulerView): boolean => {
  for (const m of view.models) if ((m.variants?.length ?? 0) > 1) return true;
  return false;
};
