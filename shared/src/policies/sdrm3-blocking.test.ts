/**
 * sdrm3's blocking terms (scheduling behaviour 3; policies/sdrm3-blocking.ts) on hand-computed
 * views: the block guard holds back a block that would make a job due earlier miss, and only where
 * that job has no other accelerator as fast; an urgent job keeps the energy-efficient fit while it is
 * affordable behind the longest block another job can hold. Each rule's parameter at 0 gives the
 * decision of behaviour 2, and `scoreSdrm3` names the rule that skipped a pair (what explain shows).
 */
import { describe, expect, it } from "vitest";
import { sdrm3, scoreSdrm3 } from "./sdrm3";
import { buildView, decideWith, dispatchList } from "./testing";
import { resolvePolicy } from "./catalogue";

const DEFAULTS = resolvePolicy("sdrm3").params;

describe("block guard (blockGuard=1)", () => {
  // H is in flight on acc1 (busy until 100.5); its last layer takes 0.1 ms on acc0 and 1 ms on acc1,
  // so ToGo* = 0.1 and, due at 100.3, its laxity is 0.2 ms. G (due at 150) has 0.5-ms layers on both.
  const hand = (deadline: number, accs: Array<{ idle?: boolean; busyUntil?: number }>) =>
    buildView({
      now: 100,
      accelerators: accs,
      models: [
        { name: "H", latencyMs: [[0.1, 0.1], [1, 1]], jobs: [{ frame: 0, releaseAt: 90, deadline, nextLayer: 1, running: true }] },
        { name: "G", latencyMs: [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], jobs: [{ frame: 0, releaseAt: 100, deadline: 150 }] },
      ],
    });

  it("does not start a block longer than the laxity of a job due earlier on the accelerator that job needs: G waits", () => {
    const v = hand(100.3, [{ idle: true }, { idle: false, busyUntil: 100.5 }]);
    expect(dispatchList(decideWith(sdrm3, v))).toEqual([]);
    expect(scoreSdrm3(v, DEFAULTS).skipped.map((x) => [x.job.id, x.acc, x.by])).toEqual([["G:0", 0, "block"]]);
    // behaviour 2: G takes acc0 for 0.5 ms, and H, due in 0.3 ms, misses
    expect(dispatchList(decideWith(sdrm3, v, { blockGuard: 0 }))).toEqual(["G:0@0x1"]);
  });

  it("lets the block start when the earlier job's laxity covers it, or another idle accelerator is as fast for it", () => {
    // laxity 0.6 ≥ the 0.5-ms block
    expect(dispatchList(decideWith(sdrm3, hand(100.7, [{ idle: true }, { idle: false, busyUntil: 100.5 }])))).toEqual(["G:0@0x1"]);
    // three accelerators, H's next layer as fast on acc0 and acc2, both idle: a block on acc0 leaves H acc2
    const three = buildView({
      now: 100,
      accelerators: [{ idle: true }, { idle: false, busyUntil: 100.5 }, { idle: true }],
      models: [
        { name: "H", latencyMs: [[0.1, 0.1], [1, 1], [0.1, 0.1]], jobs: [{ frame: 0, releaseAt: 90, deadline: 100.3, nextLayer: 1, running: true }] },
        { name: "G", latencyMs: [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], jobs: [{ frame: 0, releaseAt: 100, deadline: 150 }] },
      ],
    });
    expect(dispatchList(decideWith(sdrm3, three))).toEqual(["G:0@0x1"]);
  });
});

describe("an urgent job keeps the energy-efficient fit while it is affordable (affordableUrgent=1)", () => {
  // U: one layer, 1 ms on acc0 (3 mJ), 1.1 ms on acc1 (1 mJ): the least-EDP fit is acc1. Slack 1.2 ms:
  // U = 1 / 1.2 ≈ 0.83 ≥ u* = 0.8, urgent. Its least-EDP rest (1.1 ms) fits in the slack.
  const urgent = (others: Parameters<typeof buildView>[0]["models"]) =>
    buildView({
      now: 10,
      accelerators: [{ idle: true }, { idle: true }, { idle: false, busyUntil: 11 }],
      models: [{ name: "U", latencyMs: [[1], [1.1], [5]], energyMJ: [[3], [1], [5]], jobs: [{ frame: 0, releaseAt: 10, deadline: 11.2 }] }, ...others],
    });

  it("takes acc1 (P by EDP) where behaviour 2 took the fast acc0 (P by latency)", () => {
    const v = urgent([]);
    const u = scoreSdrm3(v, DEFAULTS).candidates.find((c) => c.acc === 1)!;
    expect(u.u).toBeCloseTo(1 / 1.2, 12);
    expect(u.p).toBe(1); // acc1 has the best EDP
    expect(dispatchList(decideWith(sdrm3, v))).toEqual(["U:0@1x1"]);
    expect(dispatchList(decideWith(sdrm3, v, { affordableUrgent: 0 }))).toEqual(["U:0@0x1"]);
  });

  it("takes the fast fit when the longest block another job can hold would make the efficient fit late", () => {
    // B, in flight on acc2 and due much later, has a next block of 0.5 ms: 1.1 + 0.5 > 1.2
    const v = urgent([{ name: "B", latencyMs: [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], jobs: [{ frame: 0, releaseAt: 0, deadline: 200, nextLayer: 1, running: true }] }]);
    expect(dispatchList(decideWith(sdrm3, v))).toEqual(["U:0@0x1"]);
  });
});
