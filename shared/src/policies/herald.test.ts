/** `herald`: static per-layer EDP affinity, load balancing within a factor of the best EDP, deadline order. */
import { describe, expect, it } from "vitest";
import { herald, heraldPlan, heraldPreferred } from "./herald";
import { type ModelSpec, buildView, decideWith, dispatchList, flatLayers } from "./testing";

// acc0 is twice as fast as acc1 but spends 5× the energy: EDP 10 vs 4 → the layer prefers acc1.
const lat = flatLayers(3, [1, 2]);
const energy = (acc0: number) => flatLayers(3, [acc0, 2]);

describe("herald affinity", () => {
  it("prefers the accelerator with the least EDP, not the fastest", () => {
    const view = buildView({ models: [{ name: "A", latencyMs: lat, energyMJ: energy(10), jobs: [{ frame: 0 }] }] });
    expect(heraldPreferred(view.models[0]!.costs, 0)).toBe(1);
    const d = decideWith(herald, view);
    expect(dispatchList(d)).toEqual(["A:0@1x1"]);
    expect(d.dispatches[0]!.scores).toEqual({ edp: 4, preferredEdp: 4, preferred: 1 });
  });

  it("plans every layer from the costs alone; a block is the run of layers sharing one preference, capped by view.blockSize", () => {
    const mixed: ModelSpec = {
      name: "A",
      latencyMs: [
        [1, 1, 1, 1],
        [2, 2, 1, 2],
      ],
      energyMJ: [
        [10, 10, 1, 10],
        [2, 2, 2, 2],
      ],
      jobs: [{ frame: 0 }],
    };
    const view = buildView({ blockSize: 8, models: [mixed] });
    expect([...heraldPlan(view.models[0]!.costs)]).toEqual([1, 1, 0, 1]);
    expect(dispatchList(decideWith(herald, view))).toEqual(["A:0@1x2"]);
    expect(dispatchList(decideWith(herald, buildView({ blockSize: 1, models: [mixed] })))).toEqual(["A:0@1x1"]);
  });

  it("serves jobs in deadline order: the earlier deadline gets the shared preferred accelerator", () => {
    const view = buildView({
      accelerators: [{ idle: false }, { idle: true }],
      models: [
        { name: "A", latencyMs: lat, energyMJ: energy(10), jobs: [{ frame: 0, deadline: 90 }] },
        { name: "B", latencyMs: lat, energyMJ: energy(10), jobs: [{ frame: 0, deadline: 60 }] },
      ],
    });
    expect(dispatchList(decideWith(herald, view))).toEqual(["B:0@1x1"]);
  });
});

describe("herald load balancing", () => {
  const preferredBusy = (acc0Energy: number) =>
    buildView({
      now: 5,
      accelerators: [{ idle: true }, { idle: false, busyUntil: 9 }],
      models: [{ name: "A", latencyMs: lat, energyMJ: energy(acc0Energy), jobs: [{ frame: 0, deadline: 50 }] }],
    });

  it("moves a layer off its busy preferred accelerator when the idle one's EDP is < 2× the best", () => {
    const d = decideWith(herald, preferredBusy(7)); // EDP 7 < 2 × 4
    expect(dispatchList(d)).toEqual(["A:0@0x1"]);
    expect(d.dispatches[0]!.scores).toEqual({ edp: 7, preferredEdp: 4, preferred: 1 });
  });

  it("waits for the preferred accelerator when the idle one's EDP is ≥ 2× the best", () => {
    expect(decideWith(herald, preferredBusy(8)).dispatches).toEqual([]); // EDP 8 = 2 × 4
    expect(decideWith(herald, preferredBusy(10)).dispatches).toEqual([]);
  });

  it("takes the factor as a parameter (1 = never move)", () => {
    expect(dispatchList(decideWith(herald, preferredBusy(10), { balanceFactor: 3 }))).toEqual(["A:0@0x1"]);
    expect(decideWith(herald, preferredBusy(7), { balanceFactor: 1 }).dispatches).toEqual([]);
    expect(() => decideWith(herald, preferredBusy(7), { balanceFactor: 0.5 })).toThrow(/herald\.balanceFactor/);
  });
});

describe("herald is static", () => {
  // Three accelerators. ES prefers acc0 (EDP 1) and may move to acc1 (1.5) or acc2 (1.8), both < 2×.
  // Its cascade child GE, with a later deadline, prefers acc1: a rule that reacted to queued demand
  // would steer ES away from acc1 when the child is there. Herald's plan does not look.
  const parent: ModelSpec = {
    name: "ES_eye",
    periodMs: 50,
    latencyMs: flatLayers(3, [1, 1, 1]),
    energyMJ: flatLayers(3, [1, 1.5, 1.8]),
    jobs: [{ frame: 1, deadline: 100 }],
  };
  const child = (released: boolean): ModelSpec => ({
    name: "GE_gaze",
    dependsOn: ["ES_eye"],
    latencyMs: flatLayers(3, [1, 1, 1]),
    energyMJ: flatLayers(3, [5, 1, 5]),
    jobs: released ? [{ frame: 0, releaseAt: 0, injectAt: 40, deadline: 120 }] : [],
  });
  const view = (released: boolean, acc0Idle: boolean) =>
    buildView({ now: 55, accelerators: [{ idle: acc0Idle }, { idle: true }, { idle: true }], models: [parent, child(released)] });
  const parentDispatch = (released: boolean, acc0Idle: boolean) =>
    decideWith(herald, view(released, acc0Idle)).dispatches.find((d) => d.job === "ES_eye:1");

  it("a cascade child that did not trigger changes nothing in the parent's assignment", () => {
    for (const acc0Idle of [true, false]) {
      const withChild = parentDispatch(true, acc0Idle);
      const withoutChild = parentDispatch(false, acc0Idle);
      expect(withChild).toBeDefined();
      expect(withChild).toEqual(withoutChild);
      expect(withChild!.acc).toBe(acc0Idle ? 0 : 1);
    }
    // acc0 busy: ES takes acc1 (the lowest-EDP idle alternative); GE then waits for acc1 (acc2 is 5× its best EDP).
    expect(dispatchList(decideWith(herald, view(true, false)))).toEqual(["ES_eye:1@1x1"]);
    expect(dispatchList(decideWith(herald, view(true, true)))).toEqual(["ES_eye:1@0x1", "GE_gaze:0@1x1"]);
    const plan = (released: boolean) => [...heraldPlan(view(released, true).models.find((m) => m.name === "ES_eye")!.costs)];
    expect(plan(true)).toEqual(plan(false));
  });
});
