/**
 * The seeded PRNG (DESIGN.md §4.2): reproducible per (seed, stream), independent across streams,
 * exactly restorable from its state, uniform draws in [0, 1), and the Bernoulli rule `p > u`; and
 * the counter-based `drawAt` the model tasks use (frame k's draw depends on nothing but
 * seed, task, purpose and k).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Prng, drawAt, hashString } from "./prng";

const draws = (prng: Prng, n: number): number[] => Array.from({ length: n }, () => prng.next());
const u32s = (prng: Prng, n: number): number[] => Array.from({ length: n }, () => prng.nextU32());

describe("Prng", () => {
  it("pinned snapshot: seed 7, stream ES_RITNet (xoshiro128** seeded by splitmix32 of FNV-1a ^ seed·0x9e3779b1)", () => {
    // Computed once and checked against an independent implementation; an accidental change of the
    // algorithm, the seeding or the hash breaks this.
    const prng = Prng.forStream(7, "ES_RITNet");
    expect(prng.state()).toEqual([2009976737, 484712335, 72766402, 3738672657]);
    expect(u32s(prng, 3)).toEqual([214307848, 3038265030, 3347119106]);
    expect(draws(Prng.forStream(7, "ES_RITNet"), 3)).toEqual([0.04989743418991566, 0.7074012025259435, 0.7793118958361447]);
  });

  it("hashString is FNV-1a 32-bit", () => {
    expect(hashString("")).toBe(0x811c9dc5);
    expect(hashString("a")).toBe(0xe40c292c);
    expect(hashString("ES_RITNet")).toBe(1398197648);
  });

  it("same seed and stream give the same sequence", () => {
    expect(u32s(Prng.forStream(42, "GE_FBNet_C"), 100)).toEqual(u32s(Prng.forStream(42, "GE_FBNet_C"), 100));
  });

  it("different streams, and different seeds, give different sequences", () => {
    const a = u32s(Prng.forStream(42, "GE_FBNet_C"), 10);
    expect(u32s(Prng.forStream(42, "ES_RITNet"), 10)).not.toEqual(a);
    expect(u32s(Prng.forStream(43, "GE_FBNet_C"), 10)).not.toEqual(a);
    // no two of many streams share their first draw
    const firsts = new Set(Array.from({ length: 200 }, (_, i) => Prng.forStream(1, `model_${i}`).nextU32()));
    expect(firsts.size).toBe(200);
  });

  it("adding a stream does not change another (split per model)", () => {
    const alone = draws(Prng.forStream(9, "HT_hand_graph_cnn_half"), 50);
    const ht = Prng.forStream(9, "HT_hand_graph_cnn_half");
    const es = Prng.forStream(9, "ES_RITNet");
    const interleaved: number[] = [];
    for (let i = 0; i < 50; i++) {
      es.next();
      Prng.forStream(9, `extra_${i}`).next();
      interleaved.push(ht.next());
      es.bernoulli(0.5);
    }
    expect(interleaved).toEqual(alone);
  });

  it("a saved state restores and continues identically", () => {
    const prng = Prng.forStream(3, "KD_res8_narrow");
    draws(prng, 17);
    const saved = prng.state();
    const expected = u32s(prng, 40);
    expect(u32s(Prng.fromState(saved), 40)).toEqual(expected);
    // the saved state is a copy: drawing on did not change it
    expect(Prng.fromState(saved).state()).toEqual(saved);
    // it survives a JSON round trip (it is carried in actor snapshots)
    expect(u32s(Prng.fromState(JSON.parse(JSON.stringify(saved))), 40)).toEqual(expected);
  });

  it("next() is in [0, 1) and nextU32() a 32-bit unsigned integer", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.string({ maxLength: 20 }), (seed, stream) => {
        const prng = Prng.forStream(seed, stream);
        expect(prng.state().some((w) => w !== 0)).toBe(true);
        for (let i = 0; i < 20; i++) {
          const u = prng.next();
          expect(u >= 0 && u < 1).toBe(true);
          const x = prng.nextU32();
          expect(Number.isInteger(x) && x >= 0 && x <= 0xffffffff).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("next() is roughly uniform (mean and deciles over 100 000 draws)", () => {
    const prng = Prng.forStream(1, "uniformity");
    const bins = new Array<number>(10).fill(0);
    let sum = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const u = prng.next();
      sum += u;
      bins[Math.floor(u * 10)]!++;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    for (const b of bins) expect(Math.abs(b - n / 10)).toBeLessThan(600);
  });

  it("bernoulli(1) is always true, bernoulli(0) always false, and each consumes exactly one draw", () => {
    const prng = Prng.forStream(5, "bern");
    const twin = Prng.forStream(5, "bern");
    for (let i = 0; i < 1000; i++) {
      expect(prng.bernoulli(1)).toBe(true);
      expect(prng.bernoulli(0)).toBe(false);
      twin.next();
      twin.next();
    }
    expect(prng.state()).toEqual(twin.state());
  });

  it("bernoulli(p) is the rule p > next()", () => {
    const prng = Prng.forStream(11, "rule");
    const twin = Prng.forStream(11, "rule");
    let hits = 0;
    for (let i = 0; i < 10_000; i++) {
      const fired = prng.bernoulli(0.3);
      expect(fired).toBe(0.3 > twin.next());
      if (fired) hits++;
    }
    expect(Math.abs(hits / 10_000 - 0.3)).toBeLessThan(0.02);
  });
});

describe("drawAt (counter-based draws)", () => {
  it("pinned snapshot: seed 7, ES_RITNet trigger draws of frames 0..2 and the phase draw", () => {
    // Computed once and checked against an independent implementation (FNV-1a of
    // "<stream>\0<purpose>" ^ seed·0x9e3779b1 ^ index·0x85ebca77, second splitmix32 output / 2^32).
    expect([0, 1, 2].map((k) => drawAt(7, "ES_RITNet", "trigger", k))).toEqual([
      0.8629838658962399, 0.24891859386116266, 0.8635164299048483,
    ]);
    expect(drawAt(7, "ES_RITNet", "phase", 0)).toBe(0.6131539645139128);
  });

  it("is a pure function of (seed, stream, purpose, index): same inputs, same draw, in any order", () => {
    const forward = Array.from({ length: 50 }, (_, k) => drawAt(3, "GE_FBNet_C", "trigger", k));
    const backward = Array.from({ length: 50 }, (_, i) => drawAt(3, "GE_FBNet_C", "trigger", 49 - i)).reverse();
    expect(backward).toEqual(forward);
  });

  it("differs across seeds, streams, purposes and indices", () => {
    const base = drawAt(3, "GE_FBNet_C", "trigger", 5);
    expect(drawAt(4, "GE_FBNet_C", "trigger", 5)).not.toBe(base);
    expect(drawAt(3, "ES_RITNet", "trigger", 5)).not.toBe(base);
    expect(drawAt(3, "GE_FBNet_C", "jitter", 5)).not.toBe(base);
    expect(drawAt(3, "GE_FBNet_C", "trigger", 6)).not.toBe(base);
    const many = new Set(Array.from({ length: 1000 }, (_, k) => drawAt(1, "m", "trigger", k)));
    expect(many.size).toBe(1000);
  });

  it("is in [0, 1) and roughly uniform", () => {
    fc.assert(
      fc.property(fc.nat({ max: 0xffffffff }), fc.string({ maxLength: 12 }), fc.nat(), (seed, stream, k) => {
        const u = drawAt(seed, stream, "trigger", k);
        expect(u >= 0 && u < 1).toBe(true);
      }),
      { numRuns: 500 },
    );
    let sum = 0;
    let below = 0;
    for (let k = 0; k < 20_000; k++) {
      const u = drawAt(9, "uniformity", "trigger", k);
      sum += u;
      if (u < 0.25) below++;
    }
    expect(Math.abs(sum / 20_000 - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(below / 20_000 - 0.25)).toBeLessThan(0.015);
  });
});
