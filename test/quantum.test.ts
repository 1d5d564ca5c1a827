/**
 * Quantum blocks in both engines: the direct engine (the kernel on the actors' pure logic, what
 * test/bench/quantum.ts measures with) gives exactly what the actor system gives with a quantum,
 * and a quantum of 0 is B = 1 in both.
 */
import { describe, expect, it } from "vitest";
import { resolveRunSpec, runScenario, simulateDirect } from "@sdrm3/shared/runtime";
import { comparable } from "./support/run-result";


describe("quantum blocks, direct engine and actor system", () => {
  it.each([
    ["sdrm3", "social_interactionA", "Dual_4K/WS_OS", 0.25],
    ["edf", "AR_Assistant", "Quad_8K/WS_OS_WS_OS", 1],
    ["herald", "VR_gaming", "Dual_4K/WS_OS", 0.5],
  ])("%s on %s (%s), quantum %f ms: the engines agree event for event", async (policy, scenario, hardware, quantumMs) => {
    const opts = resolveRunSpec({ scenario, hardware, policy, durationMs: 400, seed: 2, quantumMs });
    expect(opts.quantumMs).toBe(quantumMs);
    const actorEvents: string[] = [];
    const directEvents: string[] = [];
    const actors = await runScenario({ ...opts, run: "q", onEvent: (e) => actorEvents.push(JSON.stringify(e)) });
    const direct = simulateDirect({ ...opts, run: "q", onEvent: (e) => directEvents.push(JSON.stringify(e)) });
    expect(comparable(direct)).toBe(comparable(actors));
    expect(directEvents).toEqual(actorEvents);
    // the quantum is in effect: some block is longer than one layer
    expect(directEvents.some((e) => e.includes('"block.dispatched"') && !e.includes('"layerCount":1,'))).toBe(true);
  }, 120_000);

  it("quantum 0 is B = 1 in both engines, event for event", async () => {
    const spec = { scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 300, seed: 3 };
    const b1 = resolveRunSpec({ ...spec, blockSize: 1 });
    const q0 = resolveRunSpec({ ...spec, quantumMs: 0 });
    expect(q0).not.toHaveProperty("quantumMs");
    const events = async (direct: boolean, opts: typeof b1) => {
      const out: string[] = [];
      const r = direct ? simulateDirect({ ...opts, onEvent: (e) => out.push(JSON.stringify(e)) }) : await runScenario({ ...opts, onEvent: (e) => out.push(JSON.stringify(e)) });
      return [comparable(r), ...out];
    };
    expect(await events(true, q0)).toEqual(await events(true, b1));
    expect(await events(false, q0)).toEqual(await events(false, b1));
  }, 120_000);

  it("a quantum out of range is refused by the run setup", () => {
    const spec = { scenario: "AR_Assistant", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100 };
    expect(() => simulateDirect(resolveRunSpec({ ...spec, quantumMs: 5000 }))).toThrow("dispatch quantum: expected a number of ms in [0, 1000], got 5000");
    expect(() => simulateDirect(resolveRunSpec({ ...spec, quantumMs: Number.POSITIVE_INFINITY }))).toThrow("dispatch quantum");
  });
});
