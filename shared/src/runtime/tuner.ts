/**
 * SDRM3's online tuner (DESIGN.md §8): tunes θ = (α, β, γ) while the run goes on, by
 * coordinate-wise finite differences of the UXCost (or, with tuneObjective = 1, the XRBench score) of a short look-ahead simulation of the
 * workload that is active now (the project's own cost model, on the direct engine), and re-starts
 * its search when the workload changes — a phase switch, or a shift of the observed load.
 *
 * One tuning step per tuning point (every `tuneEvery` ms of virtual time and at each phase start):
 * for each coordinate in turn (α, β, γ, and α·β together), try θ·(1+δ) and θ/(1+δ) and keep the best;
 * the step size δ halves after every step (δ₀ = 1 → 0.5 → 0.25 → 0.125 → 0.0625: settled, no more
 * evaluations until a re-start), so the change in θ per step is bounded and θ settles (relative
 * change < 10%) by the fifth step after a re-start. Each candidate is scored on two seeds and replaces the
 * current θ only when it scores at least `minGain` (2%) better: smaller gains are the look-ahead's noise. Deterministic: the
 * look-ahead uses the run's seed (common random numbers for the candidates) and no clock.
 */
import type { TuneContext, TuneResult, Tuner } from "../actors/scheduler-kernel";
import { type FrameRecord, type ModelMetrics, geomean, modelMetrics, runSummary } from "../domain/metrics";
import type { Scenario, ScenarioModel } from "../domain/types";
import { resolvePolicy, tuningOf } from "../policies/catalogue";
import { sdrm3 } from "../policies/sdrm3";
import type { PolicyParams } from "../policies/types";
import { simulateDirect } from "./direct";
import { type Span, spanUxCost } from "./grid";
import { type RunOptions, isolatedRun, modelInfo } from "./setup";

export const TUNED_PARAMS = ["alpha", "beta", "gamma"] as const;

export interface TunerOptions {
  readonly base: RunOptions;
  readonly lookaheadMs: number;
  readonly initialStep: number;
  /** Relative change of the observed load (released work per ms) that re-starts the search. */
  readonly loadShift: number;
  /** Seeds per look-ahead evaluation. */
  readonly seeds: number;
  /** Step size below which the search has settled and stops evaluating until a re-start. */
  readonly settleStep: number;
  /**
   * A candidate replaces the current θ only when its look-ahead score is lower by more than this
   * share (0.02: 2%). The look-ahead is noisy (2 seeds, about 1 s scored, from empty queues): on a flat
   * phase candidates differ by 0.01% and the search walked on noise (social_dynamic's first phase:
   * α 1 → 0.5, which the next phase then paid for); the same θ on two other seed pairs differs by
   * 20–40% in an overloaded phase. Default 0 (any improvement).
   */
  readonly minGain?: number;
  /** What the look-ahead minimises: UXCost (default), or 100 − the XRBench score. */
  readonly objective?: TuneObjective;
}

export type TuneObjective = "uxcost" | "xrbenchScore";

/** sdrm3's `tuneObjective` parameter: 0 → UXCost, 1 → XRBench score. */
export const TUNE_OBJECTIVES: ReadonlyArray<TuneObjective> = ["uxcost", "xrbenchScore"];

/** XRBench score (0–100) of the frames released in [fromMs, toMs): runSummary of the span's per-model metrics. */
export const spanXrbenchScore = (opts: RunOptions, frames: ReadonlyArray<FrameRecord>, span: Span): number => {
  const models: ModelMetrics[] = [];
  for (const m of opts.scenario.models) {
    const mine = frames.filter((f) => f.model === m.name && f.releaseAt >= span.fromMs && f.releaseAt < span.toMs);
    const costs = opts.costs.get(m.name);
    if (mine.length === 0 || costs === undefined) continue;
    models.push(modelMetrics(modelInfo(m.name, m.fps, 1000 / m.fps, costs), mine, span.toMs - span.fromMs));
  }
  return runSummary(models, span.toMs - span.fromMs).xrbenchScore;
};

/** The models active at time t, at their FPS then, as a static scenario (the look-ahead workload). */
export const workloadAt = (scenario: Scenario, t: number): Scenario => {
  const active: ScenarioModel[] = [];
  for (const m of scenario.models) {
    const iv = m.active === undefined ? { fps: m.fps } : m.active.find((x) => x.fromMs <= t && t < (x.toMs ?? Number.POSITIVE_INFINITY));
    if (iv === undefined) continue;
    const { active: _active, ...rest } = m;
    active.push({ ...rest, fps: iv.fps });
  }
  const names = new Set(active.map((m) => m.name));
  return {
    name: `${scenario.name}@${Math.round(t)}ms`,
    description: `the workload of ${scenario.name} active at ${t} ms`,
    models: active.map((m) => ({ ...m, dependsOn: m.dependsOn.filter((p) => names.has(p)) })),
  };
};

const signature = (s: Scenario) => s.models.map((m) => `${m.name}@${m.fps}`).join(",");

/** UXCost of the frames that ended in a window (the observed, windowed UXCost). */
const windowedUxCost = (opts: RunOptions, ctx: TuneContext, windowMs: number): number | null => {
  const byModel = new Map<string, typeof ctx.ended[number][]>();
  for (const f of ctx.ended) byModel.set(f.model, [...(byModel.get(f.model) ?? []), f]);
  const ux: number[] = [];
  for (const m of opts.scenario.models) {
    const frames = byModel.get(m.name);
    const costs = opts.costs.get(m.name);
    if (frames === undefined || costs === undefined) continue;
    const mm = modelMetrics(modelInfo(m.name, m.fps, 1000 / m.fps, costs), frames, windowMs);
    if (mm.feasible && mm.uxCost !== null) ux.push(mm.uxCost);
  }
  return geomean(ux);
};

/**
 * A look-ahead keeps of the run it tunes only the workload, hardware and dispatch settings
 * (`isolatedRun`). The run's own hooks (its events, rejects and recorder), its bus and its live clock
 * stay with the run: a look-ahead that kept them sent every simulated event to the run's trace (a
 * 0.3-s tuned run's `--trace` had 415,415 slices instead of 4,802), and the direct engine refuses a
 * live clock, so `--clock live --tune` failed at its first tuning point.
 */
export const createTuner = (opts: TunerOptions): Tuner => {
  const base = isolatedRun(opts.base);
  let key = "";
  let delta = opts.initialStep;
  let step = 0;
  let settledLoad: number | null = null;
  let lastAt = 0;

  // The look-ahead starts from empty queues: frames released in its first 30% are a warm-up and not
  // scored. UXCost of short windows is noisy, so each candidate is scored over `seeds` seeds (the
  // same seeds for every candidate: common random numbers) and the scores combined by geomean.
  const evaluate = (workload: Scenario, params: PolicyParams): number => {
    if (workload.models.length === 0) return 1;
    const scores: number[] = [];
    for (let k = 0; k < opts.seeds; k++) {
      const sim = {
        ...base,
        seed: opts.base.seed + k,
        scenario: workload,
        policy: resolvePolicy("sdrm3", { ...params, tune: 0 }),
        durationMs: opts.lookaheadMs,
      };
      const r = simulateDirect(sim);
      const span = { name: "look-ahead", fromMs: 0.3 * opts.lookaheadMs, toMs: opts.lookaheadMs };
      scores.push(
        opts.objective === "xrbenchScore"
          ? 100 - spanXrbenchScore(sim, r.frames, span)
          : (spanUxCost(sim, r.frames, span) ?? r.summary.uxCost ?? 1),
      );
    }
    // UXCost: geomean over the seeds; XRBench: the shortfall from 100 points, mean over the seeds
    return opts.objective === "xrbenchScore" ? scores.reduce((a, b) => a + b, 0) / scores.length : (geomean(scores) ?? 1);
  };

  return (ctx: TuneContext): TuneResult => {
    step++;
    const windowMs = Math.max(1, ctx.now - lastAt);
    lastAt = ctx.now;
    const workload = workloadAt(opts.base.scenario, ctx.now);
    const load = ctx.ended.length / windowMs;
    const shifted = settledLoad !== null && settledLoad > 0 && Math.abs(load - settledLoad) / settledLoad > opts.loadShift;
    if (signature(workload) !== key || shifted) {
      key = signature(workload);
      delta = opts.initialStep;
      settledLoad = null;
    }
    let params: Record<string, number> = { ...ctx.policy.params };
    const observed = windowedUxCost(opts.base, ctx, windowMs);
    if (delta < opts.settleStep) {
      return { policy: ctx.policy, step, info: { ...(observed === null ? {} : { windowUxCost: observed }), delta: 0, load, settled: 1 } };
    }
    let best = evaluate(workload, params);
    // Coordinates: α, β, γ, and (α, β) together — scaling both changes the weight of the urgency
    // U against fairness and preference, a direction single-parameter moves cannot take. With
    // tuneBlock = 1 also the block size (integer steps) and, with supernets, λ1 and λ2 together.
    const coordinates: Array<ReadonlyArray<string>> = [["alpha"], ["beta"], ["gamma"], ["alpha", "beta"]];
    if (params.tuneBlock === 1) {
      coordinates.push(["block"]);
      if (params.supernet === 1) coordinates.push(["lambda1", "lambda2"]);
      if ((params.block ?? 0) <= 0) params = { ...params, block: opts.base.blockSize ?? 1 };
    }
    for (const names of coordinates) {
      for (const factor of [1 + delta, 1 / (1 + delta)]) {
        const candidate = { ...params };
        for (const name of names) {
          const spec = resolvePolicySpec(name);
          const value = Math.min(spec.max, Math.max(spec.min, (params[name] ?? spec.default) * factor));
          candidate[name] = name === "block" ? Math.max(1, Math.round(value)) : value;
        }
        if (names.every((n) => candidate[n] === params[n])) continue;
        const score = evaluate(workload, candidate);
        if (score < best * (1 - (opts.minGain ?? 0)) - 1e-12) {
          best = score;
          params = candidate;
        }
      }
    }
    const usedDelta = delta;
    delta /= 2;
    if (settledLoad === null && delta < opts.settleStep) settledLoad = load;
    return {
      policy: resolvePolicy("sdrm3", params),
      step,
      info: { lookaheadUxCost: best, ...(observed === null ? {} : { windowUxCost: observed }), delta: usedDelta, load },
    };
  };
};

const resolvePolicySpec = (name: string) => {
  const spec = SDRM3_SPECS.get(name);
  if (spec === undefined) throw new Error(`sdrm3 has no parameter ${name}`);
  return spec;
};

const SDRM3_SPECS = new Map(sdrm3.params.map((p) => [p.name, p]));

/** The tuning configuration of a run: on when the policy's tune switch is on (its capabilities; sdrm3's `tune`). */
export const tuningFor = (opts: RunOptions): { tuner: Tuner; intervalMs: number } | undefined => {
  const tuning = tuningOf(opts.policy);
  if (tuning === undefined) return undefined;
  return {
    intervalMs: tuning.everyMs,
    tuner: createTuner({
      base: opts,
      lookaheadMs: tuning.lookaheadMs,
      initialStep: 1,
      loadShift: 0.25,
      seeds: 2,
      settleStep: 0.1,
      minGain: 0.02,
      objective: TUNE_OBJECTIVES[Math.round(opts.policy.params.tuneObjective ?? 0)] ?? "uxcost",
    }),
  };
};
