/**
 * Metrics (DESIGN.md §7) on hand-computed examples: the XRBench real-time and energy scores, the
 * per-model XRBench score Σ(RT·EN)/logged · UX, UXCost's UX_m and its geometric mean, and the
 * nearest-rank p99.
 */
import { describe, expect, it } from "vitest";
import {
  type FrameOutcome,
  type FrameRecord,
  type ModelInfo,
  UXCOST_DEFINITION,
  XRBENCH_EMAX_MJ,
  XRBENCH_K_PER_MS,
  energyScore,
  geomean,
  modelMetrics,
  quantile,
  realtimeScore,
  runSummary,
} from "./metrics";

/** RT score of a completion 0.125 ms after the deadline: 1 / (1 + e^(15 · 0.125)). */
const RT_LATE_0125 = 0.13296424019782926;

const info = (name: string, over: Partial<ModelInfo> = {}): ModelInfo => ({
  name,
  periodMs: 16,
  targetFps: 62.5,
  idealFrameEnergyMJ: 10,
  optimisticLatencyMs: 5,
  ...over,
});

const rec = (
  model: string,
  frame: number,
  outcome: FrameOutcome,
  energyMJ: number,
  times: { releaseAt?: number; deadline?: number; completionAt?: number } = {},
): FrameRecord => {
  const releaseAt = times.releaseAt ?? frame * 16;
  const done = outcome === "onTime" || outcome === "late";
  return {
    model,
    frame,
    releaseAt,
    injectAt: releaseAt,
    deadline: times.deadline ?? releaseAt + 16,
    outcome,
    dispatchAt: outcome === "dropped" && energyMJ === 0 ? undefined : releaseAt,
    completionAt: done ? (times.completionAt ?? releaseAt + 4) : undefined,
    acc: 0,
    energyMJ,
  };
};

/** `n` frames of `model` with the given outcomes and energies. */
const frames = (model: string, specs: ReadonlyArray<readonly [FrameOutcome, number]>): FrameRecord[] =>
  specs.map(([outcome, energy], i) => rec(model, i, outcome, energy));

describe("XRBench scores", () => {
  it("constants are the XRBench runtime's", () => {
    expect(XRBENCH_K_PER_MS).toBe(15);
    expect(XRBENCH_EMAX_MJ).toBe(1500);
  });

  it("realtimeScore is 0.5 at the deadline and 1/(1+e^(15·Δ)) around it", () => {
    expect(realtimeScore(16, 16)).toBe(0.5);
    expect(realtimeScore(0, 0)).toBe(0.5);
    expect(realtimeScore(16.1, 16)).toBeCloseTo(0.18242552380635635, 12);
    expect(realtimeScore(32.125, 32)).toBeCloseTo(RT_LATE_0125, 12);
    expect(realtimeScore(10, 16)).toBe(1); // e^-90 vanishes next to 1
    expect(realtimeScore(15.9, 16)).toBeCloseTo(1 - 0.18242552380635635, 12);
  });

  it("energyScore is (1500 − E) / 1500", () => {
    expect(energyScore(0)).toBe(1);
    expect(energyScore(150)).toBeCloseTo(0.9, 15);
    expect(energyScore(300)).toBeCloseTo(0.8, 15);
    expect(energyScore(1500)).toBe(0);
    expect(energyScore(3000)).toBe(-1);
  });

  it("model score Σ(RT·EN)/logged · UX with a dropped frame; the unfinished frame is not logged", () => {
    const fs: FrameRecord[] = [
      rec("m", 0, "onTime", 150, { releaseAt: 0, deadline: 16, completionAt: 10 }), // RT 1, EN 0.9
      rec("m", 1, "late", 300, { releaseAt: 16, deadline: 32, completionAt: 32.125 }), // RT 0.13296…, EN 0.8
      rec("m", 2, "dropped", 75, { releaseAt: 32, deadline: 48 }),
      rec("m", 3, "unfinished", 30, { releaseAt: 48, deadline: 64 }),
    ];
    const m = modelMetrics(info("m"), fs, 100);
    expect({ released: m.released, onTime: m.onTime, late: m.late, dropped: m.dropped, unfinished: m.unfinished }).toEqual({
      released: 4,
      onTime: 1,
      late: 1,
      dropped: 1,
      unfinished: 1,
    });
    expect(m.deadlineMissRate).toBe(0.5); // (late + dropped) / released
    expect(m.energyMJ).toBe(555); // every frame's energy, dropped and unfinished included
    expect(m.rtScore).toBeCloseTo((1 + RT_LATE_0125) / 2, 12); // mean over completed frames
    expect(m.energyScore).toBeCloseTo(0.85, 12);
    expect(m.uxScore).toBeCloseTo(2 / 3, 15); // 1 − dropped / logged, logged = 3
    // (1·0.9 + 0.13296…·0.8) / 3 · 2/3; with the unfinished frame logged it would be / 4 · 3/4
    expect(m.xrbenchScore).toBeCloseTo(0.22363808714628075, 12);
    expect(m.latencyMeanMs).toBeCloseTo((10 + 16.125) / 2, 12);
    expect(m.latencyP99Ms).toBe(16.125);
    expect(m.achievedFps).toBe(10); // 1 on time in 100 ms
    expect(m.targetFps).toBe(62.5);
  });

  it("a model with nothing logged scores 0 and has no latency", () => {
    const m = modelMetrics(info("m"), [rec("m", 0, "unfinished", 3)], 100);
    expect([m.rtScore, m.energyScore, m.uxScore, m.xrbenchScore]).toEqual([0, 0, 0, 0]);
    expect([m.latencyMeanMs, m.latencyP99Ms]).toEqual([null, null]);
    const none = modelMetrics(info("m"), [], 100);
    expect([none.released, none.deadlineMissRate, none.xrbenchScore, none.uxCost]).toEqual([0, 0, 0, null]);
  });

  it("the overall score is 100 × the mean over models that logged a frame", () => {
    const a = modelMetrics(info("a"), [rec("a", 0, "onTime", 0, { releaseAt: 0, deadline: 16, completionAt: 16 })], 100); // 0.5·1
    const b = modelMetrics(info("b"), [rec("b", 0, "dropped", 0), rec("b", 1, "onTime", 150, { releaseAt: 16, deadline: 32, completionAt: 20 })], 100); // 1·0.9/2·0.5
    const c = modelMetrics(info("c"), [rec("c", 0, "unfinished", 0)], 100); // not logged: left out
    expect(a.xrbenchScore).toBe(0.5);
    expect(b.xrbenchScore).toBeCloseTo(0.225, 12);
    expect(runSummary([a, b, c], 100).xrbenchScore).toBeCloseTo((100 * (0.5 + 0.225)) / 2, 10);
  });
});

describe("UXCost", () => {
  it("prints its definition", () => {
    expect(UXCOST_DEFINITION).toContain("UX_m = max(1, E_m / (S_m * e*_m)) * (N_m / S_m)");
    expect(UXCOST_DEFINITION).toContain("floored at 1/2");
  });

  it("UX_m: 10 released, 8 on time, energy 2× the ideal per on-time frame → max(1, 160/(8·10)) · 10/8 = 2.5", () => {
    const fs = frames("m", [
      ...Array.from({ length: 8 }, () => ["onTime", 15] as const),
      ["late", 30],
      ["dropped", 10],
    ]);
    const m = modelMetrics(info("m", { idealFrameEnergyMJ: 10 }), fs, 1000);
    expect(m.energyMJ).toBe(160);
    expect(m.uxCost).toBe(2.5);
  });

  it("UX_m: energy below the ideal is not rewarded (first factor floored at 1)", () => {
    const fs = frames("m", [["onTime", 7.5], ["onTime", 7.5], ["onTime", 7.5], ["onTime", 7.5]]);
    expect(modelMetrics(info("m", { idealFrameEnergyMJ: 10 }), fs, 1000).uxCost).toBe(1);
    // 5 released, 3 on time, E = 35, e* = 10: max(1, 35 / 30) · 5 / 3 = 35 / 18
    const missed = frames("m", [["onTime", 10], ["onTime", 10], ["onTime", 10], ["late", 5], ["dropped", 0]]);
    expect(modelMetrics(info("m", { idealFrameEnergyMJ: 10 }), missed, 1000).uxCost).toBeCloseTo(35 / 18, 14);
  });

  it("UX_m: S is floored at ½ when no frame is on time", () => {
    // 3 released, 0 on time, E = 20, e* = 10: max(1, 20 / (0.5·10)) · 3 / 0.5 = 4 · 6 = 24
    const fs = frames("m", [["late", 10], ["dropped", 5], ["dropped", 5]]);
    expect(modelMetrics(info("m", { idealFrameEnergyMJ: 10 }), fs, 1000).uxCost).toBe(24);
    // nothing run at all: max(1, 0) · 2 / 0.5 = 4 (never better than honest work)
    const idle = frames("m", [["dropped", 0], ["dropped", 0]]);
    expect(modelMetrics(info("m", { idealFrameEnergyMJ: 10 }), idle, 1000).uxCost).toBe(4);
  });

  it("UXCost is the geometric mean over feasible models with released frames; infeasible ones are listed", () => {
    const a = modelMetrics(
      info("a", { idealFrameEnergyMJ: 10 }),
      frames("a", [...Array.from({ length: 8 }, () => ["onTime", 15] as const), ["late", 30], ["dropped", 10]]),
      1000,
    ); // 2.5
    const b = modelMetrics(info("b"), frames("b", [["onTime", 10], ["onTime", 10]]), 1000); // 1
    const c = modelMetrics(info("c"), frames("c", [["late", 10], ["dropped", 5], ["dropped", 5]]), 1000); // 24
    const silent = modelMetrics(info("silent"), [], 1000); // released nothing: left out, not infeasible
    const infeasible = modelMetrics(
      info("heavy", { periodMs: 16, optimisticLatencyMs: 16.5 }),
      frames("heavy", [["late", 100], ["dropped", 0]]),
      1000,
    );
    const boundary = modelMetrics(info("edge", { periodMs: 16, optimisticLatencyMs: 16 }), [], 1000);
    expect([a.uxCost, b.uxCost, c.uxCost, silent.uxCost]).toEqual([2.5, 1, 24, null]);
    expect(infeasible.feasible).toBe(false);
    expect(infeasible.uxCost).toBe(80); // its own figure: max(1, 100 / (0.5·10)) · 2 / 0.5 = 20 · 4 — reported, not counted
    expect(boundary.feasible).toBe(true); // optimistic latency equal to the period is feasible

    const s = runSummary([a, b, silent, infeasible, c, boundary], 1000);
    expect(s.uxCost).toBeCloseTo(Math.cbrt(60), 12); // (2.5 · 1 · 24)^(1/3)
    expect(s.uxCost).toBeCloseTo(3.9148676411688634, 12);
    expect(s.infeasibleModels).toEqual(["heavy"]);
    expect(s.released).toBe(10 + 2 + 3 + 0 + 2);
    expect(s.onTime).toBe(10);
    expect(s.late).toBe(1 + 1 + 1);
    expect(s.dropped).toBe(1 + 2 + 1);
    expect(s.deadlineMissRate).toBeCloseTo(7 / 17, 15);
    expect(s.energyMJ).toBe(160 + 20 + 20 + 100);
    expect(s.energyMJPerS).toBe(300);
  });

  it("UXCost is null when no model counts", () => {
    expect(runSummary([modelMetrics(info("m"), [], 1000)], 1000).uxCost).toBeNull();
    expect(geomean([])).toBeNull();
    expect(geomean([4, 9])).toBeCloseTo(6, 14);
  });

  it("geomean (one for metrics, the tuner and compare): undefined means null", () => {
    expect(geomean([2, 8, 4])).toBeCloseTo(4, 14);
    expect(geomean([1.5])).toBe(1.5);
    // a missing value (a seed without UXCost) or a non-positive one has no geometric mean
    expect(geomean([4, null])).toBeNull();
    expect(geomean([4, 0])).toBeNull();
    expect(geomean([4, -1])).toBeNull();
    expect(geomean([4, Number.NaN])).toBeNull();
    expect(geomean([4, Number.POSITIVE_INFINITY])).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("p99 (nearest rank)", () => {
  it("quantile picks the element at rank ceil(p·n)", () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(hundred, 0.99)).toBe(99);
    expect(quantile([...hundred, 101], 0.99)).toBe(100); // ceil(99.99) = 100
    expect(quantile([1, 2, 3], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([3, 8], 0)).toBe(3);
    expect(quantile([3, 8], 1)).toBe(8);
    expect(quantile([], 0.99)).toBeNull();
  });

  it("modelMetrics' p99 over 200 completed frames is the 198th smallest latency", () => {
    // latencies 1..200 ms, given in reverse order to check sorting
    const fs = Array.from({ length: 200 }, (_, i) =>
      rec("m", i, "late", 0, { releaseAt: i * 16, deadline: i * 16 + 16, completionAt: i * 16 + (200 - i) }),
    );
    const m = modelMetrics(info("m"), fs, 3200);
    expect(m.latencyP99Ms).toBe(198);
    expect(m.latencyMeanMs).toBe(100.5);
  });
});

describe("accuracy (supernet variants; docs/supernets.md)", () => {
  const withAccuracy = (f: FrameRecord, variant: number, accuracy: number): FrameRecord => ({ ...f, variant, accuracy });

  it("per model: the mean relative accuracy of the on-time frames only (1 for full-model frames); null without on-time frames", () => {
    const frames = [
      withAccuracy(rec("A", 0, "onTime", 1), 1, 0.969),
      withAccuracy(rec("A", 1, "onTime", 1), 0, 1),
      withAccuracy(rec("A", 2, "onTime", 1), 2, 0.902),
      withAccuracy(rec("A", 3, "late", 1), 2, 0.902),
      rec("A", 4, "dropped", 0),
    ];
    expect(modelMetrics(info("A"), frames, 1000).accuracy).toBeCloseTo((0.969 + 1 + 0.902) / 3, 12);
    expect(modelMetrics(info("A"), [rec("A", 0, "onTime", 1)], 1000).accuracy).toBe(1);
    expect(modelMetrics(info("A"), [withAccuracy(rec("A", 0, "late", 1), 1, 0.969), rec("A", 1, "dropped", 0)], 1000).accuracy).toBeNull();
  });

  it("summary: the mean over the models with on-time frames (0.95 and 1 → 0.975; a model without is left out); null if none", () => {
    const a = modelMetrics(info("A"), [withAccuracy(rec("A", 0, "onTime", 1), 1, 0.95)], 1000);
    const b = modelMetrics(info("B"), [rec("B", 0, "onTime", 1)], 1000);
    const c = modelMetrics(info("C"), [rec("C", 0, "dropped", 0)], 1000);
    expect(runSummary([a, b, c], 1000).accuracy).toBeCloseTo(0.975, 12);
    expect(runSummary([c], 1000).accuracy).toBeNull();
  });
});
