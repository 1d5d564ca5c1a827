/** `rr`: least recently served job first (oldest lastRanAt). */
import { describe, expect, it } from "vitest";
import { rr } from "./rr";
import { buildView, decideWith, dispatchList, flatLayers } from "./testing";

const lat = flatLayers(3, [1, 2]);

describe("rr", () => {
  it("serves the job that waited longest since it last ran, not the most urgent one", () => {
    const view = buildView({
      now: 20,
      accelerators: [{ idle: true }, { idle: false }],
      models: [
        { name: "A", latencyMs: lat, jobs: [{ frame: 0, deadline: 30, nextLayer: 1, lastRanAt: 20 }] }, // just ran
        { name: "B", latencyMs: lat, jobs: [{ frame: 0, deadline: 90, nextLayer: 1, lastRanAt: 12 }] },
        { name: "C", latencyMs: lat, jobs: [{ frame: 0, injectAt: 15, deadline: 60 }] }, // never ran: since injection
      ],
    });
    const d = decideWith(rr, view);
    expect(dispatchList(d)).toEqual(["B:0@0x1"]);
    expect(d.dispatches[0]!.scores).toEqual({ lastRanAt: 12 });
  });

  it("rotates: the job that just ran goes to the back; ties on lastRanAt break by deadline", () => {
    const jobs = (lastA: number, lastB: number) =>
      buildView({
        now: 10,
        models: [
          { name: "A", latencyMs: lat, jobs: [{ frame: 0, deadline: 80, nextLayer: 1, lastRanAt: lastA }] },
          { name: "B", latencyMs: lat, jobs: [{ frame: 0, deadline: 70, nextLayer: 1, lastRanAt: lastB }] },
          { name: "C", latencyMs: lat, jobs: [{ frame: 0, deadline: 60, nextLayer: 1, lastRanAt: 10 }] },
        ],
      });
    expect(dispatchList(decideWith(rr, jobs(5, 8)))).toEqual(["A:0@0x1", "B:0@1x1"]);
    expect(dispatchList(decideWith(rr, jobs(10, 8)))).toEqual(["B:0@0x1", "C:0@1x1"]);
    expect(dispatchList(decideWith(rr, jobs(10, 10)))).toEqual(["C:0@0x1", "B:0@1x1"]);
  });
});
