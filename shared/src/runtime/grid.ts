/**
 * Grid search over fixed SDRM3 parameters (`sdrm3 tune --grid`): every θ = (α, β, γ) of a grid
 * runs the scenario on the direct engine; each phase of a dynamic scenario is scored by the UXCost
 * of the frames released in it. The reference the online tuner is measured against.
 */
import { geomean, modelMetrics } from "../domain/metrics";
import type { FrameRecord } from "../domain/metrics";
import { resolvePolicy } from "../policies/catalogue";
import type { PolicyParams } from "../policies/types";
import { simulateDirect } from "./direct";
import { type RunOptions, type RunResult, modelInfo } from "./setup";

export const DEFAULT_GRID: Readonly<Record<"alpha" | "beta" | "gamma", ReadonlyArray<number>>> = {
  alpha: [0.25, 0.5, 1, 2, 4],
  beta: [0.25, 0.5, 1, 2, 4],
  gamma: [0.5, 0.75, 1, 1.25, 1.5],
};

export interface Span {
  readonly name: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/** The scenario's phases clipped to the run (one span for a static scenario). */
export const spansOf = (opts: RunOptions): Span[] =>
  (opts.scenario.phases ?? [{ name: "run", fromMs: 0, toMs: null }])
    .filter((p) => p.fromMs < opts.durationMs)
    .map((p) => ({ name: p.name, fromMs: p.fromMs, toMs: Math.min(p.toMs ?? opts.durationMs, opts.durationMs) }));

/** UXCost of the frames released in [fromMs, toMs) (per-model UX_m, geomean over feasible models). */
export const spanUxCost = (opts: RunOptions, frames: ReadonlyArray<FrameRecord>, span: Span): number | null => {
  const ux: number[] = [];
  for (const m of opts.scenario.models) {
    const mine = frames.filter((f) => f.model === m.name && f.releaseAt >= span.fromMs && f.releaseAt < span.toMs);
    const costs = opts.costs.get(m.name);
    if (mine.length === 0 || costs === undefined) continue;
    const fps = m.active?.find((iv) => iv.fromMs <= span.fromMs && span.fromMs < (iv.toMs ?? Number.POSITIVE_INFINITY))?.fps ?? m.fps;
    const mm = modelMetrics(modelInfo(m.name, fps, 1000 / fps, costs), mine, span.toMs - span.fromMs);
    if (mm.feasible && mm.uxCost !== null) ux.push(mm.uxCost);
  }
  return geomean(ux);
};

export interface GridRow {
  readonly params: PolicyParams;
  /** UXCost per span (phase), in span order. */
  readonly spans: ReadonlyArray<number | null>;
  readonly uxCost: number | null;
}

/** Runs every grid point (fixed θ, no online tuning) on the direct engine. */
export const gridSearch = (
  opts: RunOptions,
  grid: Readonly<Record<string, ReadonlyArray<number>>> = DEFAULT_GRID,
  base: PolicyParams = {},
): GridRow[] => {
  const names = Object.keys(grid);
  const points: Array<Record<string, number>> = [{}];
  for (const name of names) {
    const next: Array<Record<string, number>> = [];
    for (const p of points) for (const v of grid[name]!) next.push({ ...p, [name]: v });
    points.splice(0, points.length, ...next);
  }
  const spans = spansOf(opts);
  return points.map((point) => {
    const params = { ...base, ...point, tune: 0 };
    const r: RunResult = simulateDirect({ ...opts, policy: resolvePolicy("sdrm3", params) });
    return { params: r.params, spans: spans.map((s) => spanUxCost(opts, r.frames, s)), uxCost: r.summary.uxCost };
  });
};
