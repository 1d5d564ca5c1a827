/** `llf`: least laxity (deadline − now − ToGo*) first. */
import { describe, expect, it } from "vitest";
import { edf } from "./edf";
import { llf } from "./llf";
import { buildView, decideWith, dispatchList, flatLayers } from "./testing";

describe("llf", () => {
  it("with tied deadlines, picks the job with more work left (smaller laxity)", () => {
    const view = buildView({
      now: 10,
      accelerators: [{ idle: true }, { idle: false }],
      models: [
        { name: "A_short", latencyMs: flatLayers(3, [1, 2]), jobs: [{ frame: 0, deadline: 50 }] }, // ToGo* 3, laxity 37
        { name: "Z_long", latencyMs: flatLayers(3, [10, 20]), jobs: [{ frame: 0, deadline: 50 }] }, // ToGo* 30, laxity 10
      ],
    });
    const d = decideWith(llf, view);
    expect(dispatchList(d)).toEqual(["Z_long:0@0x1"]);
    expect(d.dispatches[0]!.scores).toEqual({ laxity: 10 });
    expect(dispatchList(decideWith(edf, view))).toEqual(["A_short:0@0x1"]); // EDF falls back to the name
  });

  it("counts only the remaining layers, and ranks by laxity where EDF ranks by deadline", () => {
    const models = [
      { name: "A", latencyMs: flatLayers(3, [10, 10]), jobs: [{ frame: 0, deadline: 40, nextLayer: 2 }] }, // ToGo* 10 → laxity 30
      { name: "B", latencyMs: flatLayers(3, [5, 5]), jobs: [{ frame: 0, deadline: 50 }] }, // ToGo* 15 → laxity 35
      { name: "C", latencyMs: flatLayers(3, [1, 1]), jobs: [{ frame: 0, deadline: 45 }] }, // ToGo* 3 → laxity 42
    ];
    const view = buildView({ now: 0, models });
    expect(dispatchList(decideWith(llf, view))).toEqual(["A:0@0x1", "B:0@1x1"]);
    expect(dispatchList(decideWith(edf, view))).toEqual(["A:0@0x1", "C:0@1x1"]);
  });
});
