/** `sjf`: shortest optimistic remaining time first. */
import { describe, expect, it } from "vitest";
import { sjf } from "./sjf";
import { buildView, decideWith, dispatchList, flatLayers } from "./testing";

describe("sjf", () => {
  it("picks the shorter job even with a later deadline", () => {
    const view = buildView({
      accelerators: [{ idle: false }, { idle: true }],
      models: [
        { name: "A", latencyMs: flatLayers(3, [10, 10]), jobs: [{ frame: 0, deadline: 40 }] },
        { name: "B", latencyMs: flatLayers(3, [1, 2]), jobs: [{ frame: 0, deadline: 90 }] },
      ],
    });
    const d = decideWith(sjf, view);
    expect(dispatchList(d)).toEqual(["B:0@1x1"]);
    expect(d.dispatches[0]!.scores).toEqual({ toGo: 3 });
  });

  it("measures the remaining work, not the model: a long model on its last layer beats a short fresh one", () => {
    const view = buildView({
      accelerators: [{ idle: true }, { idle: false }],
      models: [
        { name: "A", latencyMs: flatLayers(3, [2, 4]), jobs: [{ frame: 0, nextLayer: 2 }] }, // ToGo* 2
        { name: "B", latencyMs: flatLayers(3, [1, 1]), jobs: [{ frame: 0 }] }, // ToGo* 3
      ],
    });
    expect(dispatchList(decideWith(sjf, view))).toEqual(["A:0@0x1"]);
  });
});
