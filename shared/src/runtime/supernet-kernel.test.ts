/**
 * Supernet variants in the kernel, the accelerator and the run setup (docs/supernets.md), on a
 * hand-made model driven by scripted policies through the direct engine (the kernel fed by the
 * real task and accelerator logic):
 *
 * - a job's variant is the one its first dispatch names (default 0) and never changes: later
 *   dispatches naming another are ignored; an unknown variant is refused;
 * - the view trick: started jobs of variant v > 0 sit in a view of their own with v's costs, the
 *   others (and the not yet started) in the full model's view, which lists the variants;
 * - block.dispatch / decision / block.dispatched carry the variant; the accelerator costs the
 *   block at that variant; frame records carry the variant and its accuracy; the accounting
 *   invariant holds.
 *
 * Model A: 2 layers, the same on both accelerators; latency 4 / 3 / 2 ms per layer and energy
 * 1 / 0.5 / 0.25 mJ per layer at ×1.0 / ×0.75 / ×0.5. 10 FPS, 300 ms, no phase offset: frames 0, 1, 2.
 */
import { describe, expect, it } from "vitest";
import { type AccelModelCosts, executeBlock } from "../actors/accelerator-logic";
import type { BlockDispatch, RunEvent } from "../contracts/messages";
import { PROTOCOL_VERSION } from "../contracts/messages";
import type { Hardware, ModelCosts, RunVariant, Scenario } from "../domain/types";
import { BASELINE_CAPABILITIES } from "../policies/capabilities";
import { resolvePolicy } from "../policies/catalogue";
import type { Dispatch, Policy, SchedulerView } from "../policies/types";
import { simulateDirect } from "./direct";
import { type RunOptions, acceleratorCosts, kernelConfigFor } from "./setup";
import { resolveRunSpec, supernetSetting } from "./spec";
import { jobId } from "../contracts/job-id";

const LAT = [4, 3, 2];
const ENERGY = [1, 0.5, 0.25];
const WIDTHS = [1, 0.75, 0.5];
const ACCURACY = [1, 0.969, 0.902];

const costs = (name: string, ms: number, mj: number): ModelCosts => ({
  model: name,
  layerCount: 2,
  cycles: [0, 1].map(() => Float64Array.from([ms * 1e6, ms * 1e6])),
  latencyMs: [0, 1].map(() => Float64Array.from([ms, ms])),
  energyMJ: [0, 1].map(() => Float64Array.from([mj, mj])),
});

const hardware: Hardware = {
  name: "Toy/WS_OS",
  config: "Toy",
  dataflows: ["WS", "OS"],
  accelerators: [
    { index: 0, name: "acc0", numPes: 1024, nocBw: 64, id: "acc0", dataflow: "WS", costClass: "WS_1024pe_bw64" },
    { index: 1, name: "acc1", numPes: 1024, nocBw: 64, id: "acc1", dataflow: "OS", costClass: "OS_1024pe_bw64" },
  ],
};
const scenario: Scenario = { name: "toy", description: "one supernet model", models: [{ name: "A", model: "A", fps: 10, dependsOn: [], probability: 1 }] };
const full = costs("A", LAT[0]!, ENERGY[0]!);
const variants: RunVariant[] = WIDTHS.map((width, i) => ({ width, accuracy: ACCURACY[i]!, costs: costs(`A@x${width}`, LAT[i]!, ENERGY[i]!) }));

/** A policy that dispatches every ready job's next layer on an idle accelerator, naming `variantOf(job, view)`. */
const scripted = (variantOf: (job: string, started: boolean) => number | undefined, views: SchedulerView[] = []): Policy => ({
  name: "scripted",
  description: "test",
  params: {},
  granularity: "block",
  capabilities: BASELINE_CAPABILITIES,
  decide: (view) => {
    views.push({ ...view, models: view.models.map((m) => ({ ...m, queue: m.queue.map((j) => ({ ...j })) })) });
    const idle = view.accelerators.filter((a) => a.idle);
    const dispatches: Dispatch[] = [];
    for (const m of view.models) {
      for (const j of m.queue) {
        if (j.running || idle.length === 0) continue;
        const v = variantOf(j.id, j.started);
        dispatches.push({ job: j.id, acc: idle.shift()!.index, layerCount: 1, ...(v === undefined ? {} : { variant: v }) });
      }
    }
    return { dispatches, drops: [] };
  },
});

const options = (policy: Policy, supernet = true): RunOptions => ({
  scenario,
  hardware,
  costs: new Map([["A", full]]),
  policy,
  durationMs: 300,
  seed: 1,
  phase: false,
  ...(supernet ? { supernet: true, variants: new Map([["A", variants]]) } : {}),
});

/** Frame k runs variant k (0, 1, 2); every later dispatch asks for variant 0, which must be ignored. */
const perFrame = (job: string, started: boolean) => (started ? 0 : Number(job.split(":")[1]));

describe("the kernel fixes a job's variant at its first block", () => {
  const views: SchedulerView[] = [];
  const events: RunEvent[] = [];
  const result = simulateDirect({ ...options(scripted(perFrame, views)), onEvent: (e) => events.push(e) });

  it("frame k runs variant k on every block; frame records carry it and its accuracy", () => {
    expect(result.frames.map((f) => [f.frame, f.outcome, f.variant, f.accuracy])).toEqual([
      [0, "onTime", 0, 1],
      [1, "onTime", 1, 0.969],
      [2, "onTime", 2, 0.902],
    ]);
    const decisions = events.filter((e): e is Extract<RunEvent, { _tag: "decision" }> => e._tag === "decision");
    expect(decisions.map((d) => [d.job, d.action === "dispatch" ? d.variant : undefined])).toEqual([
      ["A:0", 0],
      ["A:0", 0],
      ["A:1", 1],
      ["A:1", 1],
      ["A:2", 2],
      ["A:2", 2],
    ]);
  });

  it("the accelerator costs each block at the job's variant: latency 4/3/2 ms, energy 1/0.5/0.25 mJ per layer", () => {
    const blocks = events.filter((e): e is Extract<RunEvent, { _tag: "block.dispatched" }> => e._tag === "block.dispatched");
    expect(blocks.map((b) => [b.job, b.variant, b.completesAt - b.at, b.energyMJ])).toEqual([
      ["A:0", 0, 4, 1],
      ["A:0", 0, 4, 1],
      ["A:1", 1, 3, 0.5],
      ["A:1", 1, 3, 0.5],
      ["A:2", 2, 2, 0.25],
      ["A:2", 2, 2, 0.25],
    ]);
    expect(result.frames.map((f) => f.energyMJ)).toEqual([2, 1, 0.5]);
    expect(result.frames.map((f) => (f.completionAt ?? 0) - f.releaseAt)).toEqual([8, 6, 4]);
  });

  it("accuracy: per model the mean over on-time frames (1 + 0.969 + 0.902) / 3; the summary the mean over models", () => {
    expect(result.models[0]!.accuracy).toBeCloseTo((1 + 0.969 + 0.902) / 3, 12);
    expect(result.summary.accuracy).toBeCloseTo((1 + 0.969 + 0.902) / 3, 12);
    expect(result.supernet).toBe(true);
  });

  it("the view trick: the started ×0.5 job is alone in a view with variant 2 and ×0.5 costs; the full view lists the variants", () => {
    const during = views.find((v) => v.models.some((m) => m.variant === 2))!;
    expect(during).toBeDefined();
    const [fullView, halfView] = during.models;
    expect(fullView!.variant).toBe(0);
    expect(fullView!.variants?.map((v) => [v.width, v.accuracy])).toEqual(WIDTHS.map((w, i) => [w, ACCURACY[i]]));
    expect(fullView!.queue.map((j) => j.id)).not.toContain("A:2");
    expect(halfView).toMatchObject({ name: "A", variant: 2, periodMs: 100 });
    expect(halfView!.variants).toBeUndefined();
    expect(halfView!.queue.map((j) => [j.id, j.started])).toEqual([["A:2", true]]);
    expect([...halfView!.costs.latencyMs[0]!]).toEqual([2, 2]);
    expect([...halfView!.optimisticRemainingMs]).toEqual([4, 2, 0]);
    expect([...halfView!.wholeCycles]).toEqual([4e6, 4e6]);
  });
});

describe("variants the kernel refuses", () => {
  it("a variant the model does not have", () => {
    expect(() => simulateDirect(options(scripted(() => 3)))).toThrow(/variant 3; model A has 3 variant\(s\)/);
  });

  it("any variant > 0 when the run has no supernets", () => {
    expect(() => simulateDirect(options(scripted(() => 1), false))).toThrow(/variant 1; model A has 1 variant\(s\)/);
  });

  it("supernet on without variants for a model, or with a variant 0 that is not the full model", () => {
    const opts = options(scripted(() => 0));
    expect(() => kernelConfigFor({ ...opts, variants: new Map() }, "k")).toThrow(/no variants for scenario model A/);
    expect(() => kernelConfigFor({ ...opts, variants: new Map([["A", variants.slice(1)]]) }, "k")).toThrow(/must be the full model/);
  });

  it("supernet off: variants given are ignored (no variant in any record)", () => {
    const r = simulateDirect({ ...options(scripted(() => undefined)), supernet: false });
    expect(r.frames.every((f) => f.variant === undefined && f.accuracy === undefined)).toBe(true);
    expect(r.summary.accuracy).toBe(1);
    expect(r.supernet).toBe(false);
  });
});

describe("the accelerator's cost of a variant block", () => {
  const cmd = (extra: Partial<BlockDispatch>): BlockDispatch => ({
    _tag: "block.dispatch",
    v: PROTOCOL_VERSION,
    run: "k",
    at: 10,
    acc: "acc1",
    job: jobId("A", 0),
    model: "A",
    frame: 0,
    firstLayer: 0,
    layerCount: 2,
    timing: "exact",
    ...extra,
  });
  const column: Map<string, AccelModelCosts> = acceleratorCosts(new Map([["A", full]]), 1, new Map([["A", variants]]));

  it("acceleratorCosts gives each variant's column (index 0 = the full model's)", () => {
    const a = column.get("A")!;
    expect(a.variants?.map((v) => [...v.cycles])).toEqual([[4e6, 4e6], [3e6, 3e6], [2e6, 2e6]]);
    expect(a.variants?.[0]).toEqual({ cycles: a.cycles, energyMJ: a.energyMJ });
  });

  it("variant 2: 2 × 2 ms, 2 × 0.25 mJ; no variant named: the full model", () => {
    expect(executeBlock(column, cmd({ variant: 2 }))).toMatchObject({ _tag: "block.result", latencyMs: 4, completesAt: 14, energyMJ: 0.5 });
    expect(executeBlock(column, cmd({}))).toMatchObject({ latencyMs: 8, energyMJ: 2 });
    expect(executeBlock(column, cmd({ variant: 0 }))).toMatchObject({ latencyMs: 8, energyMJ: 2 });
  });

  it("a variant the accelerator has no costs for is refused with an error reply", () => {
    expect(executeBlock(column, cmd({ variant: 3 }))).toMatchObject({ _tag: "error", kind: "rejected", message: expect.stringMatching(/no variant 3 of model A/) });
    const plain = acceleratorCosts(new Map([["A", full]]), 1);
    expect(executeBlock(plain, cmd({ variant: 1 }))).toMatchObject({ _tag: "error", message: expect.stringMatching(/no variant 1 of model A \(1 variants\)/) });
  });
});

describe("the run setup: supernet as a run option and as sdrm3's parameter", () => {
  it("supernetSetting: sdrm3's parameter is the switch; an explicit one sets it; a contradiction is an error", () => {
    expect(supernetSetting("sdrm3", {}, undefined)).toEqual({ supernet: false, params: {} });
    expect(supernetSetting("sdrm3", { supernet: 1 }, undefined)).toEqual({ supernet: true, params: { supernet: 1 } });
    expect(supernetSetting("sdrm3", {}, true)).toEqual({ supernet: true, params: { supernet: 1 } });
    expect(supernetSetting("sdrm3", {}, false)).toEqual({ supernet: false, params: { supernet: 0 } });
    expect(() => supernetSetting("sdrm3", { supernet: 0 }, true)).toThrow(/contradicts the sdrm3 parameter supernet=0/);
    expect(supernetSetting("edf", {}, true)).toEqual({ supernet: true, params: {} });
  });

  it("resolveRunSpec gives every scenario model ×1.0 / ×0.75 / ×0.5 with the MobileNet v1 accuracies, costs on the run's hardware", () => {
    const on = resolveRunSpec({ scenario: "social_interactionA", hardware: "Dual_4K/WS_OS", policy: "sdrm3", supernet: true, durationMs: 100 });
    expect(on.supernet).toBe(true);
    expect(on.policy.params.supernet).toBe(1);
    for (const m of on.scenario.models) {
      const vs = on.variants!.get(m.name)!;
      expect(vs.map((v) => v.width)).toEqual([1, 0.75, 0.5]);
      expect(vs.map((v) => Number(v.accuracy.toFixed(3)))).toEqual([1, 0.969, 0.902]);
      expect(vs[0]!.costs).toBe(on.costs.get(m.name));
      for (const v of vs) {
        expect(v.costs.layerCount).toBe(on.costs.get(m.name)!.layerCount);
        expect(v.costs.cycles).toHaveLength(2);
      }
      const total = (c: ModelCosts) => c.energyMJ[0]!.reduce((s, x) => s + x, 0);
      expect(total(vs[2]!.costs)).toBeLessThan(total(vs[1]!.costs));
      expect(total(vs[1]!.costs)).toBeLessThan(total(vs[0]!.costs));
    }
    const byParam = resolveRunSpec({ scenario: "social_interactionA", hardware: "Dual_4K/WS_OS", policy: "sdrm3", params: { supernet: 1 }, durationMs: 100 });
    expect(byParam.supernet).toBe(true);
    const off = resolveRunSpec({ scenario: "social_interactionA", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100 });
    expect(off.supernet).toBeUndefined();
    expect(off.variants).toBeUndefined();
    expect(resolvePolicy("sdrm3").params.supernet).toBe(0);
  });
});
