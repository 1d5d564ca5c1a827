/**
 * The same actors, wired through a real nats-server instead of the in-memory bus, give the same
 * run: every message of the run (ticks, releases, dispatches, results, events) crosses NATS.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findScenario, loadBuiltinDataset, resolveHardware, resolveModelCosts } from "@sdrm3/shared/data";
import { connectNatsBus, type NatsBus } from "@sdrm3/shared/nats";
import { resolvePolicy } from "@sdrm3/shared/policies";
import { runScenario } from "@sdrm3/shared/runtime";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { comparable } from "./support/run-result";


describe("a run over NATS", () => {
  let bus: NatsBus;
  beforeAll(async () => {
    bus = await connectNatsBus({ ...natsTestOptions(), name: "run-over-nats" });
  });
  afterAll(async () => {
    await bus?.close();
  });

  it.each([
    ["xrbench", "VR_gaming", "Single_4K/WS", 700],
    ["sdrm3", "AR_gaming", "Dual_4K/WS_OS", 500],
  ])("%s on %s/%s gives the same metrics, frames and events as on the in-memory bus", async (policyName, scenarioName, hw, durationMs) => {
    const ds = loadBuiltinDataset();
    const scenario = findScenario(ds, scenarioName);
    const hardware = resolveHardware(ds, hw);
    const base = { scenario, hardware, costs: resolveModelCosts(ds, scenario, hardware), policy: resolvePolicy(policyName), durationMs, seed: 3 };
    const memEvents: string[] = [];
    const natsEvents: string[] = [];
    const onMemory = await runScenario({ ...base, onEvent: (e) => memEvents.push(JSON.stringify(e)) });
    const run = `t-${randomUUID().slice(0, 8)}`;
    const onNats = await runScenario({ ...base, bus, run, onEvent: (e) => natsEvents.push(JSON.stringify(e).replaceAll(run, "embedded")) });
    expect(onNats.rejected).toBe(0);
    expect(comparable(onNats)).toBe(comparable(onMemory));
    expect(natsEvents).toEqual(memEvents);
    expect(memEvents.length).toBeGreaterThan(100);
  });
});
