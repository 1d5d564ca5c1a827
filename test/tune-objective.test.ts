/**
 * The tuner's objective (issue 14): `tuneObjective` 0 scores the look-ahead by UXCost, 1 by the
 * XRBench score. The span score the XRBench objective uses equals the run's own XRBench score
 * when the span is the whole run; a run tuned for the XRBench score takes tuning steps and is
 * deterministic.
 */
import { describe, expect, it } from "vitest";
import { resolvePolicy } from "@sdrm3/shared/policies";
import { resolveRunSpec, simulateDirect, spanXrbenchScore, tuningFor } from "@sdrm3/shared/runtime";

describe("tuneObjective", () => {
  const opts = resolveRunSpec({ scenario: "AR_gaming", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 1500, seed: 1 });

  it("spanXrbenchScore over the whole run is the run's XRBench score", () => {
    const r = simulateDirect(opts);
    expect(spanXrbenchScore(opts, r.frames, { name: "run", fromMs: 0, toMs: opts.durationMs })).toBeCloseTo(r.summary.xrbenchScore, 9);
  });

  it("tuneObjective=1 tunes by the XRBench score, deterministically; out of range is refused", () => {
    const run = (objective: number) => {
      const o = { ...opts, policy: resolvePolicy("sdrm3", { tune: 1, tuneEvery: 500, lookahead: 300, tuneObjective: objective }) };
      return simulateDirect(o, tuningFor(o)).tuning.map((s) => s.params);
    };
    const xr = run(1);
    expect(xr.length).toBeGreaterThan(0);
    expect(run(1)).toEqual(xr);
    expect(() => resolvePolicy("sdrm3", { tuneObjective: 2 })).toThrow("parameter sdrm3.tuneObjective: expected an integer in [0, 1], got 2");
  });
});
