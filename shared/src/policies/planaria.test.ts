/** `planaria`: score = priority / (slack × resources); jobs that cannot make their deadline are dropped. */
import { describe, expect, it } from "vitest";
import { readyJobs } from "./common";
import { PLANARIA_DROP_REASON, planaria, planariaTerms } from "./planaria";
import { buildView, decideWith, dispatchList, dropList, flatLayers } from "./testing";

describe("planaria", () => {
  it("drops a ready job whose optimistic remaining time exceeds its window, keeps one that just fits", () => {
    const view = buildView({
      now: 10,
      accelerators: [{ idle: false }, { idle: false }],
      models: [
        {
          name: "PD_planes",
          latencyMs: flatLayers(3, [5, 10]), // ToGo* 15
          jobs: [
            { frame: 0, deadline: 19, nextLayer: 1 }, // started; ToGo* 10 > window 9: drop
            { frame: 1, deadline: 25 }, // window 15 = ToGo*: it can still make it
            { frame: 2, deadline: 12, running: true }, // block in flight: judged when it ends
          ],
        },
      ],
    });
    const d = decideWith(planaria, view);
    expect(d.drops).toEqual([{ job: "PD_planes:0", reason: PLANARIA_DROP_REASON, scores: { window: 9, toGo: 10 } }]);
    expect(d.dispatches).toEqual([]); // no idle accelerator: drops only
  });

  it("prefers an urgent job over a higher-priority relaxed one: priority / (slack × resources)", () => {
    const view = buildView({
      now: 0,
      accelerators: [{ idle: true }, { idle: false }],
      models: [
        { name: "HT_hand", latencyMs: flatLayers(2, [5, 6]), jobs: [{ frame: 0, deadline: 20 }] }, // 9 / (10 × 10/40) = 3.6
        { name: "DE_depth", latencyMs: flatLayers(2, [9.5, 10]), jobs: [{ frame: 0, deadline: 20 }] }, // 3 / (1 × 19/40) ≈ 6.32
      ],
    });
    const [de, ht] = readyJobs(view);
    expect(planariaTerms(ht!, 0, 2)).toEqual({ window: 20, toGo: 10, slack: 10, resources: 0.25, score: 3.6 });
    expect(planariaTerms(de!, 0, 2)!.score).toBeCloseTo(3 / 0.475, 12);
    const d = decideWith(planaria, view);
    expect(dispatchList(d)).toEqual(["DE_depth:0@0x1"]);
    expect(d.dispatches[0]!.scores!.score).toBeCloseTo(3 / 0.475, 12);
    expect(d.drops).toEqual([]);
  });

  it("with equal slack and resources, the higher priority goes first", () => {
    const lat = flatLayers(2, [5, 6]);
    const view = (accelerators: number | Array<{ idle: boolean }>) =>
      buildView({
        accelerators,
        models: ["AS_action", "ES_eye", "DE_depth"].map((name) => ({ name, latencyMs: lat, jobs: [{ frame: 0, deadline: 20 }] })),
      });
    expect(dispatchList(decideWith(planaria, view([{ idle: true }, { idle: false }])))).toEqual(["ES_eye:0@0x1"]);
    expect(dispatchList(decideWith(planaria, view(2)))).toEqual(["ES_eye:0@0x1", "DE_depth:0@1x1"]);
  });

  it("a job with no time to spare scores highest but finitely", () => {
    const view = buildView({
      now: 0,
      accelerators: [{ idle: true }, { idle: false }],
      models: [
        { name: "KD_kws", latencyMs: flatLayers(2, [5, 6]), jobs: [{ frame: 0, deadline: 10 }] }, // slack 0
        { name: "ES_eye", latencyMs: flatLayers(2, [1, 1]), jobs: [{ frame: 0, deadline: 10 }] },
      ],
    });
    const d = decideWith(planaria, view);
    expect(dispatchList(d)).toEqual(["KD_kws:0@0x1"]);
    expect(Number.isFinite(d.dispatches[0]!.scores!.score)).toBe(true);
    expect(dropList(d)).toEqual([]);
  });
});
