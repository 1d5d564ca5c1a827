/**
 * Admission control (frame drop), one rule for every policy that takes it: sdrm3 always (its
 * `drop` parameter), every baseline with `drop=1` — so a comparison measures the schedulers, not
 * who is allowed to give up on a lost frame.
 *
 * The rule (sdrm3's, DESIGN.md §8): a job with no block in flight is dropped when its optimistic
 * remaining time ToGo* (each remaining layer on its fastest accelerator) exceeds threshold × slack,
 * slack = deadline − now. The threshold is γ, or max(γ, 1) for a starving model (no frame on time
 * for `starveMs`), so a starving model never loses a frame that can still make it. The baselines
 * use γ = 1 and sdrm3's default starveMs; at γ = 1 both thresholds are 1, so starvation does not
 * change what they drop.
 */
import { switchParam } from "./capabilities";
import { toGoMs } from "./common";
import type { Decision, Drop, JobView, ModelView, ParamSpec, PolicyFactory, SchedulerView } from "./types";

/** γ of the baselines with `drop=1` (sdrm3's default). */
export const ADMISSION_GAMMA = 1;
/** starveMs of the baselines with `drop=1` (sdrm3's default). */
export const ADMISSION_STARVE_MS = 1000;

/** The `drop` parameter every baseline takes (0: no admission control, the published algorithm). */
export const DROP_PARAM: ParamSpec = switchParam(
  "drop",
  0,
  "1: apply sdrm3's admission rule (drop a job not in flight when ToGo* > slack); 0: off (as published)",
);

/** The threshold the drop rule compares ToGo* / slack with: γ, or max(γ, 1) for a starving model. */
export const dropThreshold = (gamma: number, starving: boolean): number => (starving ? Math.max(gamma, 1) : gamma);

/** The drop rule: ToGo* > threshold · slack (threshold γ, or max(γ, 1) for a starving model). */
export const shouldDrop = (toGo: number, slack: number, gamma: number, starving: boolean): boolean =>
  toGo > dropThreshold(gamma, starving) * slack;

/** No frame of `model` on time for `starveMs` (never: counted from time 0). */
export const isStarving = (model: ModelView, now: number, starveMs: number): boolean =>
  now - (model.lastOnTimeAt ?? 0) >= starveMs;

/**
 * The admission decision for a job not in flight whose ToGo* and slack are known (sdrm3 has
 * computed them for its scores): the drop, or undefined when it stays.
 */
export const dropOf = (job: string, toGo: number, slack: number, gamma: number, starving: boolean): Drop | undefined => {
  if (!shouldDrop(toGo, slack, gamma, starving)) return undefined;
  const threshold = dropThreshold(gamma, starving);
  return { job, reason: `ToGo* ${toGo.toFixed(3)} ms > ${threshold} x slack ${slack.toFixed(3)} ms`, scores: { toGo, slack, threshold } };
};

/**
 * The admission decision for one job (scored with `model`'s costs): the drop, or undefined when
 * it stays. A job with a block in flight is never dropped.
 */
export const admissionDrop = (model: ModelView, job: JobView, now: number, gamma: number, starving: boolean): Drop | undefined =>
  job.running ? undefined : dropOf(job.id, toGoMs(model, job), job.deadline - now, gamma, starving);

/**
 * A baseline's decision under the admission rule: the jobs the rule drops leave the view, the
 * baseline decides on what is left, and the drops are added to its decision. With `drop` 0 the
 * baseline is returned unchanged.
 */
export const withAdmission = (
  decide: (view: SchedulerView) => Decision,
  drop: number,
  gamma = ADMISSION_GAMMA,
  starveMs = ADMISSION_STARVE_MS,
): ((view: SchedulerView) => Decision) => {
  if (drop !== 1) return decide;
  return (view) => {
    let drops: Drop[] | undefined;
    let models: ModelView[] | undefined;
    for (let m = 0; m < view.models.length; m++) {
      const model = view.models[m]!;
      const starving = isStarving(model, view.now, starveMs);
      let kept: JobView[] | undefined;
      for (let j = 0; j < model.queue.length; j++) {
        const job = model.queue[j]!;
        const d = admissionDrop(model, job, view.now, gamma, starving);
        if (d === undefined) {
          kept?.push(job);
          continue;
        }
        (drops ??= []).push(d);
        kept ??= model.queue.slice(0, j);
      }
      if (kept !== undefined) (models ??= view.models.slice(0, m)).push({ ...model, queue: kept });
      else models?.push(model);
    }
    if (drops === undefined) return decide(view);
    const decision = decide({ ...view, models: models! });
    return { dispatches: decision.dispatches, drops: [...drops, ...decision.drops] };
  };
};

/**
 * `factory` with the `drop` parameter added (last among its parameters) and its decisions passed
 * through `withAdmission`: how every baseline takes the shared rule.
 */
export const withDropParam = (factory: PolicyFactory): PolicyFactory => ({
  ...factory,
  params: [...factory.params, DROP_PARAM],
  create: (params) => {
    const policy = factory.create(params);
    const drop = params.drop ?? DROP_PARAM.default;
    return { ...policy, params: { ...policy.params, drop }, decide: withAdmission(policy.decide, drop) };
  },
});
