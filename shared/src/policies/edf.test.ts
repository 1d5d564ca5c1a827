/** `edf`: earliest deadline first, fastest idle accelerator, no drops of its own. */
import { describe, expect, it } from "vitest";
import { NO_DECISION } from "./common";
import { edf } from "./edf";
import { fcfs } from "./fcfs";
import { buildView, decideWith, dispatchList, flatLayers } from "./testing";

// 3 layers; acc0 takes 2 ms per layer, acc1 1 ms.
const lat = flatLayers(3, [2, 1]);

describe("edf", () => {
  it("picks the earlier deadline even when that job was released later", () => {
    const view = buildView({
      now: 10,
      accelerators: [{ idle: false }, { idle: true }],
      models: [
        { name: "A", latencyMs: lat, jobs: [{ frame: 0, releaseAt: 0, deadline: 100 }] },
        { name: "B", latencyMs: lat, jobs: [{ frame: 0, releaseAt: 10, deadline: 50 }] },
      ],
    });
    expect(dispatchList(decideWith(edf, view))).toEqual(["B:0@1x1"]);
    expect(dispatchList(decideWith(fcfs, view))).toEqual(["A:0@1x1"]); // the contrast: FCFS takes the older one
  });

  it("gives the most urgent job the fastest idle accelerator, the next one the other", () => {
    const view = buildView({
      models: [
        { name: "A", latencyMs: lat, jobs: [{ frame: 0, deadline: 30 }] },
        { name: "B", latencyMs: lat, jobs: [{ frame: 0, deadline: 20 }] },
      ],
    });
    const d = decideWith(edf, view);
    expect(dispatchList(d)).toEqual(["B:0@1x1", "A:0@0x1"]);
    expect(d.dispatches[0]!.scores).toEqual({ deadline: 20 });
    expect(d.drops).toEqual([]);
  });

  it("breaks deadline ties by model name, then frame; blocks are view.blockSize layers, clipped at the end", () => {
    const view = buildView({
      now: 5,
      accelerators: [{ idle: false }, { idle: true }],
      blockSize: 2,
      models: [
        { name: "B", latencyMs: lat, jobs: [{ frame: 0, deadline: 40 }] },
        { name: "A", latencyMs: lat, jobs: [{ frame: 1, deadline: 40, nextLayer: 2, lastRanAt: 4 }] },
      ],
    });
    expect(dispatchList(decideWith(edf, view))).toEqual(["A:1@1x1"]);
  });

  it("skips jobs with a block in flight, never drops, and answers nothing while every accelerator is busy", () => {
    const late = { name: "A", latencyMs: lat, jobs: [{ frame: 0, deadline: 1, nextLayer: 1 }, { frame: 1, deadline: 2, running: true }] };
    const d = decideWith(edf, buildView({ now: 50, models: [late] }));
    expect(dispatchList(d)).toEqual(["A:0@1x1"]);
    expect(d.drops).toEqual([]);
    expect(decideWith(edf, buildView({ now: 50, accelerators: [{ idle: false }, { idle: false }], models: [late] }))).toBe(NO_DECISION);
  });
});
