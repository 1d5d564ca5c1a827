/**
 * `planaria`: score = priority / (slack × resources), slack = time to the deadline, resources =
 * clamp(ceil(N × ToGo* / slack), 1, N); jobs that cannot make their deadline score −1/priority (last)
 * and are dropped only with drop=1. Hand-computed examples on N = 2 accelerators.
 */
import { describe, expect, it } from "vitest";
import { readyJobs } from "./common";
import { planaria, planariaTerms } from "./planaria";
import { buildView, decideWith, dispatchList, dropList, flatLayers } from "./testing";

const models = [
  { name: "HT_hand", latencyMs: flatLayers(2, [5, 6]), jobs: [{ frame: 0, deadline: 40 }] }, // high 9, ToGo* 10, slack 40
  { name: "DE_depth", latencyMs: flatLayers(2, [9.5, 10]), jobs: [{ frame: 0, deadline: 20 }] }, // medium 3, ToGo* 19, slack 20
  { name: "KD_kws", latencyMs: flatLayers(2, [1, 1]), jobs: [{ frame: 0, deadline: 5 }] }, // low 1, ToGo* 2, slack 5
  { name: "PD_planes", latencyMs: flatLayers(3, [5, 10]), jobs: [{ frame: 0, deadline: 9 }] }, // medium 3, ToGo* 15 > slack 9
];

describe("planaria score", () => {
  it("priority / (time to deadline × resources needed), hand-computed", () => {
    const view = buildView({ now: 0, models: models.slice(0, 3) });
    const [de, ht, kd] = readyJobs(view);
    expect(planariaTerms(ht!, 0, 2)).toEqual({ slack: 40, toGo: 10, resources: 1, score: 9 / 40 }); // ceil(2·10/40) = 1
    expect(planariaTerms(de!, 0, 2)).toEqual({ slack: 20, toGo: 19, resources: 2, score: 3 / 40 }); // ceil(2·19/20) = 2
    expect(planariaTerms(kd!, 0, 2)).toEqual({ slack: 5, toGo: 2, resources: 1, score: 1 / 5 }); // ceil(2·2/5) = 1
  });

  it("a job that cannot make its deadline scores −1/priority", () => {
    const [pd] = readyJobs(buildView({ now: 0, models: models.slice(3) }));
    expect(planariaTerms(pd!, 0, 2)).toEqual({ slack: 9, toGo: 15, resources: 2, score: -1 / 3 });
  });

  it("allocates in descending score: HT (0.225), KD (0.2), DE (0.075), PD (−0.33)", () => {
    const one = buildView({ now: 0, accelerators: [{ idle: true }, { idle: false }], models });
    const d = decideWith(planaria, one);
    expect(dispatchList(d)).toEqual(["HT_hand:0@0x1"]);
    expect(d.dispatches[0]!.scores).toEqual({ score: 9 / 40, slack: 40, resources: 1 });
    expect(dispatchList(decideWith(planaria, buildView({ now: 0, models })))).toEqual(["HT_hand:0@0x1", "KD_kws:0@1x1"]);
  });

  it("drops nothing of its own: a job that cannot make it runs when an accelerator is left over; with drop=1 it is dropped", () => {
    const view = buildView({ now: 0, models: models.slice(3) });
    const plain = decideWith(planaria, view);
    expect(dropList(plain)).toEqual([]);
    expect(dispatchList(plain)).toEqual(["PD_planes:0@0x1"]);
    const fair = decideWith(planaria, view, { drop: 1 });
    expect(dropList(fair)).toEqual(["PD_planes:0"]);
    expect(fair.dispatches).toEqual([]);
  });
});
