/**
 * `prema` (PREMA, HPCA 2020, Algorithm 2): tokens start at the priority and grow, by priority ×
 * waited / isolated, only while a job waits; candidates are the jobs whose token reaches the highest
 * reached threshold (9/3/1); among them the shortest estimated job runs. Hand-computed examples.
 */
import { describe, expect, it } from "vitest";
import { readyJobs } from "./common";
import { prema, premaTier, premaToken, premaWaited } from "./prema";
import { buildView, decideWith, dispatchList, dropList, flatLayers } from "./testing";

const NOW = 100;
// HT (high, 9): 1 ms per layer at best, 3 layers → isolated 3 ms. KD (low, 1): 2 ms per layer → isolated 6 ms.
const HT = (injectAt: number, nextLayer = 0) => ({
  name: "HT_hand",
  latencyMs: flatLayers(3, [1, 2]),
  jobs: [{ frame: 0, injectAt, nextLayer, deadline: 300 }],
});
const KD = (injectAt: number, nextLayer = 0) => ({
  name: "KD_kws",
  latencyMs: flatLayers(3, [2, 4]),
  jobs: [{ frame: 0, injectAt, nextLayer, deadline: 300 }],
});
const oneIdle = [{ idle: true }, { idle: false }];

describe("prema tokens (Algorithm 2)", () => {
  it("a fresh job's token is its priority", () => {
    const [ht, kd] = readyJobs(buildView({ now: NOW, models: [HT(NOW), KD(NOW)] }));
    expect(premaToken(ht!, NOW)).toBe(9);
    expect(premaToken(kd!, NOW)).toBe(1);
  });

  it("grows by priority × waited / isolated latency, where waited leaves out the time the job ran", () => {
    // KD injected 50 ms ago, 2 of 3 layers done (4 ms of optimistic run time): waited 46 ms.
    const [kd] = readyJobs(buildView({ now: NOW, models: [KD(NOW - 50, 2)] }));
    expect(premaWaited(kd!, NOW)).toBe(46);
    expect(premaToken(kd!, NOW)).toBeCloseTo(1 * (1 + 46 / 6), 12); // 8.667
    // HT injected 1.5 ms ago, not started: waited 1.5 → 9 × (1 + 1.5/3) = 13.5
    const [ht] = readyJobs(buildView({ now: NOW, models: [HT(NOW - 1.5)] }));
    expect(premaToken(ht!, NOW)).toBeCloseTo(13.5, 12);
  });

  it("the threshold is the highest of 9/3/1 a token reaches", () => {
    expect([0.5, 1, 2.9, 3, 8.99, 9, 40].map(premaTier)).toEqual([0, 1, 1, 3, 3, 9, 9]);
  });
});

describe("prema", () => {
  it("a low-priority job joins the candidates only once its token reaches the high threshold; then the shorter job wins", () => {
    // KD waited 46 ms (token 8.67 < 9): only HT is a candidate although KD's remaining job (2 ms) is shorter than HT's (3 ms).
    expect(dispatchList(decideWith(prema, buildView({ now: NOW, accelerators: oneIdle, models: [HT(NOW), KD(NOW - 50, 2)] })))).toEqual([
      "HT_hand:0@0x1",
    ]);
    // KD waited 48 ms (token 1 × (1 + 48/6) = 9): both are candidates, the shortest (KD, ToGo* 2) runs.
    const d = decideWith(prema, buildView({ now: NOW, accelerators: oneIdle, models: [HT(NOW), KD(NOW - 52, 2)] }));
    expect(dispatchList(d)).toEqual(["KD_kws:0@0x1"]);
    expect(d.dispatches[0]!.scores).toEqual({ token: 9, threshold: 9, toGo: 2 });
  });

  it("on several accelerators the selection repeats without the chosen job", () => {
    const models = [
      { name: "ES_eye", latencyMs: flatLayers(3, [1, 2]), jobs: [{ frame: 0, injectAt: NOW }] }, // token 9, ToGo* 3
      { name: "GE_gaze", latencyMs: flatLayers(3, [2, 4]), jobs: [{ frame: 0, injectAt: NOW - 6, nextLayer: 2 }] }, // token 9 × (1 + 2/6) = 12, ToGo* 2
      { name: "DE_depth", latencyMs: flatLayers(3, [0.1, 0.2]), jobs: [{ frame: 0, injectAt: NOW - 0.3 }] }, // token 3 × 2 = 6, ToGo* 0.3
    ];
    // one idle: candidates at 9 are ES and GE; GE is shorter. DE (shortest of all) is below the threshold.
    expect(dispatchList(decideWith(prema, buildView({ now: NOW, accelerators: oneIdle, models })))).toEqual(["GE_gaze:0@0x1"]);
    // two idle: then ES (still at 9) before DE.
    expect(dispatchList(decideWith(prema, buildView({ now: NOW, models })))).toEqual(["GE_gaze:0@0x1", "ES_eye:0@1x1"]);
  });

  it("drops nothing itself; with drop=1 the shared admission rule drops a job that cannot make its deadline", () => {
    const hopeless = { name: "KD_kws", latencyMs: flatLayers(3, [2, 4]), jobs: [{ frame: 0, deadline: NOW + 3, nextLayer: 1 }] }; // ToGo* 4 > slack 3
    const view = buildView({ now: NOW, models: [hopeless] });
    expect(dropList(decideWith(prema, view))).toEqual([]);
    expect(dispatchList(decideWith(prema, view))).toEqual(["KD_kws:0@0x1"]);
    const fair = decideWith(prema, view, { drop: 1 });
    expect(dropList(fair)).toEqual(["KD_kws:0"]);
    expect(fair.dispatches).toEqual([]);
  });
});
