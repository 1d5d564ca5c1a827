/** `shed`: odd frames dropped before they start (frame-rate halving), even frames EDF. */
import { describe, expect, it } from "vitest";
import { SHED_DROP_REASON, shed } from "./shed";
import { buildView, decideWith, dispatchList, dropList, flatLayers } from "./testing";

const lat = flatLayers(3, [1, 2]);

describe("shed", () => {
  it("drops odd frames only, at release, and runs the even ones earliest deadline first", () => {
    const view = buildView({
      now: 200,
      models: [
        { name: "A", latencyMs: lat, jobs: [{ frame: 2, deadline: 300 }, { frame: 3, deadline: 400 }] },
        { name: "B", latencyMs: lat, jobs: [{ frame: 1, deadline: 250 }, { frame: 4, deadline: 260 }] },
      ],
    });
    const d = decideWith(shed, view);
    expect(dropList(d)).toEqual(["A:3", "B:1"]);
    expect(d.drops.every((x) => x.reason === SHED_DROP_REASON)).toBe(true);
    expect(dispatchList(d)).toEqual(["B:4@0x1", "A:2@1x1"]);
  });

  it("never drops a started frame, and drops at release even while every accelerator is busy", () => {
    const view = buildView({
      now: 200,
      accelerators: [{ idle: false }, { idle: false }],
      models: [{ name: "A", latencyMs: lat, jobs: [{ frame: 1, nextLayer: 1, deadline: 300 }, { frame: 3, deadline: 400 }] }],
    });
    expect(decideWith(shed, view)).toEqual({ dispatches: [], drops: [{ job: "A:3", reason: SHED_DROP_REASON }] });
  });
});
