/**
 * The shared admission rule (sdrm3's drop rule): one function, the same decisions for sdrm3 and for
 * every baseline with drop=1; refused by the policies where it makes no sense.
 */
import { describe, expect, it } from "vitest";
import { admissionDrop, dropThreshold, shouldDrop } from "./admission";
import { POLICIES, resolvePolicy } from "./catalogue";
import { readyJobs } from "./common";
import { sdrm3 } from "./sdrm3";
import { buildView, decideWith, dispatchList, dropList, flatLayers } from "./testing";

const BASELINES = ["fcfs", "rr", "edf", "llf", "sjf", "prema", "planaria", "veltair", "herald"];

// now 2000; ES: 3 layers of 2 ms at best (ToGo* from layer l: 6 − 2l).
const view = (accelerators: number | Array<{ idle: boolean }> = 2) =>
  buildView({
    now: 2000,
    accelerators,
    models: [
      {
        name: "ES_eye",
        latencyMs: flatLayers(3, [2, 3]),
        lastOnTimeAt: 1990, // not starving
        jobs: [
          { frame: 19, deadline: 2005, nextLayer: 0 }, // ToGo* 6 > slack 5: drop
          { frame: 20, deadline: 2004, nextLayer: 1, running: true }, // ToGo* 4 = slack 4, and in flight anyway: kept
          { frame: 21, deadline: 2004, nextLayer: 1 }, // ToGo* 4 = slack 4: kept (not strictly greater)
          { frame: 22, deadline: 2003, nextLayer: 1 }, // started, ToGo* 4 > slack 3: drop
        ],
      },
      {
        name: "KD_kws",
        latencyMs: flatLayers(2, [1, 4]),
        lastOnTimeAt: null, // starving (no frame on time for ≥ starveMs): threshold max(γ, 1) = 1 at γ = 1
        jobs: [
          { frame: 5, deadline: 2001.5 }, // ToGo* 2 > slack 1.5: drop
          { frame: 6, deadline: 2100 }, // kept
        ],
      },
    ],
  });

describe("the admission rule", () => {
  it("drops a job not in flight when ToGo* > threshold × slack; threshold γ, max(γ, 1) when starving", () => {
    expect(shouldDrop(5, 4, 1, false)).toBe(true);
    expect(shouldDrop(4, 4, 1, false)).toBe(false);
    expect(dropThreshold(0.5, true)).toBe(1);
    expect(dropThreshold(0.5, false)).toBe(0.5);
    expect(dropThreshold(2, true)).toBe(2);
    const v = view();
    const es = v.models.find((m) => m.name === "ES_eye")!;
    expect(admissionDrop(es, es.queue[1]!, v.now, 1, false)).toBeUndefined(); // in flight
    expect(admissionDrop(es, es.queue[0]!, v.now, 1, false)).toEqual({
      job: "ES_eye:19",
      reason: "ToGo* 6.000 ms > 1 x slack 5.000 ms",
      scores: { toGo: 6, slack: 5, threshold: 1 },
    });
  });

  it("sdrm3 and every baseline with drop=1 drop exactly the same jobs, for the same reasons", () => {
    for (const accelerators of [2, [{ idle: false }, { idle: false }]]) {
      const v = view(accelerators);
      const expected = ["ES_eye:19", "ES_eye:22", "KD_kws:5"];
      const reference = decideWith(sdrm3, v).drops;
      expect(reference.map((d) => d.job)).toEqual(expected);
      for (const name of BASELINES) {
        const d = resolvePolicy(name, { drop: 1 }).decide(v);
        expect(d.drops, name).toEqual(reference);
        for (const x of d.dispatches) expect(expected, `${name} dispatched a dropped job`).not.toContain(x.job);
      }
    }
  });

  it("with drop=0 (the default) a baseline drops nothing and decides as published", () => {
    const v = view();
    for (const name of BASELINES) {
      expect(resolvePolicy(name).params.drop, name).toBe(0);
      expect(dropList(resolvePolicy(name).decide(v)), name).toEqual([]);
    }
  });

  it("with drop=1 a baseline decides as it would on the view without the dropped jobs", () => {
    const v = view();
    const without = buildView({
      now: 2000,
      models: [
        { name: "ES_eye", latencyMs: flatLayers(3, [2, 3]), lastOnTimeAt: 1990, jobs: [
          { frame: 20, deadline: 2004, nextLayer: 1, running: true },
          { frame: 21, deadline: 2004, nextLayer: 1 },
        ] },
        { name: "KD_kws", latencyMs: flatLayers(2, [1, 4]), jobs: [{ frame: 6, deadline: 2100 }] },
      ],
    });
    expect(readyJobs(without).map((r) => r.job.id)).toEqual(["ES_eye:21", "KD_kws:6"]);
    for (const name of BASELINES) {
      expect(dispatchList(resolvePolicy(name, { drop: 1 }).decide(v)), name).toEqual(dispatchList(resolvePolicy(name).decide(without)));
    }
  });

  it("idle, shed and xrbench refuse drop, naming it", () => {
    for (const name of ["idle", "shed", "xrbench"]) {
      expect(() => resolvePolicy(name, { drop: 1 }), name).toThrow(`policy '${name}' has no parameter 'drop'`);
    }
    for (const name of BASELINES) expect(POLICIES.get(name)!.params.map((p) => p.name), name).toContain("drop");
  });
});
