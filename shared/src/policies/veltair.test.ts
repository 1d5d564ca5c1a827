/** `veltair`: proportional per-block sub-deadlines, earliest first; block size shrinks with load. */
import { describe, expect, it } from "vitest";
import { edf } from "./edf";
import { buildView, decideWith, dispatchList, flatLayers } from "./testing";
import { veltair, veltairBlockSize, veltairLoad, veltairSubDeadline } from "./veltair";

describe("veltair sub-deadlines", () => {
  // Fastest per layer: 2, 3, 5 ms → ToGo* = [10, 8, 5, 0].
  const view = buildView({
    models: [
      {
        name: "A",
        latencyMs: [
          [2, 3, 5],
          [4, 6, 10],
        ],
        jobs: [
          { frame: 0, injectAt: 0, deadline: 100 },
          { frame: 1, injectAt: 10, deadline: 110, nextLayer: 1 },
        ],
      },
    ],
  });
  const model = view.models[0]!;
  const [fresh, started] = model.queue;

  it("splits the job's window in proportion to optimistic work up to the block's end", () => {
    expect(veltairSubDeadline(model, fresh!, 1)).toBeCloseTo(20, 12); // 0 + 100 × 2/10
    expect(veltairSubDeadline(model, fresh!, 2)).toBeCloseTo(50, 12); // 0 + 100 × 5/10
    expect(veltairSubDeadline(model, started!, 1)).toBeCloseTo(60, 12); // 10 + 100 × 5/10
    expect(veltairSubDeadline(model, started!, 9)).toBeCloseTo(110, 12); // clipped at the last layer: the deadline
  });

  it("runs the earliest sub-deadline first, which need not be the earliest deadline", () => {
    const two = buildView({
      accelerators: [{ idle: true }, { idle: false }],
      models: [
        // A: deadline 100, first layer 1/20 of its work → sub-deadline 5
        { name: "A", latencyMs: [[1, 9, 10], [2, 18, 20]], jobs: [{ frame: 0, deadline: 100 }] },
        // B: deadline 50, first layer 9/10 of its work → sub-deadline 45
        { name: "B", latencyMs: [[9, 0.5, 0.5], [18, 1, 1]], jobs: [{ frame: 0, deadline: 50 }] },
      ],
    });
    const d = decideWith(veltair, two, { maxBlock: 1 });
    expect(dispatchList(d)).toEqual(["A:0@0x1"]);
    expect(d.dispatches[0]!.scores).toMatchObject({ subDeadline: 5, blockSize: 1 });
    expect(dispatchList(decideWith(edf, two))).toEqual(["B:0@0x1"]);
  });
});

describe("veltair block size", () => {
  it("B = clamp(round(Bmax × (1 − load)), 1, Bmax)", () => {
    expect([0, 0.25, 0.5, 0.9, 0.95, 1, 3].map((load) => veltairBlockSize(load, 8))).toEqual([8, 6, 4, 1, 1, 1, 1]);
  });

  it("load = Σ ToGo* of unfinished jobs, in flight or waiting, over accelerators × horizon", () => {
    const view = buildView({
      models: [
        { name: "A", latencyMs: flatLayers(12, [1, 2]), jobs: [{ frame: 0 }] }, // 12
        { name: "B", latencyMs: flatLayers(12, [1, 2]), jobs: [{ frame: 0, nextLayer: 4, running: true }] }, // 8
      ],
    });
    expect(veltairLoad(view, 20)).toBeCloseTo(20 / (2 * 20), 12);
  });

  const jobs = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ name: `M${i}`, latencyMs: flatLayers(12, [1, 2]), jobs: [{ frame: 0 }] }));

  it("dispatches long blocks when the SoC is lightly loaded, ignoring view.blockSize", () => {
    // One job, ToGo* 12 ms, horizon 100 ms: load 0.06 → B = round(8 × 0.94) = 8.
    expect(dispatchList(decideWith(veltair, buildView({ blockSize: 1, models: jobs(1) }), { horizonMs: 100 }))).toEqual(["M0:0@0x8"]);
    expect(dispatchList(decideWith(veltair, buildView({ blockSize: 1, models: jobs(1) }), { horizonMs: 100, maxBlock: 3 }))).toEqual([
      "M0:0@0x3",
    ]);
  });

  it("dispatches single layers under contention", () => {
    // Four jobs, 48 ms of work over 2 × 20 ms: load 1.2 → B = 1.
    const d = decideWith(veltair, buildView({ blockSize: 8, models: jobs(4) }));
    expect(dispatchList(d)).toEqual(["M0:0@0x1", "M1:0@1x1"]);
    expect(d.dispatches[0]!.scores).toMatchObject({ blockSize: 1, load: 1.2 });
  });

  it("rejects a block size or horizon out of range", () => {
    const view = buildView({ models: jobs(1) });
    expect(() => decideWith(veltair, view, { maxBlock: 0 })).toThrow(/veltair\.maxBlock/);
    expect(() => decideWith(veltair, view, { horizonMs: 0 })).toThrow(/veltair\.horizonMs/);
  });
});
