/**
 * The determinism contract (DESIGN.md §4) on a whole run: same scenario, hardware, policy, seed and
 * duration give identical metrics, frame records and recorded event sequence; another seed moves
 * the releases (phases). And the accounting of exact mode: every released frame ends exactly once,
 * on time, late or dropped — none is left unfinished.
 */
import { describe, expect, it } from "vitest";
import { type RunEvent, jobId } from "@sdrm3/shared/contracts";
import { findScenario, loadBuiltinDataset, resolveHardware, resolveModelCosts } from "@sdrm3/shared/data";
import { resolvePolicy } from "@sdrm3/shared/policies";
import { type RunResult, runScenario } from "@sdrm3/shared/runtime";

const dataset = loadBuiltinDataset();
const scenario = findScenario(dataset, "VR_gaming");
const hardware = resolveHardware(dataset, "Dual_4K/WS_OS");
const costs = resolveModelCosts(dataset, scenario, hardware);

const run = async (seed: number): Promise<{ result: RunResult; events: RunEvent[] }> => {
  const events: RunEvent[] = [];
  const result = await runScenario({
    scenario,
    hardware,
    costs,
    policy: resolvePolicy("fcfs"),
    durationMs: 1000,
    seed,
    onEvent: (e) => events.push(e),
  });
  return { result, events };
};

const metricsJson = (r: RunResult) => JSON.stringify({ models: r.models, summary: r.summary, frames: r.frames });

describe("fcfs, VR_gaming on Dual_4K/WS_OS, 1 s", () => {
  it("the same inputs twice give identical metrics, frames and event sequence", async () => {
    const a = await run(7);
    const b = await run(7);
    expect(a.result.policy).toBe("fcfs");
    expect(a.result.frames.length).toBeGreaterThan(100);
    expect(a.events.length).toBeGreaterThan(a.result.frames.length);
    expect(metricsJson(b.result)).toBe(metricsJson(a.result));
    expect(JSON.stringify(b.events)).toBe(JSON.stringify(a.events));
    expect([b.result.endedAtMs, b.result.decisions, b.result.rejected]).toEqual([a.result.endedAtMs, a.result.decisions, 0]);
  });

  it("a different seed changes the release times (seeded phases)", async () => {
    const a = await run(7);
    const c = await run(8);
    const releases = (r: RunResult, model: string) =>
      r.frames.filter((f) => f.model === model && f.frame === 0).map((f) => f.releaseAt);
    for (const m of scenario.models) {
      if (m.dependsOn.length > 0) continue; // cascaded children follow their parent
      const [a0] = releases(a.result, m.name);
      const [c0] = releases(c.result, m.name);
      expect(a0, `${m.name} frame 0 under seed 7`).toBeDefined();
      expect(c0, `${m.name} frame 0 under seed 8`).toBeDefined();
      expect(c0).not.toBe(a0);
      // the phase is in [0, T)
      expect(a0! >= 0 && a0! < 1000 / m.fps).toBe(true);
    }
    expect(metricsJson(c.result)).not.toBe(metricsJson(a.result));
  });

  it("accounting: released = onTime + late + dropped, nothing unfinished, each frame ends exactly once", async () => {
    const { result, events } = await run(7);
    for (const m of result.models) {
      expect(m.released, m.name).toBe(m.onTime + m.late + m.dropped);
      expect(m.unfinished, m.name).toBe(0);
      expect(m.released, m.name).toBe(result.frames.filter((f) => f.model === m.name).length);
    }
    const s = result.summary;
    expect(s.released).toBe(s.onTime + s.late + s.dropped);
    expect(s.unfinished).toBe(0);
    expect(result.frames.every((f) => f.outcome !== "unfinished")).toBe(true);

    // frame records: one per (model, frame)
    const ids = result.frames.map((f) => `${f.model}:${f.frame}`);
    expect(new Set(ids).size).toBe(ids.length);

    // recorded events: each released frame is released once and ends once, with the recorded outcome
    const released = events.filter((e) => e._tag === "frame.released").map((e) => `${e.frame.model}:${e.frame.frame}`);
    const ended = events.filter((e) => e._tag === "frame.ended");
    expect(new Set(released).size).toBe(released.length);
    expect([...released].sort()).toEqual([...ids].sort());
    const endedIds = ended.map((e) => e.job);
    expect(new Set(endedIds).size).toBe(endedIds.length);
    expect([...endedIds].sort()).toEqual([...ids].sort());
    const outcomeOf = new Map(ended.map((e) => [e.job, e.outcome]));
    for (const f of result.frames) expect(outcomeOf.get(jobId(f.model, f.frame)), `${f.model}:${f.frame}`).toBe(f.outcome);

    // a frame ends after it is released
    const releasedAt = new Map<string, number>();
    events.forEach((e, i) => {
      if (e._tag === "frame.released") releasedAt.set(`${e.frame.model}:${e.frame.frame}`, i);
      if (e._tag === "frame.ended") expect(releasedAt.get(e.job), e.job).toBeLessThan(i);
    });
  });
});

describe("the accounting invariant", () => {
  it("is checked at the end of every run and fails loudly on a violation", async () => {
    const { checkAccounting, AccountingError } = await import("@sdrm3/shared/runtime");
    const kernel = { cfg: { mode: "exact" }, blockEnergyMJ: 10 } as never;
    const frame = { model: "M", frame: 0, releaseAt: 0, injectAt: 0, deadline: 10, dispatchAt: 0, completionAt: 5, acc: 0, energyMJ: 10 };
    expect(() => checkAccounting([{ ...frame, outcome: "onTime" }], kernel)).not.toThrow();
    expect(() => checkAccounting([{ ...frame, outcome: "onTime" }, { ...frame, outcome: "late" }], kernel)).toThrow(AccountingError);
    expect(() => checkAccounting([{ ...frame, outcome: "unfinished" }], kernel)).toThrow(/never ended/);
    expect(() => checkAccounting([{ ...frame, outcome: "onTime", energyMJ: 9 }], kernel)).toThrow(/charged 9 mJ but the executed blocks cost 10 mJ/);
    expect(() => checkAccounting([{ ...frame, outcome: "onTime", completionAt: undefined }], kernel)).toThrow(/without a completion time/);
  });
});
