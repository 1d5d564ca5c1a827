/**
 * The baseline policies end to end: registered in the catalogue in order with documented sources
 * and valid parameters, pure (same view → same decision, the view untouched), and run through the
 * real runtime (runScenario, in-memory bus) on VR_gaming × Dual_4K/WS_OS for 1 s: every released
 * frame ends exactly once, `idle` completes nothing and has the worst UXCost, every other policy
 * completes frames on time.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { findScenario, loadBuiltinDataset, resolveHardware, resolveModelCosts } from "@sdrm3/shared/data";
import { type RunResult, runScenario } from "@sdrm3/shared/runtime";
import { POLICIES, resolvePolicy } from "./catalogue";
import { buildView, flatLayers } from "./testing";

/** The catalogue's order, sdrm3 aside. */
const BASELINES = ["xrbench", "fcfs", "rr", "edf", "llf", "sjf", "prema", "planaria", "veltair", "herald", "idle", "shed"];

describe("the baseline catalogue", () => {
  it("lists every baseline in order, each with a description, a source and valid parameter specs", () => {
    expect([...POLICIES.keys()].filter((k) => k !== "sdrm3")).toEqual(BASELINES);
    for (const name of BASELINES) {
      const f = POLICIES.get(name)!;
      expect(f.description.length, name).toBeGreaterThan(10);
      expect(f.source.length, name).toBeGreaterThan(10);
      for (const p of f.params) {
        expect(p.min <= p.default && p.default <= p.max, `${name}.${p.name}`).toBe(true);
        expect(p.description.length, `${name}.${p.name}`).toBeGreaterThan(10);
      }
      const policy = resolvePolicy(name);
      expect(policy.name).toBe(name);
      expect(Object.keys(policy.params)).toEqual(f.params.map((p) => p.name));
    }
  });
});

describe("baselines are pure functions of the view", () => {
  // A busy mid-run view: jobs in flight, started and fresh jobs, past deadlines, one busy accelerator.
  const view = buildView({
    now: 40,
    blockSize: 2,
    accelerators: [{ idle: true }, { idle: false, busyUntil: 43 }, { idle: true }],
    models: [
      { name: "ES_eye", periodMs: 16, latencyMs: flatLayers(4, [1, 2, 3]), jobs: [{ frame: 2, nextLayer: 1 }, { frame: 3, deadline: 41 }] },
      { name: "GE_gaze", periodMs: 16, dependsOn: ["ES_eye"], latencyMs: flatLayers(4, [2, 1, 3]), jobs: [{ frame: 1, running: true }] },
      { name: "HT_hand", periodMs: 22, latencyMs: flatLayers(6, [3, 3, 1]), energyMJ: flatLayers(6, [1, 2, 9]), jobs: [{ frame: 1 }] },
      { name: "KD_kws", periodMs: 333, latencyMs: flatLayers(2, [5, 4, 6]), jobs: [{ frame: 0, injectAt: 2 }] },
    ],
  });
  const snapshot = JSON.stringify(view, (_, v: unknown) => (v instanceof Float64Array ? [...v] : v instanceof Map ? [...v] : v));

  it.each(BASELINES.filter((n) => n !== "xrbench"))("%s: same view, same decision; the view is not modified", (name) => {
    const policy = resolvePolicy(name);
    const first = policy.decide(view);
    const again = resolvePolicy(name).decide(view);
    expect(again).toEqual(first);
    expect(JSON.stringify(view, (_, v: unknown) => (v instanceof Float64Array ? [...v] : v instanceof Map ? [...v] : v))).toBe(snapshot);
    const used = new Set<number>();
    for (const d of first.dispatches) {
      expect(view.accelerators[d.acc]!.idle, `${name} dispatched to a busy accelerator`).toBe(true);
      expect(used.has(d.acc), `${name} used accelerator ${d.acc} twice`).toBe(false);
      used.add(d.acc);
      expect(d.layerCount).toBeGreaterThanOrEqual(1);
    }
    const dispatched = new Set(first.dispatches.map((d) => d.job));
    for (const d of first.drops) expect(dispatched.has(d.job), `${name} dropped and dispatched ${d.job}`).toBe(false);
  });
});

describe("baselines end to end: VR_gaming on Dual_4K/WS_OS, 1 s", () => {
  const results = new Map<string, RunResult>();

  beforeAll(async () => {
    const ds = loadBuiltinDataset();
    const scenario = findScenario(ds, "VR_gaming");
    const hardware = resolveHardware(ds, "Dual_4K/WS_OS");
    const costs = resolveModelCosts(ds, scenario, hardware);
    for (const name of BASELINES) {
      results.set(name, await runScenario({ scenario, hardware, costs, policy: resolvePolicy(name), durationMs: 1000, seed: 1 }));
    }
  }, 120_000);

  it.each(BASELINES)("%s: every released frame ends exactly once (released = onTime + late + dropped)", (name) => {
    const r = results.get(name)!;
    expect(r.models.length).toBe(3);
    for (const m of r.models) {
      expect(m.released, `${name} ${m.name} released`).toBeGreaterThan(0);
      // xrbench mode ends after the last injection, as the official tool does: frames still queued are unfinished.
      if (name !== "xrbench") expect(m.unfinished, `${name} ${m.name} unfinished`).toBe(0);
      expect(m.onTime + m.late + m.dropped + m.unfinished, `${name} ${m.name}`).toBe(m.released);
    }
  });

  it("idle completes nothing, spends nothing and has the worst UXCost", () => {
    const idle = results.get("idle")!;
    expect(idle.summary.onTime + idle.summary.late).toBe(0);
    expect(idle.summary.dropped).toBe(idle.summary.released);
    expect(idle.summary.energyMJ).toBe(0);
    for (const [name, r] of results) {
      if (name !== "idle") expect(idle.summary.uxCost!, `idle vs ${name}`).toBeGreaterThan(r.summary.uxCost!);
    }
  });

  it.each(BASELINES.filter((n) => n !== "idle"))("%s completes frames on time for every model", (name) => {
    for (const m of results.get(name)!.models) expect(m.onTime, `${name} ${m.name}`).toBeGreaterThan(0);
  });

  it("shed drops exactly the odd frames of each root model", () => {
    const r = results.get("shed")!;
    for (const f of r.frames) {
      if (f.model === "GE_FBNet_C") continue; // a cascade child: also dropped with its parent
      expect(f.outcome === "dropped", `${f.model}:${f.frame}`).toBe(f.frame % 2 === 1);
    }
  });
});
