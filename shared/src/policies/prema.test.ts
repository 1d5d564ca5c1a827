/** `prema`: tokens = priority × normalised wait; candidates above the highest reached threshold; shortest first. */
import { describe, expect, it } from "vitest";
import { readyJobs } from "./common";
import { prema, premaTier, premaToken } from "./prema";
import { buildView, decideWith, dispatchList, flatLayers } from "./testing";

const NOW = 100;
// HT (high, 9 tokens): isolated 3 ms. KD (low, 1 token): isolated 6 ms.
const highVsLow = (htWaited: number, kdWaited: number) =>
  buildView({
    now: NOW,
    accelerators: [{ idle: true }, { idle: false }],
    models: [
      { name: "HT_hand", latencyMs: flatLayers(3, [1, 2]), jobs: [{ frame: 0, injectAt: NOW - htWaited, deadline: 200 }] },
      { name: "KD_kws", latencyMs: flatLayers(3, [2, 4]), jobs: [{ frame: 0, injectAt: NOW - kdWaited, deadline: 200 }] },
    ],
  });

describe("prema tokens", () => {
  it("token = priority × (now − injectAt) / isolated optimistic latency; tier = highest of 9/3/1 reached", () => {
    const [ht, kd] = readyJobs(highVsLow(1, 3));
    expect(premaToken(ht!, NOW)).toBeCloseTo((9 * 1) / 3, 12);
    expect(premaToken(kd!, NOW)).toBeCloseTo((1 * 3) / 6, 12);
    expect([0, 0.99, 1, 2.9, 3, 8.99, 9, 40].map(premaTier)).toEqual([0, 0, 1, 1, 3, 3, 9, 9]);
  });
});

describe("prema", () => {
  it("a low-priority job beats a fresh high-priority one only once its token crosses a threshold", () => {
    // KD waited 3 ms: token 0.5 < 1, nobody reaches a threshold → everyone is a candidate → shortest (HT).
    expect(dispatchList(decideWith(prema, highVsLow(0, 3)))).toEqual(["HT_hand:0@0x1"]);
    // KD waited 6 ms: token 1 → threshold 1, KD is the only candidate although it is the longer job.
    const d = decideWith(prema, highVsLow(0, 6));
    expect(dispatchList(d)).toEqual(["KD_kws:0@0x1"]);
    expect(d.dispatches[0]!.scores).toEqual({ token: 1, threshold: 1, toGo: 6 });
    // HT waited 1 ms: token 3 → threshold 3, which KD (token 1) does not reach.
    expect(dispatchList(decideWith(prema, highVsLow(1, 6)))).toEqual(["HT_hand:0@0x1"]);
  });

  it("among the candidates the shortest remaining job wins; a shorter job below the threshold waits", () => {
    const models = [
      { name: "ES_eye", latencyMs: flatLayers(3, [1, 2]), jobs: [{ frame: 0, injectAt: NOW - 3 }] }, // token 9, ToGo* 3
      { name: "GE_gaze", latencyMs: flatLayers(3, [2, 4]), jobs: [{ frame: 0, injectAt: NOW - 6, nextLayer: 2 }] }, // token 9, ToGo* 2
      { name: "DE_depth", latencyMs: flatLayers(3, [0.1, 0.2]), jobs: [{ frame: 0, injectAt: NOW - 0.3 }] }, // token 3, ToGo* 0.3
    ];
    const one = buildView({ now: NOW, accelerators: [{ idle: true }, { idle: false }], models });
    expect(dispatchList(decideWith(prema, one))).toEqual(["GE_gaze:0@0x1"]);
    // Two accelerators: the selection repeats without GE — ES (still at threshold 9) before DE.
    expect(dispatchList(decideWith(prema, buildView({ now: NOW, models })))).toEqual(["GE_gaze:0@0x1", "ES_eye:0@1x1"]);
  });

  it("never drops", () => {
    const hopeless = { name: "KD_kws", latencyMs: flatLayers(3, [2, 4]), jobs: [{ frame: 0, deadline: 1, nextLayer: 1 }] };
    const view = buildView({ now: NOW, models: [hopeless] });
    expect(decideWith(prema, view).drops).toEqual([]);
  });
});
