/**
 * The direct engine (the kernel fed synchronously by the actors' pure logic, used for look-ahead
 * and grid searches) gives exactly what the actor system gives on the in-memory bus.
 */
import { describe, expect, it } from "vitest";
import { resolveRunSpec, runScenario, simulateDirect, tuningFor } from "@sdrm3/shared/runtime";
import { comparable } from "./support/run-result";


describe("direct engine", () => {
  it.each([
    ["xrbench", "AR_gaming", "Dual_4K/WS_OS", 700],
    ["sdrm3", "social_interactionA", "Dual_4K/WS_OS", 600],
    ["edf", "AR_Assistant", "Quad_8K/WS_OS_WS_OS", 400],
    ["herald", "social_dynamic", "Dual_4K/WS_OS", 2500],
    ["sdrm3", "AR_gaming_ramp", "Dual_4K/WS_OS", 3500],
  ])("%s on %s (%s) equals the actor system", async (policy, scenario, hardware, durationMs) => {
    const opts = resolveRunSpec({ scenario, hardware, policy, durationMs, seed: 4 });
    const actorEvents: string[] = [];
    const directEvents: string[] = [];
    const actors = await runScenario({ ...opts, run: "x", onEvent: (e) => actorEvents.push(JSON.stringify(e)) });
    const direct = simulateDirect({ ...opts, run: "x", onEvent: (e) => directEvents.push(JSON.stringify(e)) });
    expect(comparable(direct)).toBe(comparable(actors));
    expect(directEvents).toEqual(actorEvents);
    // generous: the actor system runs 3.5 s simulated here, which a loaded 2-core machine stretches many times over
  }, 300_000);

  it("tuned: the look-ahead's own simulations stay out of the run's events", async () => {
    const opts = resolveRunSpec({ scenario: "VR_gaming", hardware: "Dual_4K/WS_OS", policy: "sdrm3", tune: true, durationMs: 300, seed: 17 });
    const directEvents: string[] = [];
    const direct = simulateDirect({ ...opts, run: "x", onEvent: (e) => directEvents.push(JSON.stringify(e)) }, tuningFor(opts));
    // compared as they come (a look-ahead simulates 1.5 s: kept, a leak would fill the heap)
    let count = 0;
    let firstDifference: { at: number; actors: string; direct: string | undefined } | undefined;
    const actors = await runScenario({
      ...opts,
      run: "x",
      onEvent: (e) => {
        const text = JSON.stringify(e);
        if (firstDifference === undefined && text !== directEvents[count]) firstDifference = { at: count, actors: text, direct: directEvents[count] };
        count++;
      },
    });
    expect(actors.tuning.length).toBeGreaterThan(0);
    expect(comparable(direct)).toBe(comparable(actors));
    expect(firstDifference).toBeUndefined();
    expect(count).toBe(directEvents.length);
  }, 300_000);
});
