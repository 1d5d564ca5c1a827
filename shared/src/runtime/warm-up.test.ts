/**
 * The warm-up of a live run (runtime/warm-up.ts, docs/live.md "Warm-up"): a private virtual-time run
 * of the same spec before the clock starts — none in virtual time, none with 0, never the caller's
 * hooks, bus or clock, and reported in the run's live figures.
 */
import { describe, expect, it } from "vitest";
import type { RunEvent } from "../contracts/messages";
import type { KernelInput } from "../actors/scheduler-kernel";
import { createMemoryBus } from "./memory-bus";
import { type RunOptions, runScenario } from "./run";
import { resolveRunSpec } from "./spec";
import { LIVE_WARM_UP_MS, MAX_WARM_UP_MS, checkWarmUpMs, warmUpLive } from "./warm-up";

const spec = (): RunOptions => resolveRunSpec({ scenario: "AR_gaming", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 100, seed: 1, quantumMs: 2 });

describe("warmUpLive", () => {
  it("runs nothing for a virtual-time run, and nothing but reports 0 with a 0-ms warm-up", async () => {
    const seen: RunOptions[] = [];
    const run = async (o: RunOptions) => void seen.push(o);
    expect(await warmUpLive(spec(), run)).toBeUndefined();
    expect(await warmUpLive({ ...spec(), live: { speed: 1 }, warmUpMs: 0 }, run)).toEqual({ simulatedMs: 0, wallMs: 0 });
    // the warm-up's length is checked where it is used (a library caller has no CLI in front of it)
    await expect(warmUpLive({ ...spec(), live: { speed: 1 }, warmUpMs: -1 }, run)).rejects.toThrow("warm-up -1 ms: expected a duration from 0 to 60000 ms");
    expect(seen).toEqual([]);
  });

  it("runs the spec in virtual time without the caller's hooks, bus or clock, for the warm-up's simulated time", async () => {
    const seen: RunOptions[] = [];
    const hooks = { onEvent: () => {}, onReject: () => {}, observer: { step: () => {} }, bus: createMemoryBus() };
    const live = { ...spec(), ...hooks, live: { speed: 1 }, run: "mine" } as RunOptions;
    const report = await warmUpLive(live, async (o) => void seen.push(o));
    expect(report?.simulatedMs).toBe(LIVE_WARM_UP_MS);
    expect(report?.wallMs).toBeGreaterThanOrEqual(0);
    expect(seen).toHaveLength(1);
    const [o] = seen;
    for (const key of ["onEvent", "onReject", "observer", "bus", "live", "warmUpMs"] as const) expect(o).not.toHaveProperty(key);
    expect(o!.run).toBe("warm-up");
    expect(o!.durationMs).toBe(LIVE_WARM_UP_MS);
    expect(o!.quantumMs).toBe(2); // the run's dispatch settings: the same code paths
    expect(o!.speculate).toBe(0); // as a live run: no predicted replies, an event per block
    expect(o!.scenario).toBe(live.scenario);
    await hooks.bus.close();
  });

  it("refuses a warm-up that is not a duration from 0 to MAX_WARM_UP_MS", () => {
    for (const ms of [-1, Number.NaN, MAX_WARM_UP_MS + 1, Number.POSITIVE_INFINITY]) expect(() => checkWarmUpMs(ms)).toThrow("warm-up");
    expect(checkWarmUpMs(0)).toBe(0);
    expect(checkWarmUpMs(MAX_WARM_UP_MS)).toBe(MAX_WARM_UP_MS);
  });
});

describe("a live run's warm-up", () => {
  it("is reported in the live figures, and the run's hooks see only the run itself", async () => {
    const events: RunEvent[] = [];
    const inputs: KernelInput[] = [];
    // speed 10: 100 ms of run time in ~10 ms of wall time
    const r = await runScenario({
      ...spec(),
      run: "warmed",
      live: { speed: 10 },
      warmUpMs: 300,
      onEvent: (e) => events.push(e),
      observer: { step: (input) => void inputs.push(input) },
    });
    expect(r.live?.warmUp?.simulatedMs).toBe(300);
    expect(r.live?.warmUp?.wallMs).toBeGreaterThan(0);
    expect(events.length).toBeGreaterThan(0);
    // the warm-up simulated 300 ms: anything of it would be an event of another run, or a frame
    // released at 100 ms or later (nominal release times, not clock readings: a loaded machine makes
    // a live run's readings late, not its frames' releases)
    expect(events.every((e) => e.run === "warmed")).toBe(true);
    expect(events.every((e) => e._tag !== "frame.released" || e.frame.releaseAt < 100)).toBe(true);
    expect(r.frames.every((f) => f.releaseAt < 100)).toBe(true);
    expect(inputs.length).toBeGreaterThan(0);
    const releasedByInputs = inputs.flatMap((i) => (i.kind === "reply" && i.reply._tag === "task.released" ? i.reply.frames : []));
    expect(releasedByInputs.every((f) => f.releaseAt < 100)).toBe(true);
  });
});
